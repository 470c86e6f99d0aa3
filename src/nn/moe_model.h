// The MoE classifier used for `swarm train` on tabular data (digits):
//   h = GELU(W_in x);  h = h + MoE(LayerNorm(h));  logits = W_out h
// LibTorch; include only from torch code. Not thread-safe (a torch module).
//
// shared_parameters() are the non-expert ones (input, norm, gate, head) that
// trainer peers average; expert_parameters() belong to local FfnExperts (empty
// for remote experts, whose hosts own them). parameters() = shared then
// expert, in a fixed order (the flat layout the trainers agree on).
#pragma once

#include <memory>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "nn/dataset.h"
#include "nn/moe_layer.h"

namespace swarm::nn {

struct ClassifierOutput {
  torch::Tensor logits;    // [T, classes]
  torch::Tensor aux_loss;  // scalar, already multiplied by aux_loss_weight
  MoeStats stats;
};

class MoeClassifierImpl : public torch::nn::Module {
 public:
  // cfg.input_dim and cfg.num_classes must be > 0 (resolve them from the data
  // first: ResolveDims); experts.size() == cfg.num_experts.
  MoeClassifierImpl(const MoeConfig& cfg, std::vector<std::shared_ptr<ExpertBackend>> experts);
  StatusOr<ClassifierOutput> Forward(const torch::Tensor& x, const std::vector<bool>& masked = {});
  std::vector<torch::Tensor> shared_parameters();
  std::vector<torch::Tensor> expert_parameters();
  std::vector<torch::Tensor> ordered_parameters();  // shared then expert
  MoeLayer& moe() { return moe_; }

 private:
  MoeConfig cfg_;
  torch::nn::Linear in_{nullptr}, head_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  MoeLayer moe_{nullptr};
};
TORCH_MODULE(MoeClassifier);

// Fills input_dim / num_classes left at 0 from the data; a non-zero value that
// disagrees with the data is InvalidArgument naming the key.
StatusOr<MoeConfig> ResolveDims(MoeConfig cfg, const Dataset& data);

struct DatasetTensors {
  torch::Tensor x;  // [N, F] float32
  torch::Tensor y;  // [N] int64
};
DatasetTensors ToTensors(const Dataset& d);

// Fraction of rows whose argmax logit equals the label (eval mode, no grad;
// restores the module's training flag). Errors from Forward propagate.
StatusOr<double> Accuracy(MoeClassifier& model, const DatasetTensors& data);

}  // namespace swarm::nn
