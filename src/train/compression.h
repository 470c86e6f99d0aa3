// Gradient compression for the averaging round: top-k sparsification with
// error feedback, and int8 quantization with per-chunk scales.
//
// TopKCompressor keeps the residual (what was not sent) and adds it to the next
// input (error feedback), so nothing is lost in the long run. One instance per
// trainer and per parameter vector. Not thread-safe.
// Int8 functions are pure. Errors: size mismatches and bad options are
// InvalidArgument naming the field and value. Torch-free.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"

namespace swarm::train {

struct SparseVector {
  uint64_t dim = 0;
  std::vector<uint32_t> indices;  // strictly increasing, each < dim
  std::vector<float> values;      // same length as indices
};

// Adds `s` into the dense `out` (out.size() must equal s.dim).
Status AddSparse(const SparseVector& s, std::span<float> out);

class TopKCompressor {
 public:
  // `fraction` in (0, 1]: k = max(1, ceil(fraction * d)) coordinates are kept.
  static StatusOr<TopKCompressor> Create(double fraction, bool error_feedback = true);
  // Compresses g + residual, keeps the remainder as the new residual.
  // Changing d between calls resets the residual.
  SparseVector Compress(std::span<const float> g);
  const std::vector<float>& residual() const { return residual_; }

 private:
  TopKCompressor(double fraction, bool ef) : fraction_(fraction), error_feedback_(ef) {}
  double fraction_;
  bool error_feedback_;
  std::vector<float> residual_;
};

struct QuantizedInt8 {
  uint64_t dim = 0;
  uint32_t chunk = 0;            // elements per scale
  std::vector<float> scales;     // ceil(dim / chunk); value = q * scale
  std::vector<int8_t> q;         // dim values in [-127, 127]
};

// Symmetric per-chunk quantization: scale = max|x| / 127 over each chunk.
// Non-finite input → InvalidArgument naming the index. chunk >= 1.
StatusOr<QuantizedInt8> QuantizeInt8(std::span<const float> x, uint32_t chunk = 4096);
// Checks sizes (scales count, q length) before writing `out` (size dim).
Status DequantizeInt8(const QuantizedInt8& q, std::span<float> out);

}  // namespace swarm::train
