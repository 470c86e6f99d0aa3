#include "crypto/ml_kem_poly.h"

#include "crypto/hash.h"

namespace swarm::crypto::mlkem {
namespace {

constexpr uint32_t PowMod(uint32_t base, uint32_t exp) {
  uint64_t result = 1, b = base % kQ;
  while (exp > 0) {
    if (exp & 1) result = result * b % kQ;
    b = b * b % kQ;
    exp >>= 1;
  }
  return static_cast<uint32_t>(result);
}

constexpr uint32_t BitRev7(uint32_t i) {
  uint32_t r = 0;
  for (int b = 0; b < 7; ++b) r |= ((i >> b) & 1u) << (6 - b);
  return r;
}

// zeta^BitRev7(i) with zeta = 17, the primitive 256-th root of unity mod q.
constexpr std::array<uint16_t, 128> MakeZetas() {
  std::array<uint16_t, 128> z{};
  for (uint32_t i = 0; i < 128; ++i) z[i] = static_cast<uint16_t>(PowMod(17, BitRev7(i)));
  return z;
}
// zeta^(2*BitRev7(i)+1): the moduli X^2 - gamma_i of the base-case products.
constexpr std::array<uint16_t, 128> MakeGammas() {
  std::array<uint16_t, 128> g{};
  for (uint32_t i = 0; i < 128; ++i) g[i] = static_cast<uint16_t>(PowMod(17, 2 * BitRev7(i) + 1));
  return g;
}

constexpr std::array<uint16_t, 128> kZetas = MakeZetas();
constexpr std::array<uint16_t, 128> kGammas = MakeGammas();
constexpr uint32_t kInv128 = 3303;  // 128^-1 mod q
static_assert(kInv128 * 128 % kQ == 1);
static_assert(kZetas[1] == 1729);

// floor(2^32 / q): Barrett constant.
constexpr uint64_t kBarrett = (uint64_t{1} << 32) / kQ;
// ceil(2^40 / (2q)): division by 2q for Compress (exhaustively checked in tests).
constexpr uint64_t kDiv2q = ((uint64_t{1} << 40) + 2 * kQ - 1) / (2 * kQ);

}  // namespace

uint16_t Reduce(uint32_t x) {
  const uint32_t qhat = static_cast<uint32_t>((static_cast<uint64_t>(x) * kBarrett) >> 32);
  uint32_t r = x - qhat * kQ;  // in [0, 2q)
  r -= kQ;
  r += kQ & (0u - (r >> 31));  // add q back iff the subtraction wrapped
  return static_cast<uint16_t>(r);
}

void Ntt(Poly& f) {
  size_t i = 1;
  for (size_t len = 128; len >= 2; len /= 2) {
    for (size_t start = 0; start < kN; start += 2 * len) {
      const uint32_t zeta = kZetas[i++];
      for (size_t j = start; j < start + len; ++j) {
        const uint16_t t = MulMod(zeta, f[j + len]);
        f[j + len] = SubMod(f[j], t);
        f[j] = AddMod(f[j], t);
      }
    }
  }
}

void InvNtt(Poly& f) {
  size_t i = 127;
  for (size_t len = 2; len <= 128; len *= 2) {
    for (size_t start = 0; start < kN; start += 2 * len) {
      const uint32_t zeta = kZetas[i--];
      for (size_t j = start; j < start + len; ++j) {
        const uint16_t t = f[j];
        f[j] = AddMod(t, f[j + len]);
        f[j + len] = MulMod(zeta, SubMod(f[j + len], t));
      }
    }
  }
  for (auto& c : f) c = MulMod(c, kInv128);
}

void MulAccNtt(Poly& acc, const Poly& f, const Poly& g) {
  for (size_t i = 0; i < 128; ++i) {
    const uint32_t a0 = f[2 * i], a1 = f[2 * i + 1], b0 = g[2 * i], b1 = g[2 * i + 1];
    const uint32_t c0 = Reduce(a0 * b0 + MulMod(MulMod(a1, b1), kGammas[i]));
    const uint32_t c1 = Reduce(a0 * b1 + a1 * b0);
    acc[2 * i] = AddMod(acc[2 * i], c0);
    acc[2 * i + 1] = AddMod(acc[2 * i + 1], c1);
  }
}

Poly MulNtt(const Poly& f, const Poly& g) {
  Poly h{};
  MulAccNtt(h, f, g);
  return h;
}

void AddTo(Poly& acc, const Poly& f) {
  for (size_t i = 0; i < kN; ++i) acc[i] = AddMod(acc[i], f[i]);
}
void SubFrom(Poly& acc, const Poly& f) {
  for (size_t i = 0; i < kN; ++i) acc[i] = SubMod(acc[i], f[i]);
}

uint16_t Compress(uint16_t x, unsigned d) {
  // round(2^d * x / q) = floor((2^(d+1) * x + q) / (2q)), then mod 2^d.
  const uint64_t v = (static_cast<uint64_t>(x) << (d + 1)) + kQ;
  const uint64_t quotient = (v * kDiv2q) >> 40;
  return static_cast<uint16_t>(quotient & ((1u << d) - 1));
}

uint16_t Decompress(uint16_t y, unsigned d) {
  // round(q * y / 2^d)
  return static_cast<uint16_t>((static_cast<uint32_t>(y) * kQ + (1u << (d - 1))) >> d);
}

void CompressPoly(Poly& f, unsigned d) {
  for (auto& c : f) c = Compress(c, d);
}
void DecompressPoly(Poly& f, unsigned d) {
  for (auto& c : f) c = Decompress(c, d);
}

void ByteEncode(const Poly& f, unsigned d, std::span<uint8_t> out) {
  SWARM_ASSERT(out.size() == 32 * d);
  uint32_t acc = 0;
  unsigned bits = 0;
  size_t pos = 0;
  const uint32_t mask = (1u << d) - 1;
  for (size_t i = 0; i < kN; ++i) {
    acc |= (f[i] & mask) << bits;
    bits += d;
    while (bits >= 8) {
      out[pos++] = static_cast<uint8_t>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
}

void ByteDecode(std::span<const uint8_t> in, unsigned d, Poly& f) {
  SWARM_ASSERT(in.size() == 32 * d);
  uint32_t acc = 0;
  unsigned bits = 0;
  size_t pos = 0;
  const uint32_t mask = (1u << d) - 1;
  for (size_t i = 0; i < kN; ++i) {
    while (bits < d) {
      acc |= static_cast<uint32_t>(in[pos++]) << bits;
      bits += 8;
    }
    const uint32_t v = acc & mask;
    f[i] = d == 12 ? Reduce(v) : static_cast<uint16_t>(v);
    acc >>= d;
    bits -= d;
  }
}

bool Encode12IsCanonical(std::span<const uint8_t> in) {
  // Public data (an encapsulation key): an early exit is fine.
  for (size_t i = 0; i + 3 <= in.size(); i += 3) {
    const uint32_t d1 = in[i] | (static_cast<uint32_t>(in[i + 1] & 0x0f) << 8);
    const uint32_t d2 = (in[i + 1] >> 4) | (static_cast<uint32_t>(in[i + 2]) << 4);
    if (d1 >= kQ || d2 >= kQ) return false;
  }
  return true;
}

Poly SampleNtt(std::span<const uint8_t, 32> rho, uint8_t j, uint8_t i) {
  Xof xof(Xof::Kind::kShake128);
  xof.Absorb(rho);
  const uint8_t ji[2] = {j, i};
  xof.Absorb(ji);
  Poly a{};
  size_t n = 0;
  std::array<uint8_t, 168> block;  // one SHAKE128 rate
  while (n < kN) {
    xof.Squeeze(block);
    for (size_t p = 0; p + 3 <= block.size() && n < kN; p += 3) {
      const uint32_t d1 = block[p] | (static_cast<uint32_t>(block[p + 1] & 0x0f) << 8);
      const uint32_t d2 = (block[p + 1] >> 4) | (static_cast<uint32_t>(block[p + 2]) << 4);
      if (d1 < kQ) a[n++] = static_cast<uint16_t>(d1);
      if (d2 < kQ && n < kN) a[n++] = static_cast<uint16_t>(d2);
    }
  }
  return a;
}

Poly SampleCbd(std::span<const uint8_t, 32> s, uint8_t n, unsigned eta) {
  SWARM_ASSERT(eta == 2 || eta == 3);
  std::array<uint8_t, 33> input;
  std::copy(s.begin(), s.end(), input.begin());
  input[32] = n;
  Bytes b = Xof::Shake256(input, 64 * eta);
  Poly f{};
  // Bit-sliced sums: each eta-bit field of `sums` holds the popcount of the
  // matching eta input bits; coefficient i = field(2i) - field(2i+1).
  if (eta == 2) {
    for (size_t i = 0; i < 32; ++i) {  // 4 bytes -> 8 coefficients
      uint32_t t = static_cast<uint32_t>(b[4 * i]) | static_cast<uint32_t>(b[4 * i + 1]) << 8 |
                   static_cast<uint32_t>(b[4 * i + 2]) << 16 |
                   static_cast<uint32_t>(b[4 * i + 3]) << 24;
      const uint32_t sums = (t & 0x55555555u) + ((t >> 1) & 0x55555555u);
      for (size_t j = 0; j < 8; ++j) {
        const uint32_t x = (sums >> (4 * j)) & 3, y = (sums >> (4 * j + 2)) & 3;
        f[8 * i + j] = SubMod(x, y);
      }
      t = 0;
    }
  } else {
    for (size_t i = 0; i < 64; ++i) {  // 3 bytes -> 4 coefficients
      uint32_t t = static_cast<uint32_t>(b[3 * i]) | static_cast<uint32_t>(b[3 * i + 1]) << 8 |
                   static_cast<uint32_t>(b[3 * i + 2]) << 16;
      const uint32_t sums =
          (t & 0x00249249u) + ((t >> 1) & 0x00249249u) + ((t >> 2) & 0x00249249u);
      for (size_t j = 0; j < 4; ++j) {
        const uint32_t x = (sums >> (6 * j)) & 7, y = (sums >> (6 * j + 3)) & 7;
        f[4 * i + j] = SubMod(x, y);
      }
      t = 0;
    }
  }
  SecureZero(b.data(), b.size());
  SecureZero(input.data(), input.size());
  return f;
}

}  // namespace swarm::crypto::mlkem
