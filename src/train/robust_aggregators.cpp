// Multi-Krum, CenteredClip and bucketing (see aggregator.h for the contracts).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "train/aggregator.h"
#include "train/aggregator_internal.h"
#include "train/aggregator_kernels.h"

namespace swarm::train {
namespace {

double SquaredDistance(const float* a, const float* b, size_t d) {
  return kernels::SquaredDistance(a, b, d);
}

// Coordinates per task (parallel_for; the same chunks as the median start's)
// and per fused block of CenteredClip.
constexpr size_t kClipChunk = kAggregatorChunk;
constexpr size_t kClipBlock = 2048;

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
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < n; ++i) {
    for (int k = i + 1; k < n; ++k) pairs.emplace_back(i, k);
  }
  ForEach(pairs.size(), [&](size_t p) {
    const auto [i, k] = pairs[p];
    const double s = SquaredDistance(in[i].data(), in[k].data(), d);
    dist[i * n + k] = dist[k * n + i] = s;
  });
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
  for (size_t idx : order) kernels::AddInto(out.data(), in[idx].data(), d);
  const float inv = 1.0f / static_cast<float>(m);
  for (auto& v : out) v *= inv;
  return absl::OkStatus();
}

Status CenteredClipAggregator::AggregateValid(std::span<const Contribution> in,
                                              std::span<float> out, AggregationReport& report) {
  const size_t n = in.size();
  const size_t d = out.size();
  // dist2[i] = ||x_i - v||^2, summed per chunk and then in chunk order so the
  // result does not depend on how many threads ran the chunks.
  const size_t chunks = (d + kClipChunk - 1) / kClipChunk;
  std::vector<double> partial(chunks * n);
  auto sum_partials = [&] {
    std::vector<double> dist2(n, 0.0);
    for (size_t c = 0; c < chunks; ++c) {
      for (size_t i = 0; i < n; ++i) dist2[i] += partial[c * n + i];
    }
    return dist2;
  };
  std::vector<float> v(d);
  if (from_previous_ && previous_.size() == d) {
    v = previous_;
    ForEach(chunks, [&](size_t c) {
      const size_t lo = c * kClipChunk, m = std::min(d, lo + kClipChunk) - lo;
      for (size_t i = 0; i < n; ++i) {
        partial[c * n + i] = SquaredDistance(in[i].data() + lo, v.data() + lo, m);
      }
    });
  } else {
    // The median start and the first distances in one pass over the inputs.
    MedianAndChunkDistances(in, v, partial, parallel_for_);
  }
  std::vector<double> dist2 = sum_partials();
  double tau = tau_;
  if (tau <= 0) {
    std::vector<double> sorted(n);
    for (size_t i = 0; i < n; ++i) sorted[i] = std::sqrt(dist2[i]);
    std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.end());
    tau = sorted[n / 2];
  }
  report.clip_tau = tau;
  const double inv = 1.0 / static_cast<double>(n);
  std::vector<double> w(n);
  for (int it = 0; it < iterations_; ++it) {
    for (size_t i = 0; i < n; ++i) {
      const double norm = std::sqrt(dist2[i]);
      // tau == 0 (all inputs identical to the start) means nothing to move.
      w[i] = norm <= tau ? 1.0 : (norm > 0 ? tau / norm : 0.0);
    }
    const bool last = it + 1 == iterations_;
    // One pass per iteration: for each block, the clipped step moves v, and
    // (except in the last iteration) the block's share of the next
    // iteration's distances is taken while the block is still in cache.
    ForEach(chunks, [&](size_t c) {
      const size_t chunk_lo = c * kClipChunk, chunk_hi = std::min(d, chunk_lo + kClipChunk);
      std::vector<float> acc(kClipBlock);
      for (size_t i = 0; i < n; ++i) partial[c * n + i] = 0;
      for (size_t lo = chunk_lo; lo < chunk_hi; lo += kClipBlock) {
        const size_t m = std::min(chunk_hi, lo + kClipBlock) - lo;
        std::fill(acc.begin(), acc.begin() + m, 0.0f);
        for (size_t i = 0; i < n; ++i) {
          if (w[i] == 0.0) continue;
          kernels::AddScaledDifference(acc.data(), in[i].data() + lo, v.data() + lo,
                                       static_cast<float>(w[i]), m);
        }
        float* vb = v.data() + lo;
        const float inv_n = static_cast<float>(inv);
        for (size_t j = 0; j < m; ++j) vb[j] += acc[j] * inv_n;
        if (!last) {
          for (size_t i = 0; i < n; ++i) partial[c * n + i] += SquaredDistance(in[i].data() + lo, vb, m);
        }
      }
    });
    if (!last) dist2 = sum_partials();
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
    for (size_t k = lo; k < hi; ++k) kernels::AddInto(means[b].data(), in[perm[k]].data(), d);
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
