#include "crypto/ml_dsa_poly.h"

#include <array>

// The butterflies and pointwise products vectorize well; build them at -O3 and,
// on x86-64, also as an AVX2 clone picked at load time (GCC target_clones).
#pragma GCC optimize("O3")
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SWARM_MLDSA_SIMD __attribute__((target_clones("avx2", "default")))
#else
#define SWARM_MLDSA_SIMD
#endif

namespace swarm::crypto::mldsa_detail {
namespace {

constexpr int32_t kZeta = 1753;  // 512th root of unity mod q

constexpr uint32_t BitRev8(uint32_t k) {
  uint32_t r = 0;
  for (int i = 0; i < 8; ++i) r |= ((k >> i) & 1u) << (7 - i);
  return r;
}

constexpr uint64_t PowMod(uint64_t b, uint64_t e) {
  uint64_t r = 1;
  b %= kQ;
  while (e) {
    if (e & 1) r = r * b % kQ;
    b = b * b % kQ;
    e >>= 1;
  }
  return r;
}

// zetas[k] = zeta^BitRev8(k) * 2^32 mod q, centered in (-q/2, q/2].
constexpr std::array<int32_t, 256> MakeZetas() {
  std::array<int32_t, 256> z{};
  for (uint32_t k = 0; k < 256; ++k) {
    const uint64_t v = (PowMod(kZeta, BitRev8(k)) << 32) % kQ;
    z[k] = static_cast<int32_t>(v > kQ / 2 ? static_cast<int64_t>(v) - kQ : v);
  }
  return z;
}
constexpr std::array<int32_t, 256> kZetas = MakeZetas();
// 2^64 / 256 mod q: one Montgomery multiply by it undoes the 2^-32 of the
// preceding pointwise products and applies 1/256.
constexpr int32_t kInvNttScale = static_cast<int32_t>(
    ((((1ull << 32) % kQ) * ((1ull << 32) % kQ)) % kQ) * PowMod(256, kQ - 2) % kQ);
static_assert(PowMod(kZeta, 256) == kQ - 1, "zeta is a primitive 512th root");

}  // namespace

SWARM_MLDSA_SIMD void Ntt(Poly& p) {
  int32_t* a = p.c;
  unsigned k = 0;
  for (unsigned len = 128; len > 0; len >>= 1) {
    for (unsigned start = 0; start < 256; start += 2 * len) {
      const int64_t zeta = kZetas[++k];
      for (unsigned j = start; j < start + len; ++j) {
        const int32_t t = MontReduce(zeta * a[j + len]);
        a[j + len] = a[j] - t;
        a[j] = a[j] + t;
      }
    }
  }
}

SWARM_MLDSA_SIMD void InvNtt(Poly& p) {
  int32_t* a = p.c;
  unsigned k = 256;
  for (unsigned len = 1; len < 256; len <<= 1) {
    for (unsigned start = 0; start < 256; start += 2 * len) {
      const int64_t zeta = -static_cast<int64_t>(kZetas[--k]);
      for (unsigned j = start; j < start + len; ++j) {
        const int32_t t = a[j];
        a[j] = t + a[j + len];
        a[j + len] = MontReduce(zeta * (t - a[j + len]));
      }
    }
  }
  for (int j = 0; j < kN; ++j) a[j] = MontReduce(static_cast<int64_t>(kInvNttScale) * a[j]);
}

SWARM_MLDSA_SIMD void PointwiseMont(Poly& out, const Poly& a, const Poly& b) {
  for (int i = 0; i < kN; ++i) out.c[i] = MontReduce(static_cast<int64_t>(a.c[i]) * b.c[i]);
}

SWARM_MLDSA_SIMD void DotMont(Poly& out, const Poly* a, const Poly* b, int n) {
  for (int i = 0; i < kN; ++i) {
    int64_t acc = 0;
    for (int j = 0; j < n; ++j) acc += static_cast<int64_t>(a[j].c[i]) * b[j].c[i];
    out.c[i] = MontReduce(acc);
  }
}

void PolyAdd(Poly& out, const Poly& a, const Poly& b) {
  for (int i = 0; i < kN; ++i) out.c[i] = a.c[i] + b.c[i];
}
void PolySub(Poly& out, const Poly& a, const Poly& b) {
  for (int i = 0; i < kN; ++i) out.c[i] = a.c[i] - b.c[i];
}
void PolyReduce32(Poly& a) {
  for (int i = 0; i < kN; ++i) a.c[i] = Reduce32(a.c[i]);
}
void PolyFreeze(Poly& a) {
  for (int i = 0; i < kN; ++i) a.c[i] = Freeze(a.c[i]);
}
void PolyShiftLeftD(Poly& a) {
  for (int i = 0; i < kN; ++i) a.c[i] <<= kD;
}

void PolyPower2Round(Poly& a1, Poly& a0, const Poly& a) {
  for (int i = 0; i < kN; ++i) {
    const int32_t r = a.c[i];
    const int32_t hi = (r + (1 << (kD - 1)) - 1) >> kD;
    a1.c[i] = hi;
    a0.c[i] = r - (hi << kD);
  }
}

namespace {
template <uint32_t kGamma2>
void DecomposeT(Poly& a1, Poly& a0, const Poly& a) {
  constexpr uint32_t kM = (kQ - 1) / (2 * kGamma2);
  for (int i = 0; i < kN; ++i) {
    const uint32_t r = static_cast<uint32_t>(a.c[i]);
    // Division by a compile-time constant compiles to multiply and shift.
    uint32_t hi = (r + kGamma2 - 1) / (2 * kGamma2);
    int32_t lo = static_cast<int32_t>(r) - static_cast<int32_t>(hi * 2 * kGamma2);
    const uint32_t wrap = CtEqMask(hi, kM);  // r - lo == q - 1
    hi &= ~wrap;
    lo -= static_cast<int32_t>(wrap & 1u);
    a1.c[i] = static_cast<int32_t>(hi);
    a0.c[i] = lo;
  }
}
}  // namespace

void PolyDecompose(Poly& a1, Poly& a0, const Poly& a, int32_t gamma2) {
  if (gamma2 == (kQ - 1) / 88) {
    DecomposeT<(kQ - 1) / 88>(a1, a0, a);
  } else {
    DecomposeT<(kQ - 1) / 32>(a1, a0, a);
  }
}

uint32_t PolyExceedsNorm(const Poly& a, int32_t bound) {
  uint32_t bad = 0;
  for (int i = 0; i < kN; ++i) {
    const int32_t m = a.c[i] >> 31;
    const int32_t abs = (a.c[i] ^ m) - m;
    bad |= static_cast<uint32_t>(bound - 1 - abs) >> 31;
  }
  return bad;
}

uint32_t PolyHintFromHighBits(Poly& h, const Poly& a1, const Poly& b1) {
  uint32_t ones = 0;
  for (int i = 0; i < kN; ++i) {
    const uint32_t bit = ~CtEqMask(static_cast<uint32_t>(a1.c[i]), static_cast<uint32_t>(b1.c[i])) & 1u;
    h.c[i] = static_cast<int32_t>(bit);
    ones += bit;
  }
  return ones;
}

void PolyUseHint(Poly& out, const Poly& a, const Poly& h, int32_t gamma2) {
  Poly lo;
  PolyDecompose(out, lo, a, gamma2);
  const int32_t m = (kQ - 1) / (2 * gamma2);
  for (int i = 0; i < kN; ++i) {
    if (h.c[i] == 0) continue;
    if (lo.c[i] > 0) {
      out.c[i] = out.c[i] + 1 == m ? 0 : out.c[i] + 1;
    } else {
      out.c[i] = out.c[i] == 0 ? m - 1 : out.c[i] - 1;
    }
  }
}

void PackPlain(const Poly& a, int bits, uint8_t* out) {
  uint64_t acc = 0;
  int n = 0;
  for (int i = 0; i < kN; ++i) {
    acc |= static_cast<uint64_t>(static_cast<uint32_t>(a.c[i])) << n;
    n += bits;
    while (n >= 8) {
      *out++ = static_cast<uint8_t>(acc);
      acc >>= 8;
      n -= 8;
    }
  }
}

void PackOffset(const Poly& a, int32_t offset, int bits, uint8_t* out) {
  uint64_t acc = 0;
  int n = 0;
  for (int i = 0; i < kN; ++i) {
    acc |= static_cast<uint64_t>(static_cast<uint32_t>(offset - a.c[i])) << n;
    n += bits;
    while (n >= 8) {
      *out++ = static_cast<uint8_t>(acc);
      acc >>= 8;
      n -= 8;
    }
  }
}

void UnpackPlain(Poly& a, int bits, const uint8_t* in) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t acc = 0;
  int n = 0;
  for (int i = 0; i < kN; ++i) {
    while (n < bits) {
      acc |= static_cast<uint64_t>(*in++) << n;
      n += 8;
    }
    a.c[i] = static_cast<int32_t>(acc & mask);
    acc >>= bits;
    n -= bits;
  }
}

void UnpackOffset(Poly& a, int32_t offset, int bits, const uint8_t* in) {
  UnpackPlain(a, bits, in);
  for (int i = 0; i < kN; ++i) a.c[i] = offset - a.c[i];
}

}  // namespace swarm::crypto::mldsa_detail
