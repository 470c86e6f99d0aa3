#include "torch_aggregators.h"

#include <torch/torch.h>

#include <cstring>
#include <stdexcept>

namespace swarm::bench {

struct TorchAggregators::Impl {
  torch::Tensor x;  // [n, d]
};

TorchAggregators::TorchAggregators(const float* const* inputs, size_t n, size_t d, int threads)
    : impl_(new Impl) {
  torch::set_num_threads(threads);
  impl_->x = torch::empty({static_cast<int64_t>(n), static_cast<int64_t>(d)}, torch::kFloat32);
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(impl_->x[static_cast<int64_t>(i)].data_ptr<float>(), inputs[i], d * sizeof(float));
  }
}

TorchAggregators::~TorchAggregators() { delete impl_; }

namespace {
torch::Tensor SortedMedian(const torch::Tensor& x) {
  const int64_t n = x.size(0);
  auto sorted = std::get<0>(x.sort(0));
  if (n % 2 == 1) return sorted[n / 2];
  return 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}
}  // namespace

double TorchAggregators::Run(const std::string& name, int f, int iterations) {
  torch::NoGradGuard no_grad;
  const auto& x = impl_->x;
  const int64_t n = x.size(0);
  torch::Tensor out;
  if (name == "mean") {
    out = x.mean(0);
  } else if (name == "median") {
    out = SortedMedian(x);
  } else if (name == "trimmed_mean") {
    out = std::get<0>(x.sort(0)).narrow(0, f, n - 2 * f).mean(0);
  } else if (name == "centered_clip") {
    // BTARD-style: start at the median, tau = median distance, L clipped steps.
    auto v = SortedMedian(x);
    auto tau = (x - v).norm(2, 1).median();
    for (int it = 0; it < iterations; ++it) {
      auto diff = x - v;
      auto norms = diff.norm(2, 1);
      auto w = torch::clamp_max(tau / norms, 1.0);
      v = v + (diff * w.unsqueeze(1)).mean(0);
    }
    out = v;
  } else {
    throw std::invalid_argument("unknown aggregator " + name);
  }
  return out.sum().item<double>();
}

}  // namespace swarm::bench
