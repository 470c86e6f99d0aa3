// Validation, the factory, and the coordinate-wise rules (mean, median,
// trimmed mean). Multi-Krum, CenteredClip and bucketing: robust_aggregators.cpp.
#include "train/aggregator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_join.h"

namespace swarm::train {
namespace {

bool AllFinite(Contribution c) {
  // Exponent bits all ones = Inf or NaN. Integer ops so the loop vectorizes.
  uint32_t bad = 0;
  const float* p = c.data();
  for (size_t j = 0; j < c.size(); ++j) {
    uint32_t u;
    std::memcpy(&u, p + j, 4);
    bad |= static_cast<uint32_t>((u & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

// Cache-sized block of coordinates the coordinate-wise rules work through.
constexpr size_t kBlock = 4096;

// Median of v[0..n) (reorders v). Even n: mean of the two middle values.
inline float MedianInPlace(float* v, size_t n) {
  const size_t mid = n / 2;
  std::nth_element(v, v + mid, v + n);
  const float hi = v[mid];
  if (n % 2 == 1) return hi;
  const float lo = *std::max_element(v, v + mid);
  return 0.5f * (lo + hi);
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
    if (!AllFinite(inputs[i])) {
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

Status MeanAggregator::AggregateValid(std::span<const Contribution> in, std::span<float> out,
                                      AggregationReport&) {
  const size_t d = out.size();
  const float inv = 1.0f / static_cast<float>(in.size());
  // Block by block so the running sum stays in cache: one pass over `out`.
  for (size_t lo = 0; lo < d; lo += kBlock) {
    const size_t hi = std::min(d, lo + kBlock);
    float* o = out.data();
    const float* x0 = in[0].data();
    for (size_t j = lo; j < hi; ++j) o[j] = x0[j];
    for (size_t i = 1; i < in.size(); ++i) {
      const float* x = in[i].data();
      for (size_t j = lo; j < hi; ++j) o[j] += x[j];
    }
    for (size_t j = lo; j < hi; ++j) o[j] *= inv;
  }
  return absl::OkStatus();
}

Status MedianAggregator::AggregateValid(std::span<const Contribution> in, std::span<float> out,
                                        AggregationReport&) {
  const size_t n = in.size();
  std::vector<float> col(n);
  for (size_t j = 0; j < out.size(); ++j) {
    for (size_t i = 0; i < n; ++i) col[i] = in[i][j];
    out[j] = MedianInPlace(col.data(), n);
  }
  return absl::OkStatus();
}

Status TrimmedMeanAggregator::AggregateValid(std::span<const Contribution> in,
                                             std::span<float> out, AggregationReport&) {
  const size_t n = in.size();
  const size_t b = static_cast<size_t>(trim_);
  if (n <= 2 * b) {
    return absl::FailedPreconditionError(absl::StrCat(
        "trimmed_mean: needs more than 2*trim = ", 2 * b, " contributions, got ", n));
  }
  std::vector<float> col(n);
  const float inv = 1.0f / static_cast<float>(n - 2 * b);
  for (size_t j = 0; j < out.size(); ++j) {
    for (size_t i = 0; i < n; ++i) col[i] = in[i][j];
    std::sort(col.begin(), col.end());
    float s = 0;
    for (size_t i = b; i < n - b; ++i) s += col[i];
    out[j] = s * inv;
  }
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
  return rule;
}

}  // namespace swarm::train
