#include "train/compression.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace swarm::train {

Status AddSparse(const SparseVector& s, std::span<float> out) {
  if (s.dim != out.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sparse vector dim ", s.dim, " != dense size ", out.size()));
  }
  if (s.indices.size() != s.values.size()) {
    return absl::InvalidArgumentError(absl::StrCat("sparse vector has ", s.indices.size(),
                                                   " indices but ", s.values.size(), " values"));
  }
  for (size_t i = 0; i < s.indices.size(); ++i) {
    if (s.indices[i] >= s.dim || (i > 0 && s.indices[i] <= s.indices[i - 1])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sparse index ", i, " = ", s.indices[i], " is out of range or not increasing"));
    }
  }
  for (size_t i = 0; i < s.indices.size(); ++i) out[s.indices[i]] += s.values[i];
  return absl::OkStatus();
}

StatusOr<TopKCompressor> TopKCompressor::Create(double fraction, bool error_feedback) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("topk fraction = ", fraction, " must be in (0, 1]"));
  }
  return TopKCompressor(fraction, error_feedback);
}

SparseVector TopKCompressor::Compress(std::span<const float> g) {
  const size_t d = g.size();
  if (residual_.size() != d) residual_.assign(d, 0.0f);
  std::vector<float> acc(d);
  for (size_t j = 0; j < d; ++j) acc[j] = g[j] + (error_feedback_ ? residual_[j] : 0.0f);
  const size_t k = std::min(d, std::max<size_t>(1, static_cast<size_t>(std::ceil(fraction_ * d))));
  SparseVector out;
  out.dim = d;
  if (d == 0) return out;
  std::vector<uint32_t> idx(d);
  std::iota(idx.begin(), idx.end(), 0u);
  std::nth_element(idx.begin(), idx.begin() + (k - 1), idx.end(), [&](uint32_t a, uint32_t b) {
    const float fa = std::fabs(acc[a]), fb = std::fabs(acc[b]);
    return fa != fb ? fa > fb : a < b;
  });
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  out.indices = idx;
  out.values.reserve(k);
  for (uint32_t i : idx) out.values.push_back(acc[i]);
  if (error_feedback_) {
    residual_ = std::move(acc);
    for (uint32_t i : idx) residual_[i] = 0.0f;
  }
  return out;
}

StatusOr<QuantizedInt8> QuantizeInt8(std::span<const float> x, uint32_t chunk) {
  if (chunk == 0) return absl::InvalidArgumentError("int8 chunk = 0 must be >= 1");
  QuantizedInt8 q;
  q.dim = x.size();
  q.chunk = chunk;
  q.q.resize(x.size());
  for (size_t lo = 0; lo < x.size(); lo += chunk) {
    const size_t hi = std::min(x.size(), lo + chunk);
    float amax = 0;
    for (size_t j = lo; j < hi; ++j) {
      if (!std::isfinite(x[j])) {
        return absl::InvalidArgumentError(absl::StrCat("int8 quantize: element ", j,
                                                       " is not finite"));
      }
      amax = std::max(amax, std::fabs(x[j]));
    }
    const float scale = amax / 127.0f;
    q.scales.push_back(scale);
    const float inv = scale > 0 ? 1.0f / scale : 0.0f;
    for (size_t j = lo; j < hi; ++j) {
      const float r = std::nearbyint(x[j] * inv);
      q.q[j] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
    }
  }
  return q;
}

Status DequantizeInt8(const QuantizedInt8& q, std::span<float> out) {
  if (q.chunk == 0) return absl::InvalidArgumentError("int8 chunk = 0 must be >= 1");
  if (q.dim != out.size() || q.q.size() != q.dim) {
    return absl::InvalidArgumentError(absl::StrCat("int8 dim ", q.dim, ", values ", q.q.size(),
                                                   ", output ", out.size(), " disagree"));
  }
  const uint64_t chunks = (q.dim + q.chunk - 1) / q.chunk;
  if (q.scales.size() != chunks) {
    return absl::InvalidArgumentError(
        absl::StrCat("int8 has ", q.scales.size(), " scales, expected ", chunks));
  }
  for (size_t c = 0; c < q.scales.size(); ++c) {
    if (!std::isfinite(q.scales[c]) || q.scales[c] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("int8 scale ", c, " = ", q.scales[c],
                                                     " must be finite and >= 0"));
    }
  }
  for (size_t j = 0; j < q.dim; ++j) out[j] = static_cast<float>(q.q[j]) * q.scales[j / q.chunk];
  return absl::OkStatus();
}

}  // namespace swarm::train
