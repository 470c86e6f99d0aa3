#include "nn/expert.h"

#include <cstring>

#include "absl/strings/str_join.h"

namespace swarm::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct RemoteCall {
  ExpertClient* client;
  RemoteExpertStats* stats;
};

// out = client.Forward(x); dL/dx = client.Backward(x, dL/dout), zeros on failure.
class RemoteExpertFunction : public torch::autograd::Function<RemoteExpertFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor y_detached,
                               int64_t call_ptr) {
    ctx->save_for_backward({x});
    ctx->saved_data["call"] = call_ptr;
    return y_detached.clone();
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    auto* call = reinterpret_cast<RemoteCall*>(ctx->saved_data["call"].toInt());
    torch::Tensor grad_in = torch::zeros_like(x);
    if (call->stats) ++call->stats->backward_calls;
    auto g = call->client->Backward(ToHost(x), ToHost(grad_outputs[0]));
    bool ok = g.ok();
    if (ok) {
      auto t = ToTorch(*g);
      ok = t.ok() && t->sizes() == x.sizes();
      if (ok) grad_in = *t;
    }
    if (!ok && call->stats) ++call->stats->backward_failures;
    return {grad_in, torch::Tensor(), torch::Tensor()};
  }
};

class RemoteExpert final : public ExpertBackend {
 public:
  RemoteExpert(std::shared_ptr<ExpertClient> client, std::shared_ptr<RemoteExpertStats> stats)
      : client_(std::move(client)), stats_(std::move(stats)), call_{client_.get(), stats_.get()} {}

  StatusOr<torch::Tensor> Forward(const torch::Tensor& x) override {
    if (stats_) ++stats_->forward_calls;
    auto fail = [&](Status s) {
      if (stats_) ++stats_->forward_failures;
      return s;
    };
    auto y = client_->Forward(ToHost(x));
    if (!y.ok()) return fail(y.status());
    auto t = ToTorch(*y);
    if (!t.ok()) return fail(t.status());
    if (t->sizes() != x.sizes()) {
      return fail(absl::DataLossError(absl::StrCat(
          "remote expert returned shape [", absl::StrJoin(t->sizes().vec(), ","),
          "] for input [", absl::StrJoin(x.sizes().vec(), ","), "]")));
    }
    if (!x.requires_grad()) return *t;
    return RemoteExpertFunction::apply(x, *t, reinterpret_cast<int64_t>(&call_));
  }
  bool is_remote() const override { return true; }

 private:
  std::shared_ptr<ExpertClient> client_;
  std::shared_ptr<RemoteExpertStats> stats_;
  RemoteCall call_;
};

}  // namespace

FfnExpert::FfnExpert(int64_t d_model, int64_t hidden, int64_t layers) {
  net_->push_back(torch::nn::Linear(d_model, hidden));
  net_->push_back(torch::nn::GELU());
  for (int64_t i = 1; i < layers; ++i) {
    net_->push_back(torch::nn::Linear(hidden, hidden));
    net_->push_back(torch::nn::GELU());
  }
  net_->push_back(torch::nn::Linear(hidden, d_model));
}

StatusOr<torch::Tensor> FfnExpert::Forward(const torch::Tensor& x) { return net_->forward(x); }

std::shared_ptr<ExpertBackend> MakeRemoteExpert(std::shared_ptr<ExpertClient> client,
                                                std::shared_ptr<RemoteExpertStats> stats) {
  return std::make_shared<RemoteExpert>(std::move(client), std::move(stats));
}

HostTensor ToHost(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  HostTensor h;
  h.shape = c.sizes().vec();
  h.data.resize(static_cast<size_t>(c.numel()));
  if (c.numel() > 0) std::memcpy(h.data.data(), c.data_ptr<float>(), h.data.size() * sizeof(float));
  return h;
}

StatusOr<torch::Tensor> ToTorch(const HostTensor& h) {
  for (int64_t d : h.shape) {
    if (d < 0) return absl::InvalidArgumentError(absl::StrCat("tensor dim ", d, " is negative"));
  }
  if (h.numel() != static_cast<int64_t>(h.data.size())) {
    return absl::InvalidArgumentError(absl::StrCat("tensor shape has ", h.numel(),
                                                   " elements, data has ", h.data.size()));
  }
  torch::Tensor t = torch::empty(h.shape, torch::kFloat32);
  if (!h.data.empty()) std::memcpy(t.data_ptr<float>(), h.data.data(), h.data.size() * sizeof(float));
  return t;
}

}  // namespace swarm::nn
