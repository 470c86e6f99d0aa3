// Mixture-of-Experts layer (LibTorch; include only from torch code).
//
//   gate:     logits = W_g x (+ N(0,1) * softplus(W_n x) with noisy gating, in
//             training mode); probs = softmax(logits) over unmasked experts.
//             Hierarchical (groups > 1): p(e) = softmax(group logits)[g(e)] *
//             softmax(expert logits within g(e))[e].
//   routing:  top-k (1 or 2) of probs; k = 2 weights renormalized to sum 1
//             (normalize_topk). Capacity = ceil(cf * T * k / E) per expert
//             (cf > 0); first choices are placed before second choices, in
//             token order; assignments over capacity are dropped and counted.
//   aux loss: Switch/GShard load balancing E * sum_e f_e * P_e, f_e = share
//             of tokens whose first choice is e, P_e = mean gate prob of e;
//             returned unweighted (aux_loss) — the caller multiplies by
//             aux_loss_weight (the model does).
//   experts:  each expert gets its tokens in one call (remote ones
//             concurrently). A failing expert is masked for the batch: each
//             token's surviving weights are rescaled to the mass the token had
//             before the failure; a token left with no expert gets zero output
//             (the model's residual carries it). If fewer than
//             min(k_min, experts called) experts answered, Forward returns
//             Unavailable and the caller should retry the batch.
// `masked` marks experts known to be down: they get probability 0 and no
// tokens (the caller's router can so avoid a dead expert without failing).
// Thread-safety: like any torch module — one thread drives Forward/backward.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "nn/expert.h"
#include "nn/moe_config.h"

namespace swarm::nn {

struct Routing {
  torch::Tensor probs;     // [T, E] gate probabilities (differentiable)
  torch::Tensor indices;   // [T, k] int64 chosen experts, best first
  torch::Tensor weights;   // [T, k] combine weights (differentiable)
  torch::Tensor kept;      // [T, k] bool: assignment within capacity
  torch::Tensor aux_loss;  // scalar, unweighted
  int64_t capacity = 0;    // per expert; 0 = unlimited
  int64_t assignments_dropped = 0;
  int64_t tokens_dropped = 0;  // tokens with every assignment dropped
};

struct MoeStats {
  int64_t tokens = 0;
  int64_t assignments_dropped = 0;  // over capacity
  int64_t tokens_dropped = 0;       // no assignment within capacity
  int64_t tokens_unserved = 0;      // every assigned expert failed
  std::vector<int64_t> expert_tokens;  // tokens sent to each expert
  std::vector<int64_t> failed_experts;
  std::vector<std::string> failure_reasons;  // parallel to failed_experts
  int64_t experts_called = 0;
};

struct MoeOutput {
  torch::Tensor y;         // [T, d]
  torch::Tensor aux_loss;  // scalar, unweighted
  MoeStats stats;
};

class MoeLayerImpl : public torch::nn::Module {
 public:
  // `experts.size()` must equal cfg.num_experts (checked: SWARM_ASSERT, a
  // programming error). cfg must be Validate()d.
  MoeLayerImpl(const MoeConfig& cfg, std::vector<std::shared_ptr<ExpertBackend>> experts);

  // x: [T, d_model]. masked: empty or num_experts flags.
  StatusOr<MoeOutput> Forward(const torch::Tensor& x, const std::vector<bool>& masked = {});
  // Gate + routing + capacity + aux loss, without calling experts.
  StatusOr<Routing> Route(const torch::Tensor& x, const std::vector<bool>& masked = {});

  torch::nn::Linear& gate() { return gate_; }
  torch::nn::Linear& group_gate() { return group_gate_; }
  const MoeConfig& config() const { return cfg_; }
  int64_t num_experts() const { return cfg_.num_experts; }
  ExpertBackend& expert(int64_t e) { return *experts_[static_cast<size_t>(e)]; }

 private:
  torch::Tensor GateProbs(const torch::Tensor& x, const torch::Tensor& mask);
  MoeConfig cfg_;
  std::vector<std::shared_ptr<ExpertBackend>> experts_;
  torch::nn::Linear gate_{nullptr}, noise_gate_{nullptr}, group_gate_{nullptr};
};
TORCH_MODULE(MoeLayer);

// num_experts local FfnExperts sized from cfg.
std::vector<std::shared_ptr<ExpertBackend>> MakeFfnExperts(const MoeConfig& cfg);

}  // namespace swarm::nn
