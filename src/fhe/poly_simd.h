// Internal: Highway kernels for pointwise products of residue rows mod a
// prime q (rns.cpp PolyMul/PolyMulAcc, the key-switching inner products).
// Each returns false when the CPU's best target has fewer than 8 u64 lanes
// (AVX-512) or q is outside 2^1 < q < 2^61, and the caller then runs its
// scalar loop. Outputs are fully reduced into [0, q), so they are word for
// word those of the scalar code (tests/fhe/ntt_test compares them).
// Method: the 128-bit product from four 32x32-bit lane multiplies, then a
// Barrett reduction with mu = floor(2^2k / q) for q < 2^k (remainder < 3q
// before two conditional subtractions).
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstddef>
#include <cstdint>

namespace swarm::fhe {

// out[i] = a[i] * b[i] mod q (out may alias a or b).
bool MulModRowSimd(uint64_t q, const uint64_t* a, const uint64_t* b, uint64_t* out, size_t n);
// acc[i] = (acc[i] + x[i] * y[i]) mod q, acc[i] < q on entry.
bool MulAccModRowSimd(uint64_t q, const uint64_t* x, const uint64_t* y, uint64_t* acc, size_t n);
// out[i] = in[i] mod q for in[i] < 2^62; refuses q < 2^31.
bool ReduceRowSimd(uint64_t q, const uint64_t* in, uint64_t* out, size_t n);
// out[i] = (in[i] mod q) - s (mod q) for in[i] < 2^62, s < q; refuses q < 2^31.
bool ReduceSubRowSimd(uint64_t q, uint64_t s, const uint64_t* in, uint64_t* out, size_t n);
// Residues of a centred value: out[i] = v mod q if v <= half_p, else
// (v mod q) - p_mod_q (mod q), for v = in[i] < p < 2^62; refuses q < 2^31.
bool CenteredReduceRowSimd(uint64_t q, uint64_t p_mod_q, uint64_t half_p, const uint64_t* in, uint64_t* out,
                           size_t n);
// out[i] = (a[i] - t[i]) * w mod q for a[i], t[i] < q, with Shoup's
// wp = floor(w 2^64 / q).
bool SubMulShoupRowSimd(uint64_t q, const uint64_t* a, const uint64_t* t, uint64_t w, uint64_t wp, uint64_t* out,
                        size_t n);

}  // namespace swarm::fhe
