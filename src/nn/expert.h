// Experts as the MoE layer sees them (LibTorch; include only from torch code).
//
// ExpertBackend is one expert: Forward(x [tokens, d]) -> [tokens, d] with
// autograd flowing back to x. A failing Forward (non-OK) makes the layer mask
// that expert for the batch. Two implementations:
//  - FfnExpert: a local FFN (Linear-GELU-...-Linear); its parameters are part
//    of the model (module() is registered by the layer) and trained by the
//    caller's optimizer / aggregator.
//  - MakeRemoteExpert(client): an expert on another peer behind an
//    ExpertClient (expert_client.h). Its output is differentiable w.r.t. x via
//    a custom autograd node that calls client->Backward; a failing Backward
//    yields a zero input-gradient and is counted in RemoteExpertStats (the
//    batch's other gradients are still applied). The backend (and client) must
//    outlive every graph built through it (the layer owns it: keep the layer).
// Thread-safety: FfnExpert follows torch modules (one training thread);
// remote backends are as thread-safe as their client.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "common/status.h"
#include "nn/expert_client.h"

namespace swarm::nn {

class ExpertBackend {
 public:
  virtual ~ExpertBackend() = default;
  virtual StatusOr<torch::Tensor> Forward(const torch::Tensor& x) = 0;
  // The local module holding trainable parameters, or nullptr (remote).
  virtual std::shared_ptr<torch::nn::Module> module() { return nullptr; }
  // Remote backends are called concurrently by the layer; local ones inline.
  virtual bool is_remote() const { return false; }
};

class FfnExpert final : public ExpertBackend {
 public:
  // d -> hidden (GELU) x layers -> d.
  FfnExpert(int64_t d_model, int64_t hidden, int64_t layers);
  StatusOr<torch::Tensor> Forward(const torch::Tensor& x) override;
  std::shared_ptr<torch::nn::Module> module() override { return net_.ptr(); }

 private:
  torch::nn::Sequential net_;
};

struct RemoteExpertStats {
  std::atomic<int64_t> forward_calls{0}, forward_failures{0};
  std::atomic<int64_t> backward_calls{0}, backward_failures{0};
};

std::shared_ptr<ExpertBackend> MakeRemoteExpert(std::shared_ptr<ExpertClient> client,
                                                std::shared_ptr<RemoteExpertStats> stats = nullptr);

// Calls remote backends concurrently (one thread per call) and returns each
// output (or its error) in order. Outputs of MakeRemoteExpert backends share
// one autograd node whose backward runs their client->Backward calls
// concurrently too (failures: zero input-gradient, counted in the stats).
// Other remote backends are called through their own Forward.
std::vector<StatusOr<torch::Tensor>> ForwardRemoteConcurrently(
    const std::vector<ExpertBackend*>& backends, const std::vector<torch::Tensor>& xs);

// Host <-> torch conversions (float32, contiguous copy). ToTorch checks that
// shape and data agree.
HostTensor ToHost(const torch::Tensor& t);
StatusOr<torch::Tensor> ToTorch(const HostTensor& h);

}  // namespace swarm::nn
