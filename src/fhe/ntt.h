// Negacyclic number-theoretic transform over Z_q[X]/(X^N + 1).
// Forward/Inverse run Highway (libhwy) AVX-512 kernels when the CPU has them
// (run-time dispatch, ntt_simd.cpp) and the scalar code otherwise; both give
// bit-identical results.
//
// Forward: Cooley-Tukey with Harvey's lazy butterflies (values kept in
// [0, 4q) between layers, Shoup-precomputed twiddles psi^bitrev(i)); output in
// bit-reversed order: out[k] = a(psi^(2*bitrev(k)+1)). Inverse: Gentleman-Sande,
// also lazy, folding N^-1 into the last layer. Both work in place and return
// fully reduced values in [0, q).
// Requirements (asserted at construction): N a power of two in [2, 2^17],
// q prime < 2^61 with q ≡ 1 (mod 2N).
//
// Thread-safety: an NttTables is immutable after construction and may be
// shared by any number of threads.
#pragma once

#include <cstdint>
#include <vector>

#include "fhe/modarith.h"

namespace swarm::fhe {

class NttTables {
 public:
  // Builds tables; psi is the minimal primitive 2N-th root of unity.
  static StatusOr<NttTables> Create(size_t n, uint64_t q);

  size_t n() const { return n_; }
  int log_n() const { return log_n_; }
  const Modulus& modulus() const { return mod_; }
  uint64_t psi() const { return psi_; }

  // Use the Highway kernels when the CPU has AVX-512 (else scalar).
  void Forward(uint64_t* a) const;
  void Inverse(uint64_t* a) const;
  // The portable scalar transforms (tests compare the two word for word).
  void ForwardScalar(uint64_t* a) const;
  void InverseScalar(uint64_t* a) const;

 private:
  NttTables() = default;
  size_t n_ = 0;
  int log_n_ = 0;
  Modulus mod_;
  uint64_t psi_ = 0;
  std::vector<uint64_t> roots_, roots_shoup_;       // psi^bitrev(i)
  std::vector<uint64_t> iroots_, iroots_shoup_;     // psi^-bitrev(i)
  uint64_t n_inv_ = 0, n_inv_shoup_ = 0;
  uint64_t last_ = 0, last_shoup_ = 0;              // N^-1 * psi^-bitrev(1)
};

// Process-wide switch for the SIMD kernels, NTT and pointwise (poly_simd.h)
// (default on); benchmarks and tests
// turn it off to measure/compare the scalar path. Thread-safe (atomic).
void SetNttSimdEnabled(bool on);
bool NttSimdEnabled();

// Bit reversal of the low `bits` bits.
inline uint32_t BitReverse(uint32_t x, int bits) {
  if (bits == 0) return 0;
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  x = __builtin_bswap32(x);
  return x >> (32 - bits);
}

// Schoolbook negacyclic product c = a * b mod (X^N + 1, q): O(N^2), for tests.
std::vector<uint64_t> NegacyclicSchoolbook(const std::vector<uint64_t>& a,
                                           const std::vector<uint64_t>& b, const Modulus& q);

}  // namespace swarm::fhe
