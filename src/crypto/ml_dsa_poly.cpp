#include "crypto/ml_dsa_poly.h"

#include <array>
#include <type_traits>

#include "common/status.h"

// The butterflies and pointwise products vectorize well; build them at -O3 and,
// on x86-64, also as an AVX2 clone picked at load time (GCC target_clones).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
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

// Zetas in the order the inverse transform consumes them (negated, k = 255
// down to 1), so every layer reads its block zetas with an increasing index.
constexpr std::array<int32_t, 256> MakeInvZetas() {
  std::array<int32_t, 256> z{};
  for (int i = 0; i < 255; ++i) z[i] = -kZetas[255 - i];
  return z;
}
constexpr std::array<int32_t, 256> kInvZetas = MakeInvZetas();

// One forward layer with compile-time length (so short layers unroll and long
// ones vectorize without run-time trip counts). `zetas` has 128 / kLen entries.
template <unsigned kLen>
inline void NttLayer(int32_t* a, const int32_t* zetas) {
  for (unsigned b = 0; b < 128 / kLen; ++b) {
    const int64_t zeta = zetas[b];
    int32_t* x = a + 2 * kLen * b;
    for (unsigned j = 0; j < kLen; ++j) {
      const int32_t t = MontReduce(zeta * x[j + kLen]);
      x[j + kLen] = x[j] - t;
      x[j] = x[j] + t;
    }
  }
}

template <unsigned kLen>
inline void InvNttLayer(int32_t* a, const int32_t* zetas) {
  for (unsigned b = 0; b < 128 / kLen; ++b) {
    const int64_t zeta = zetas[b];
    int32_t* x = a + 2 * kLen * b;
    for (unsigned j = 0; j < kLen; ++j) {
      const int32_t t = x[j];
      x[j] = t + x[j + kLen];
      x[j + kLen] = MontReduce(zeta * (t - x[j + kLen]));
    }
  }
}

}  // namespace

SWARM_MLDSA_SIMD void Ntt(Poly& p) {
  int32_t* a = p.c;
  const int32_t* z = kZetas.data() + 1;  // layer len uses 128/len zetas in order
  NttLayer<128>(a, z);
  NttLayer<64>(a, z + 1);
  NttLayer<32>(a, z + 3);
  NttLayer<16>(a, z + 7);
  NttLayer<8>(a, z + 15);
  NttLayer<4>(a, z + 31);
  NttLayer<2>(a, z + 63);
  NttLayer<1>(a, z + 127);
}

SWARM_MLDSA_SIMD void InvNtt(Poly& p) {
  int32_t* a = p.c;
  const int32_t* z = kInvZetas.data();
  InvNttLayer<1>(a, z);
  InvNttLayer<2>(a, z + 128);
  InvNttLayer<4>(a, z + 192);
  InvNttLayer<8>(a, z + 224);
  InvNttLayer<16>(a, z + 240);
  InvNttLayer<32>(a, z + 248);
  InvNttLayer<64>(a, z + 252);
  InvNttLayer<128>(a, z + 254);
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

namespace {

// Bit packing with a compile-time width: a group of kGroup coefficients fills
// a whole number of bytes (8 coefficients = kBits bytes, or 4 = kBits / 2
// bytes for the even widths above 16) and goes through one 128-bit accumulator.
template <int kBits>
constexpr int kGroup = 8 * kBits <= 128 ? 8 : 4;

template <int kBits, typename Value>
void PackT(const Poly& a, uint8_t* out, Value value) {
  constexpr int kG = kGroup<kBits>, kBytes = kG * kBits / 8;
  constexpr uint32_t kMask = (uint32_t{1} << kBits) - 1;
  for (int g = 0; g < kN; g += kG) {
    unsigned __int128 acc = 0;
    for (int i = 0; i < kG; ++i)
      acc |= static_cast<unsigned __int128>(static_cast<uint32_t>(value(a.c[g + i])) & kMask)
             << (kBits * i);
    for (int b = 0; b < kBytes; ++b) out[b] = static_cast<uint8_t>(acc >> (8 * b));
    out += kBytes;
  }
}

template <int kBits>
void UnpackT(Poly& a, const uint8_t* in, int32_t offset, bool negate) {
  constexpr int kG = kGroup<kBits>, kBytes = kG * kBits / 8;
  constexpr uint32_t kMask = (uint32_t{1} << kBits) - 1;
  for (int g = 0; g < kN; g += kG) {
    unsigned __int128 acc = 0;
    for (int b = 0; b < kBytes; ++b) acc |= static_cast<unsigned __int128>(in[b]) << (8 * b);
    for (int i = 0; i < kG; ++i) {
      const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(acc >> (kBits * i)) & kMask);
      a.c[g + i] = negate ? offset - v : v;
    }
    in += kBytes;
  }
}

template <typename F>
void WithBits(int bits, F&& f) {
  switch (bits) {
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    case 6: return f(std::integral_constant<int, 6>{});
    case 10: return f(std::integral_constant<int, 10>{});
    case 13: return f(std::integral_constant<int, 13>{});
    case 18: return f(std::integral_constant<int, 18>{});
    case 20: return f(std::integral_constant<int, 20>{});
  }
  SWARM_ASSERT(false && "unsupported ML-DSA packing width");
}

}  // namespace

void PackPlain(const Poly& a, int bits, uint8_t* out) {
  WithBits(bits, [&](auto b) { PackT<decltype(b)::value>(a, out, [](int32_t v) { return v; }); });
}

void PackOffset(const Poly& a, int32_t offset, int bits, uint8_t* out) {
  WithBits(bits, [&](auto b) {
    PackT<decltype(b)::value>(a, out, [offset](int32_t v) { return offset - v; });
  });
}

void UnpackPlain(Poly& a, int bits, const uint8_t* in) {
  WithBits(bits, [&](auto b) { UnpackT<decltype(b)::value>(a, in, 0, false); });
}

void UnpackOffset(Poly& a, int32_t offset, int bits, const uint8_t* in) {
  WithBits(bits, [&](auto b) { UnpackT<decltype(b)::value>(a, in, offset, true); });
}

}  // namespace swarm::crypto::mldsa_detail
