// Validation, the factory, and the coordinate-wise rules (mean, median,
// trimmed mean). Multi-Krum, CenteredClip and bucketing: robust_aggregators.cpp.
#include "train/aggregator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_join.h"
#include "train/aggregator_internal.h"
#include "train/aggregator_kernels.h"

namespace swarm::train {
namespace {

bool AllFinite(Contribution c) { return kernels::AllFinite(c.data(), c.size()); }

// Median of v[0..n) (reorders v). Even n: mean of the two middle values.
// The scalar path, used where the sorting network does not pay (n beyond
// kNetworkInputsMax).
inline float MedianInPlace(float* v, size_t n) {
  const size_t mid = n / 2;
  std::nth_element(v, v + mid, v + n);
  const float hi = v[mid];
  if (n % 2 == 1) return hi;
  const float lo = *std::max_element(v, v + mid);
  return 0.5f * (lo + hi);
}

// Coordinates per block the network sorts at once (a multiple of
// kernels::kLanesMultiple), and per task handed to parallel_for.
constexpr size_t kSortBlock = 256;
constexpr size_t kChunk = kAggregatorChunk;
constexpr size_t kNetworkInputsMax = 1024;

size_t ChunkCount(size_t d) { return (d + kChunk - 1) / kChunk; }

// Median of the block's sorted rows into o (lanes values).
void EmitMedian(float* const* rows, size_t n, size_t lanes, float* o) {
  const size_t mid = n / 2;
  if (n % 2 == 1) {
    std::memcpy(o, rows[mid], lanes * sizeof(float));
  } else {
    kernels::Midpoint(rows[mid - 1], rows[mid], o, lanes);
  }
}

// Runs `emit(rows, lanes, out, first, count)` for every block of chunk `task`: rows[i]
// holds contribution i's values at the block's coordinates, sorted per
// column by `network`; `out` points at the block's outputs, which are the
// coordinates [first, first + count). The last block
// of a short chunk is zero-padded to a multiple of kLanesMultiple (padding
// lanes are sorted too and then ignored: lanes are independent).
template <typename Emit>
void ForSortedBlocks(std::span<const Contribution> in, const std::vector<kernels::Comparator>& net,
                     size_t task, std::span<float> out, Emit emit) {
  const size_t n = in.size();
  const size_t lo = task * kChunk, hi = std::min(out.size(), lo + kChunk);
  std::vector<float> scratch(n * kSortBlock);
  std::vector<float*> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = scratch.data() + i * kSortBlock;
  std::vector<float> tail_out(kSortBlock);
  for (size_t b = lo; b < hi; b += kSortBlock) {
    const size_t m = std::min(kSortBlock, hi - b);
    const size_t lanes = (m + kernels::kLanesMultiple - 1) / kernels::kLanesMultiple *
                         kernels::kLanesMultiple;
    for (size_t i = 0; i < n; ++i) {
      std::memcpy(rows[i], in[i].data() + b, m * sizeof(float));
      if (lanes > m) std::fill(rows[i] + m, rows[i] + lanes, 0.0f);
    }
    kernels::SortColumns(rows.data(), net, lanes);
    if (lanes == m) {
      emit(rows.data(), lanes, out.data() + b, b, m);
    } else {
      emit(rows.data(), lanes, tail_out.data(), b, m);
      std::memcpy(out.data() + b, tail_out.data(), m * sizeof(float));
    }
  }
}

}  // namespace

Status Aggregator::Aggregate(std::span<const Contribution> inputs, std::span<float> out,
                             AggregationReport* report) {
  AggregationReport local;
  AggregationReport& r = report ? *report : local;
  r = AggregationReport{};
  r.received = inputs.size();
  if (inputs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name(), ": no contributions to aggregate"));
  }
  std::vector<Contribution> usable;
  std::vector<size_t> original_index;
  usable.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].size() != out.size()) {
      return absl::InvalidArgumentError(absl::StrCat(name(), ": contribution ", i, " has ",
                                                     inputs[i].size(), " elements, expected ",
                                                     out.size()));
    }
  }
  // Rules whose output carries any non-finite input into a non-finite output
  // coordinate (the mean: NaN + x = NaN, Inf + x = Inf or NaN) skip the
  // validation pass: a finite output proves every input was finite. A
  // non-finite output (a bad input, or a sum that overflowed) falls back to
  // validating and excluding as usual.
  if (PropagatesNonFinite()) {
    SWARM_RETURN_IF_ERROR(AggregateValid(inputs, out, r));
    if (kernels::AllFinite(out.data(), out.size())) {
      r.used = inputs.size();
      return absl::OkStatus();
    }
    r = AggregationReport{};
    r.received = inputs.size();
  }
  std::vector<char> finite(inputs.size());
  ForEach(inputs.size(), [&](size_t i) { finite[i] = AllFinite(inputs[i]) ? 1 : 0; });
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!finite[i]) {
      ++r.excluded_nonfinite;
      continue;
    }
    usable.push_back(inputs[i]);
    original_index.push_back(i);
  }
  if (usable.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        name(), ": all ", inputs.size(), " contributions contain NaN/Inf"));
  }
  r.used = usable.size();
  SWARM_RETURN_IF_ERROR(AggregateValid(usable, out, r));
  for (auto& s : r.selected) s = original_index[s];  // map back to input indices
  return absl::OkStatus();
}

void Aggregator::ForEach(size_t tasks, const std::function<void(size_t)>& task) const {
  if (parallel_for_ && tasks > 1) {
    parallel_for_(tasks, task);
    return;
  }
  for (size_t t = 0; t < tasks; ++t) task(t);
}

Status MeanAggregator::AggregateValid(std::span<const Contribution> in, std::span<float> out,
                                      AggregationReport&) {
  const size_t d = out.size();
  const float inv = 1.0f / static_cast<float>(in.size());
  // Block by block so the running sum stays in cache: one pass over `out`.
  constexpr size_t kBlock = 4096;
  ForEach(ChunkCount(d), [&](size_t task) {
    const size_t chunk_lo = task * kChunk, chunk_hi = std::min(d, chunk_lo + kChunk);
    for (size_t lo = chunk_lo; lo < chunk_hi; lo += kBlock) {
      const size_t m = std::min(chunk_hi, lo + kBlock) - lo;
      float* o = out.data() + lo;
      std::memcpy(o, in[0].data() + lo, m * sizeof(float));
      for (size_t i = 1; i < in.size(); ++i) kernels::AddInto(o, in[i].data() + lo, m);
      for (size_t j = 0; j < m; ++j) o[j] *= inv;
    }
  });
  return absl::OkStatus();
}

Status MedianAggregator::AggregateValid(std::span<const Contribution> in, std::span<float> out,
                                        AggregationReport&) {
  const size_t n = in.size();
  if (n > kNetworkInputsMax) {
    std::vector<float> col(n);
    for (size_t j = 0; j < out.size(); ++j) {
      for (size_t i = 0; i < n; ++i) col[i] = in[i][j];
      out[j] = MedianInPlace(col.data(), n);
    }
    return absl::OkStatus();
  }
  const auto net = kernels::SortingNetwork(n);
  ForEach(ChunkCount(out.size()), [&](size_t task) {
    ForSortedBlocks(in, net, task, out, [&](float* const* rows, size_t lanes, float* o, size_t, size_t) {
      EmitMedian(rows, n, lanes, o);
    });
  });
  return absl::OkStatus();
}

void MedianAndChunkDistances(std::span<const Contribution> in, std::span<float> v,
                             std::vector<double>& partial, const ParallelFor& parallel_for) {
  const size_t n = in.size();
  partial.assign(ChunkCount(v.size()) * n, 0.0);
  const auto net = n > kNetworkInputsMax ? std::vector<kernels::Comparator>{} : kernels::SortingNetwork(n);
  auto task = [&](size_t c) {
    if (n > kNetworkInputsMax) {
      std::vector<float> col(n);
      const size_t lo = c * kChunk, hi = std::min(v.size(), lo + kChunk);
      for (size_t j = lo; j < hi; ++j) {
        for (size_t i = 0; i < n; ++i) col[i] = in[i][j];
        v[j] = MedianInPlace(col.data(), n);
      }
      for (size_t i = 0; i < n; ++i) {
        partial[c * n + i] = kernels::SquaredDistance(in[i].data() + lo, v.data() + lo, hi - lo);
      }
      return;
    }
    ForSortedBlocks(in, net, c, v, [&](float* const* rows, size_t lanes, float* o, size_t first, size_t m) {
      EmitMedian(rows, n, lanes, o);
      // The block's inputs are still in cache: take their distances to the
      // block's median now instead of in another pass over the inputs.
      for (size_t i = 0; i < n; ++i) {
        partial[c * n + i] += kernels::SquaredDistance(in[i].data() + first, o, m);
      }
    });
  };
  if (parallel_for && ChunkCount(v.size()) > 1) {
    parallel_for(ChunkCount(v.size()), task);
  } else {
    for (size_t c = 0; c < ChunkCount(v.size()); ++c) task(c);
  }
}

Status TrimmedMeanAggregator::AggregateValid(std::span<const Contribution> in,
                                             std::span<float> out, AggregationReport&) {
  const size_t n = in.size();
  const size_t b = static_cast<size_t>(trim_);
  if (n <= 2 * b) {
    return absl::FailedPreconditionError(absl::StrCat(
        "trimmed_mean: needs more than 2*trim = ", 2 * b, " contributions, got ", n));
  }
  const float inv = 1.0f / static_cast<float>(n - 2 * b);
  if (n > kNetworkInputsMax) {
    std::vector<float> col(n);
    for (size_t j = 0; j < out.size(); ++j) {
      for (size_t i = 0; i < n; ++i) col[i] = in[i][j];
      std::sort(col.begin(), col.end());
      float s = 0;
      for (size_t i = b; i < n - b; ++i) s += col[i];
      out[j] = s * inv;
    }
    return absl::OkStatus();
  }
  const auto net = kernels::SortingNetwork(n);
  ForEach(ChunkCount(out.size()), [&](size_t task) {
    ForSortedBlocks(in, net, task, out, [&](float* const* rows, size_t lanes, float* o, size_t, size_t) {
      kernels::SumRowsScaled(rows, b, n - b, inv, o, lanes);
    });
  });
  return absl::OkStatus();
}

const std::vector<std::string>& AggregatorNames() {
  static const std::vector<std::string> kNames = {"mean", "median", "trimmed_mean", "multi_krum",
                                                  "centered_clip"};
  return kNames;
}

StatusOr<std::unique_ptr<Aggregator>> MakeAggregator(const AggregatorSpec& s) {
  auto bad = [](const std::string& what, auto value, const std::string& allowed) {
    return absl::InvalidArgumentError(
        absl::StrCat("aggregator option ", what, " = ", value, " is invalid: ", allowed));
  };
  if (s.byzantine < 0) return bad("byzantine", s.byzantine, "must be >= 0");
  if (s.bucket_size < 1) return bad("bucket_size", s.bucket_size, "must be >= 1");
  std::unique_ptr<Aggregator> rule;
  if (s.name == "mean") {
    rule = std::make_unique<MeanAggregator>();
  } else if (s.name == "median") {
    rule = std::make_unique<MedianAggregator>();
  } else if (s.name == "trimmed_mean") {
    const int trim = s.trim < 0 ? s.byzantine : s.trim;
    rule = std::make_unique<TrimmedMeanAggregator>(trim);
  } else if (s.name == "multi_krum") {
    if (s.krum_select == 0) return bad("krum_select", s.krum_select, "must be >= 1 or -1 (n - f)");
    rule = std::make_unique<MultiKrumAggregator>(s.byzantine, s.krum_select);
  } else if (s.name == "centered_clip") {
    if (s.clip_tau < 0 || !std::isfinite(s.clip_tau)) {
      return bad("clip_tau", s.clip_tau, "must be finite and >= 0 (0 = auto)");
    }
    if (s.clip_iterations < 1 || s.clip_iterations > 100) {
      return bad("clip_iterations", s.clip_iterations, "must be in [1, 100]");
    }
    if (s.clip_start != "median" && s.clip_start != "previous") {
      return bad("clip_start", "\"" + s.clip_start + "\"", "must be \"median\" or \"previous\"");
    }
    rule = std::make_unique<CenteredClipAggregator>(s.clip_tau, s.clip_iterations,
                                                    s.clip_start == "previous");
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown aggregator '", s.name,
                                                   "'; valid: ",
                                                   absl::StrJoin(AggregatorNames(), ", ")));
  }
  if (s.bucket_size > 1) {
    rule = std::make_unique<BucketingAggregator>(std::move(rule), s.bucket_size, s.seed);
  }
  if (s.parallel_for) rule->set_parallel_for(s.parallel_for);
  return rule;
}

}  // namespace swarm::train
