// ML-DSA (FIPS 204) polynomial arithmetic: internal to crypto/, not a public API.
//
// Ring R_q = Z_q[X]/(X^256 + 1), q = 8380417. Coefficients are int32_t; the
// NTT is the Montgomery variant (R = 2^32) with the FIPS 204 zeta order
// (Algorithms 41/42). Every function here is free of secret-dependent branches
// and secret-dependent memory indices; the rejection samplers (which the
// standard defines as loops over public-after-the-fact XOF output) live in
// ml_dsa_sample.cpp.
//
// Value ranges (the callers rely on them):
//   Ntt:        input |a| < q           -> output |a| < 9q (not reduced)
//   PointwiseMont(a, b) = a*b*2^-32 mod q, output |c| < q, for |a*b| < 2^31*q
//   InvNtt:     input |a| < q and carrying a factor 2^-32 (the output of a
//               Montgomery product) -> output the exact inverse NTT, |a| < q
//   Reduce32:   |a| < 2^31 - 2^22 -> representative in [-6283009, 6283008]
//   Freeze:     -> representative in [0, q)
#pragma once

#include <cstddef>
#include <cstdint>

// Constant-time checking: tests/crypto/ml_dsa_ct_test.cpp, run under
// valgrind, marks secret inputs as undefined memory; memcheck then reports
// every branch or memory index that depends on them. SWARM_CT_PUBLIC marks
// values the standard makes public (or allows to leak) at the point they
// become so: the accept/reject outcome of a signing attempt, the commitment
// hash c~ (which SampleInBall branches on), the hint and z of the published
// signature, rho (part of the public key) and the number of rejected samples in
// RejBoundedPoly. Outside valgrind the client request costs a few instructions.
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define SWARM_CT_PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define SWARM_CT_PUBLIC(p, n) ((void)0)
#endif

namespace swarm::crypto::mldsa_detail {

inline constexpr int32_t kQ = 8380417;
inline constexpr int kN = 256;
inline constexpr int kD = 13;
inline constexpr uint32_t kQinv = 58728449u;  // q^-1 mod 2^32
static_assert(static_cast<uint32_t>(kQ) * kQinv == 1u, "kQinv is q^-1 mod 2^32");

struct Poly {
  alignas(32) int32_t c[kN];
};

inline int32_t MontReduce(int64_t a) {
  const int32_t t = static_cast<int32_t>(static_cast<uint32_t>(a) * kQinv);
  return static_cast<int32_t>((a - static_cast<int64_t>(t) * kQ) >> 32);
}
inline int32_t Reduce32(int32_t a) {
  const int32_t t = (a + (1 << 22)) >> 23;
  return a - t * kQ;
}
// Adds q if a is negative (branch-free).
inline int32_t CAddQ(int32_t a) { return a + ((a >> 31) & kQ); }
inline int32_t Freeze(int32_t a) { return CAddQ(Reduce32(a)); }
// All-ones if a == b, else 0 (for 0 <= a, b < 2^31).
inline uint32_t CtEqMask(uint32_t a, uint32_t b) {
  return static_cast<uint32_t>(-static_cast<int32_t>(((a ^ b) - 1u) >> 31));
}

void Ntt(Poly& a);
void InvNtt(Poly& a);
void PointwiseMont(Poly& out, const Poly& a, const Poly& b);
// out = sum_j a[j] * b[j] (Montgomery products, accumulated in 64 bits and
// reduced once; needs n <= 7 and |b| < 9q, 0 <= a < q).
void DotMont(Poly& out, const Poly* a, const Poly* b, int n);

void PolyAdd(Poly& out, const Poly& a, const Poly& b);
void PolySub(Poly& out, const Poly& a, const Poly& b);
void PolyReduce32(Poly& a);
void PolyFreeze(Poly& a);
// a <<= d (for t1 * 2^d in Verify); input 0 <= a < 2^10.
void PolyShiftLeftD(Poly& a);

// Power2Round (Alg. 35) on a frozen polynomial: a = a1*2^d + a0.
void PolyPower2Round(Poly& a1, Poly& a0, const Poly& a);
// Decompose (Alg. 36) on a frozen polynomial, for gamma2 in
// {(q-1)/88, (q-1)/32}: a = a1*2*gamma2 + a0 with the q-1 corner case.
void PolyDecompose(Poly& a1, Poly& a0, const Poly& a, int32_t gamma2);
// Returns 1 if some coefficient (centered, |a| < 2^31) has |a| >= bound, else
// 0, without branching on the coefficients.
uint32_t PolyExceedsNorm(const Poly& a, int32_t bound);
// h[i] = (a1[i] != b1[i]); returns the number of ones. Branch-free.
uint32_t PolyHintFromHighBits(Poly& h, const Poly& a1, const Poly& b1);
// UseHint (Alg. 40) on a frozen polynomial (verification: public data).
void PolyUseHint(Poly& out, const Poly& a, const Poly& h, int32_t gamma2);

// Bit packing (Algorithms 16-19). `bits` values per coefficient, little-endian
// bit order, 32*bits bytes per polynomial.
//   PackPlain:  stores a[i]           (0 <= a[i] < 2^bits)
//   PackOffset: stores offset - a[i]  (offset - a[i] in [0, 2^bits))
// Unpack* are the inverses; they accept every input bit pattern.
void PackPlain(const Poly& a, int bits, uint8_t* out);
void PackOffset(const Poly& a, int32_t offset, int bits, uint8_t* out);
void UnpackPlain(Poly& a, int bits, const uint8_t* in);
void UnpackOffset(Poly& a, int32_t offset, int bits, const uint8_t* in);

}  // namespace swarm::crypto::mldsa_detail
