// Word-size modular arithmetic for the RNS layer of fhe/.
//
// A Modulus is a prime q < 2^61 with its Barrett constant floor(2^128 / q).
// MulMod reduces a 128-bit product with Barrett; MulShoup multiplies by a
// fixed operand w with its Shoup constant floor(w * 2^64 / q) (one high
// multiply, used by the NTT and by constant multiplications).
// Prime generation: NTT-friendly primes q ≡ 1 (mod 2N), tested with a
// deterministic Miller-Rabin (bases valid for all 64-bit integers).
//
// Thread-safety: all functions are pure; Modulus is an immutable value.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"

namespace swarm::fhe {

using u128 = unsigned __int128;

inline constexpr int kPrimeBitsMax = 60;  // largest prime the RNS layer accepts
inline constexpr int kPrimeBitsMin = 14;

class Modulus {
 public:
  Modulus() = default;
  explicit Modulus(uint64_t q);
  uint64_t value() const { return q_; }
  int bits() const { return bits_; }

  // x mod q for any 128-bit x < q^2 (Barrett, one correction).
  uint64_t Reduce128(u128 x) const {
    const uint64_t x0 = static_cast<uint64_t>(x), x1 = static_cast<uint64_t>(x >> 64);
    const u128 p00 = static_cast<u128>(x0) * r0_;
    const u128 p01 = static_cast<u128>(x0) * r1_;
    const u128 p10 = static_cast<u128>(x1) * r0_;
    const u128 mid = (p00 >> 64) + static_cast<uint64_t>(p01) + static_cast<uint64_t>(p10);
    const uint64_t qhat = x1 * r1_ + static_cast<uint64_t>(p01 >> 64) +
                          static_cast<uint64_t>(p10 >> 64) + static_cast<uint64_t>(mid >> 64);
    uint64_t r = x0 - qhat * q_;
    if (r >= q_) r -= q_;
    return r;
  }
  // x mod q for any 128-bit x (the Barrett estimate is then off by a few q).
  uint64_t ReduceWide(u128 x) const {
    const uint64_t x0 = static_cast<uint64_t>(x), x1 = static_cast<uint64_t>(x >> 64);
    const u128 p00 = static_cast<u128>(x0) * r0_;
    const u128 p01 = static_cast<u128>(x0) * r1_;
    const u128 p10 = static_cast<u128>(x1) * r0_;
    const u128 mid = (p00 >> 64) + static_cast<uint64_t>(p01) + static_cast<uint64_t>(p10);
    const uint64_t qhat = x1 * r1_ + static_cast<uint64_t>(p01 >> 64) +
                          static_cast<uint64_t>(p10 >> 64) + static_cast<uint64_t>(mid >> 64);
    uint64_t r = x0 - qhat * q_;
    while (r >= q_) r -= q_;
    return r;
  }
  // x mod q for any 64-bit x.
  uint64_t Reduce(uint64_t x) const { return x >= q_ ? Reduce128(x) : x; }
  uint64_t Mul(uint64_t a, uint64_t b) const { return Reduce128(static_cast<u128>(a) * b); }
  uint64_t Add(uint64_t a, uint64_t b) const {
    const uint64_t s = a + b;
    return s >= q_ ? s - q_ : s;
  }
  uint64_t Sub(uint64_t a, uint64_t b) const { return a >= b ? a - b : a + q_ - b; }
  uint64_t Neg(uint64_t a) const { return a == 0 ? 0 : q_ - a; }
  // Signed integer into [0, q).
  uint64_t FromSigned(int64_t v) const {
    if (v >= 0) return Reduce(static_cast<uint64_t>(v));
    const uint64_t r = Reduce(static_cast<uint64_t>(-(v + 1)) + 1);
    return Neg(r);
  }
  uint64_t Pow(uint64_t base, uint64_t e) const;
  // Inverse of a nonzero element (q is prime).
  uint64_t Inv(uint64_t a) const { return Pow(a, q_ - 2); }
  // Shoup constant for a fixed multiplicand w < q.
  uint64_t ShoupOf(uint64_t w) const {
    return static_cast<uint64_t>((static_cast<u128>(w) << 64) / q_);
  }
  // a * w mod q given w' = ShoupOf(w); a may be any 64-bit value.
  uint64_t MulShoup(uint64_t a, uint64_t w, uint64_t wp) const {
    const uint64_t hi = static_cast<uint64_t>((static_cast<u128>(a) * wp) >> 64);
    const uint64_t r = a * w - hi * q_;
    return r >= q_ ? r - q_ : r;
  }
  // Same, result in [0, 2q) (lazy form used by the NTT butterflies).
  uint64_t MulShoupLazy(uint64_t a, uint64_t w, uint64_t wp) const {
    const uint64_t hi = static_cast<uint64_t>((static_cast<u128>(a) * wp) >> 64);
    return a * w - hi * q_;
  }

 private:
  uint64_t q_ = 0;
  uint64_t r0_ = 0, r1_ = 0;  // floor(2^128 / q) = r1 * 2^64 + r0
  int bits_ = 0;
};

// Deterministic Miller-Rabin for 64-bit n.
bool IsPrime(uint64_t n);

// `count` distinct primes of exactly `bits` bits with q ≡ 1 (mod two_n),
// searched downward from 2^bits, skipping any in `exclude`. Errors when
// bits is outside [kPrimeBitsMin, kPrimeBitsMax] or the range is exhausted.
StatusOr<std::vector<uint64_t>> GenerateNttPrimes(int bits, size_t count, uint64_t two_n,
                                                  const std::vector<uint64_t>& exclude = {});

// The smallest primitive two_n-th root of unity mod prime q (q ≡ 1 mod two_n,
// two_n a power of two). Deterministic, so parameters fix the NTT tables.
StatusOr<uint64_t> MinimalPrimitiveRoot(uint64_t q, uint64_t two_n);

}  // namespace swarm::fhe
