// Internal arithmetic of ML-KEM (FIPS 203 §4): polynomials in R_q = Z_q[X]/(X^256+1)
// with q = 3329, the NTT, compression, byte encoding and the two samplers.
// Used only by ml_kem.cpp and its tests; the public API is crypto/ml_kem.h.
//
// Constant time: every function whose input may be secret (NTT, products,
// reductions, compression, encoding, CBD sampling) runs a fixed sequence of
// operations with no branch or memory index that depends on coefficient
// values. Modular reduction is Barrett-style multiply-and-shift plus a masked
// conditional subtraction; Compress divides by q through a multiply-and-shift
// (no division instruction, whose latency depends on the operands on many
// CPUs). SampleNtt rejects on public data (the matrix seed) only.
//
// Representation: coefficients are uint16_t in canonical form [0, q).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "common/bytes.h"

// Constant-time checking (tests/crypto/ml_kem_ct_test.cpp) runs ML-KEM under
// valgrind with secret inputs marked undefined. SWARM_MLKEM_CT_PUBLIC marks a
// value that FIPS 203 makes public at the point it becomes so (rho, which
// goes into the encapsulation key); a no-op outside valgrind.
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define SWARM_MLKEM_CT_PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define SWARM_MLKEM_CT_PUBLIC(p, n) ((void)0)
#endif

namespace swarm::crypto::mlkem {

constexpr uint32_t kQ = 3329;
constexpr size_t kN = 256;

using Poly = std::array<uint16_t, kN>;

// x mod q for any 32-bit x, branch-free.
uint16_t Reduce(uint32_t x);
// (a * b) mod q for a, b < q.
inline uint16_t MulMod(uint32_t a, uint32_t b) { return Reduce(a * b); }
// x - q if x >= q, for x < 2q; branch-free.
inline uint16_t CSubQ(uint32_t x) {
  x -= kQ;
  x += kQ & (0u - (x >> 31));
  return static_cast<uint16_t>(x);
}
// a + b and a - b mod q for a, b < q.
inline uint16_t AddMod(uint32_t a, uint32_t b) { return CSubQ(a + b); }
inline uint16_t SubMod(uint32_t a, uint32_t b) { return CSubQ(a + kQ - b); }

void Ntt(Poly& f);            // Algorithm 9, in place
void InvNtt(Poly& f);         // Algorithm 10, in place
// h = f * g in the NTT domain (Algorithm 11).
Poly MulNtt(const Poly& f, const Poly& g);
// acc += f * g in the NTT domain.
void MulAccNtt(Poly& acc, const Poly& f, const Poly& g);
void AddTo(Poly& acc, const Poly& f);
void SubFrom(Poly& acc, const Poly& f);

// Compress_d / Decompress_d (§4.2.1), d in 1..11, element-wise.
uint16_t Compress(uint16_t x, unsigned d);
uint16_t Decompress(uint16_t y, unsigned d);
void CompressPoly(Poly& f, unsigned d);
void DecompressPoly(Poly& f, unsigned d);

// ByteEncode_d / ByteDecode_d (Algorithms 5, 6), d in 1..12. `out` / `in`
// must be exactly 32*d bytes. Decode with d = 12 reduces mod q (as FIPS 203
// specifies); use Encode12IsCanonical to detect non-canonical input.
void ByteEncode(const Poly& f, unsigned d, std::span<uint8_t> out);
void ByteDecode(std::span<const uint8_t> in, unsigned d, Poly& f);
// True iff every 12-bit value in `in` (384 bytes per polynomial) is < q,
// i.e. ByteEncode12(ByteDecode12(in)) == in (the §7.2 modulus check).
bool Encode12IsCanonical(std::span<const uint8_t> in);

// SampleNTT (Algorithm 7): the matrix entry from SHAKE128(rho || j || i).
Poly SampleNtt(std::span<const uint8_t, 32> rho, uint8_t j, uint8_t i);
// SamplePolyCBD_eta(PRF_eta(s, n)) (Algorithms 8 and PRF of §4.1), eta in {2, 3}.
Poly SampleCbd(std::span<const uint8_t, 32> s, uint8_t n, unsigned eta);

}  // namespace swarm::crypto::mlkem
