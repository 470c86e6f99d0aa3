// Multi-Krum, CenteredClip and bucketing (see aggregator.h for the contracts).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "train/aggregator.h"

namespace swarm::train {
namespace {

double SquaredDistance(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t j = 0; j < d; ++j) {
    const double t = static_cast<double>(a[j]) - b[j];
    s += t * t;
  }
  return s;
}

}  // namespace

Status MultiKrumAggregator::AggregateValid(std::span<const Contribution> in,
                                           std::span<float> out, AggregationReport& report) {
  const int n = static_cast<int>(in.size());
  const int neighbours = n - f_ - 2;
  if (neighbours < 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "multi_krum: needs n >= f + 3 contributions (f = ", f_, "), got n = ", n));
  }
  const int m = m_ < 0 ? n - f_ : m_;
  if (m < 1 || m > n) {
    return absl::FailedPreconditionError(
        absl::StrCat("multi_krum: select m = ", m, " not in [1, n = ", n, "]"));
  }
  const size_t d = out.size();
  std::vector<double> dist(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) {
    for (int k = i + 1; k < n; ++k) {
      const double s = SquaredDistance(in[i].data(), in[k].data(), d);
      dist[i * n + k] = dist[k * n + i] = s;
    }
  }
  std::vector<double> score(n);
  std::vector<double> row;
  for (int i = 0; i < n; ++i) {
    row.clear();
    for (int k = 0; k < n; ++k) {
      if (k != i) row.push_back(dist[i * n + k]);
    }
    std::partial_sort(row.begin(), row.begin() + neighbours, row.end());
    score[i] = std::accumulate(row.begin(), row.begin() + neighbours, 0.0);
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Stable: ties go to the lower index, so results are reproducible.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return score[a] < score[b]; });
  order.resize(m);
  std::sort(order.begin(), order.end());
  report.selected = order;
  std::fill(out.begin(), out.end(), 0.0f);
  for (size_t idx : order) {
    const float* x = in[idx].data();
    for (size_t j = 0; j < d; ++j) out[j] += x[j];
  }
  const float inv = 1.0f / static_cast<float>(m);
  for (auto& v : out) v *= inv;
  return absl::OkStatus();
}

Status CenteredClipAggregator::AggregateValid(std::span<const Contribution> in,
                                              std::span<float> out, AggregationReport& report) {
  const size_t n = in.size();
  const size_t d = out.size();
  std::vector<float> v(d);
  if (from_previous_ && previous_.size() == d) {
    v = previous_;
  } else {
    MedianAggregator median;
    SWARM_RETURN_IF_ERROR(median.Aggregate(in, v));
  }
  double tau = tau_;
  std::vector<double> dist(n);
  if (tau <= 0) {
    for (size_t i = 0; i < n; ++i) dist[i] = std::sqrt(SquaredDistance(in[i].data(), v.data(), d));
    std::vector<double> sorted = dist;
    std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.end());
    tau = sorted[n / 2];
  }
  report.clip_tau = tau;
  std::vector<double> acc(d);
  for (int it = 0; it < iterations_; ++it) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      const float* x = in[i].data();
      const double norm = std::sqrt(SquaredDistance(x, v.data(), d));
      // tau == 0 (all inputs identical to the start) means nothing to move.
      const double w = norm <= tau ? 1.0 : (norm > 0 ? tau / norm : 0.0);
      if (w == 0.0) continue;
      for (size_t j = 0; j < d; ++j) acc[j] += w * (static_cast<double>(x[j]) - v[j]);
    }
    const double inv = 1.0 / static_cast<double>(n);
    for (size_t j = 0; j < d; ++j) v[j] = static_cast<float>(v[j] + acc[j] * inv);
    report.clip_iterations = it + 1;
  }
  std::copy(v.begin(), v.end(), out.begin());
  if (from_previous_) previous_ = v;
  return absl::OkStatus();
}

Status BucketingAggregator::AggregateValid(std::span<const Contribution> in,
                                           std::span<float> out, AggregationReport& report) {
  const size_t n = in.size();
  const size_t d = out.size();
  std::vector<size_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  rng_.Shuffle(perm);
  const size_t s = static_cast<size_t>(s_);
  const size_t buckets = (n + s - 1) / s;
  std::vector<std::vector<float>> means(buckets, std::vector<float>(d, 0.0f));
  for (size_t b = 0; b < buckets; ++b) {
    const size_t lo = b * s, hi = std::min(n, lo + s);
    for (size_t k = lo; k < hi; ++k) {
      const float* x = in[perm[k]].data();
      for (size_t j = 0; j < d; ++j) means[b][j] += x[j];
    }
    const float inv = 1.0f / static_cast<float>(hi - lo);
    for (auto& v : means[b]) v *= inv;
  }
  std::vector<Contribution> views(means.begin(), means.end());
  AggregationReport inner_report;
  SWARM_RETURN_IF_ERROR(inner_->Aggregate(views, out, &inner_report));
  report.clip_iterations = inner_report.clip_iterations;
  report.clip_tau = inner_report.clip_tau;
  // `selected` of the inner rule refers to buckets; report the members.
  for (size_t b : inner_report.selected) {
    for (size_t k = b * s; k < std::min(n, b * s + s); ++k) report.selected.push_back(perm[k]);
  }
  std::sort(report.selected.begin(), report.selected.end());
  return absl::OkStatus();
}

}  // namespace swarm::train
