// Vector kernels behind the coordinate-wise aggregators (train/aggregator.h).
// Internal to train/: Highway (libhwy) with run-time dispatch to the best
// target the CPU has, so one binary uses AVX-512 where it exists and SSE2
// where it does not.
//
// Median and trimmed mean sort each coordinate's n values with a
// compare-exchange network (Batcher's odd-even merge sort, any n) applied to
// a block of coordinates at once: `rows` is n rows of `lanes` floats each
// (row i = contribution i's values at the block's coordinates), and every
// comparator is a vector min/max over the rows. After SortColumns, row k
// holds each coordinate's k-th smallest value, exactly as a per-coordinate
// sort would put it, so results built from the rows are bit-identical to the
// scalar rules.
//
// Thread-safety: pure functions over caller-owned memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace swarm::train::kernels {

// A compare-exchange: after it, value[lo] <= value[hi] in every lane.
struct Comparator {
  uint16_t lo, hi;
};

// Batcher's odd-even merge sort network for n inputs (0 <= n <= 4096):
// O(n log^2 n) comparators that sort any input order.
std::vector<Comparator> SortingNetwork(size_t n);

// `lanes` is a multiple of kLanesMultiple. rows[i] points at `lanes` floats.
inline constexpr size_t kLanesMultiple = 64;
void SortColumns(float* const* rows, const std::vector<Comparator>& network, size_t lanes);

// out[j] = (0 + rows[from][j] + rows[from+1][j] + ... + rows[to-1][j]) * scale,
// summed in float in that order (the scalar trimmed mean's order).
void SumRowsScaled(const float* const* rows, size_t from, size_t to, float scale, float* out,
                   size_t lanes);
// out[j] = 0.5f * (a[j] + b[j]).
void Midpoint(const float* a, const float* b, float* out, size_t lanes);

// No element of p[0..n) is NaN or +-Inf.
bool AllFinite(const float* p, size_t n);

// sum_j (x[j] - v[j])^2: float lanes over sub-blocks of 512 elements, each
// sub-block's sum added into a double total (relative error ~1e-6 at any n).
double SquaredDistance(const float* x, const float* v, size_t n);
// acc[j] += w * (x[j] - v[j]), in float.
void AddScaledDifference(float* acc, const float* x, const float* v, float w, size_t n);

// out[j] += x[j] over n floats (float adds, vectorized).
void AddInto(float* out, const float* x, size_t n);

}  // namespace swarm::train::kernels
