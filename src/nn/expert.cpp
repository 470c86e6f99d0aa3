#include "nn/expert.h"

#include <cstring>
#include <future>

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

StatusOr<torch::Tensor> CheckedOutput(StatusOr<HostTensor> y, const torch::Tensor& x) {
  if (!y.ok()) return y.status();
  auto t = ToTorch(*y);
  if (!t.ok()) return t.status();
  if (t->sizes() != x.sizes()) {
    return absl::DataLossError(absl::StrCat(
        "remote expert returned shape [", absl::StrJoin(t->sizes().vec(), ","),
        "] for input [", absl::StrJoin(x.sizes().vec(), ","), "]"));
  }
  return *t;
}

// Several remote experts behind one autograd node, so that their Backward
// calls run concurrently (the autograd engine runs nodes one at a time).
// Inputs: xs (differentiable), ys (detached outputs), calls (RemoteCall*).
class RemoteGroupFunction : public torch::autograd::Function<RemoteGroupFunction> {
 public:
  static tensor_list forward(AutogradContext* ctx, at::TensorList xs, at::TensorList ys,
                             std::vector<int64_t> calls) {
    ctx->save_for_backward(xs.vec());
    ctx->saved_data["calls"] = calls;
    tensor_list out;
    for (const auto& y : ys) out.push_back(y.clone());
    return out;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const tensor_list xs = ctx->get_saved_variables();
    const std::vector<int64_t> calls = ctx->saved_data["calls"].toIntVector();
    const size_t n = xs.size();
    std::vector<std::future<torch::Tensor>> pending(n);
    for (size_t i = 0; i < n; ++i) {
      auto* call = reinterpret_cast<RemoteCall*>(calls[i]);
      torch::Tensor x = xs[i], g = grad_outputs[i];
      pending[i] = std::async(std::launch::async, [call, x, g]() {
        if (call->stats) ++call->stats->backward_calls;
        if (!g.defined()) return torch::zeros_like(x);
        auto r = call->client->Backward(ToHost(x), ToHost(g));
        StatusOr<torch::Tensor> t = r.ok() ? ToTorch(*r) : StatusOr<torch::Tensor>(r.status());
        if (t.ok() && t->sizes() == x.sizes()) return *t;
        if (call->stats) ++call->stats->backward_failures;
        return torch::zeros_like(x);
      });
    }
    tensor_list grads(2 * n + 1);
    for (size_t i = 0; i < n; ++i) grads[i] = pending[i].get();
    return grads;
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
  RemoteCall* call() { return &call_; }
  RemoteExpertStats* stats() { return stats_.get(); }

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

std::vector<StatusOr<torch::Tensor>> ForwardRemoteConcurrently(
    const std::vector<ExpertBackend*>& backends, const std::vector<torch::Tensor>& xs) {
  SWARM_ASSERT(backends.size() == xs.size());
  const size_t n = backends.size();
  const bool grad = torch::GradMode::is_enabled();
  std::vector<StatusOr<torch::Tensor>> out(n, absl::InternalError("not called"));
  std::vector<std::future<StatusOr<torch::Tensor>>> pending(n);
  std::vector<RemoteExpert*> grouped(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    auto* r = dynamic_cast<RemoteExpert*>(backends[i]);
    grouped[i] = r;
    torch::Tensor x = xs[i];
    ExpertBackend* b = backends[i];
    pending[i] = std::async(std::launch::async, [r, b, x, grad]() -> StatusOr<torch::Tensor> {
      torch::AutoGradMode mode(grad);
      try {
        if (!r) return b->Forward(x);  // another remote kind: its own autograd
        if (r->stats()) ++r->stats()->forward_calls;
        auto t = CheckedOutput(r->call()->client->Forward(ToHost(x)), x);
        if (!t.ok() && r->stats()) ++r->stats()->forward_failures;
        return t;
      } catch (const std::exception& e) {
        return absl::InternalError(absl::StrCat("remote expert threw: ", e.what()));
      }
    });
  }
  for (size_t i = 0; i < n; ++i) out[i] = pending[i].get();
  // One autograd node for every grouped expert that answered.
  std::vector<size_t> idx;
  std::vector<torch::Tensor> gx, gy;
  std::vector<int64_t> calls;
  for (size_t i = 0; i < n; ++i) {
    if (!grouped[i] || !out[i].ok() || !xs[i].requires_grad()) continue;
    idx.push_back(i);
    gx.push_back(xs[i]);
    gy.push_back(*out[i]);
    calls.push_back(reinterpret_cast<int64_t>(grouped[i]->call()));
  }
  if (grad && !idx.empty()) {
    tensor_list ys = RemoteGroupFunction::apply(at::TensorList(gx), at::TensorList(gy), calls);
    for (size_t j = 0; j < idx.size(); ++j) out[idx[j]] = ys[j];
  }
  return out;
}

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
