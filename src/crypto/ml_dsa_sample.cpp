#include "crypto/ml_dsa_sample.h"

#include <cstring>

#include "common/bytes.h"
#include "crypto/hash.h"

namespace swarm::crypto::mldsa_detail {
namespace {

constexpr size_t kShake128Rate = 168;
constexpr size_t kShake256Rate = 136;

// RejNTTPoly (Alg. 30): 3-byte candidates, 23 bits each, kept if < q. Five
// SHAKE128 blocks give 280 candidates (enough with probability > 1 - 2^-50);
// more blocks are squeezed when needed. Public data (derived from rho).
void RejNttPoly(Poly& a, const uint8_t seed[34]) {
  Xof xof(Xof::Kind::kShake128);
  xof.Absorb(ByteSpan(seed, 34));
  uint8_t buf[5 * kShake128Rate];
  xof.Squeeze(buf);
  size_t len = sizeof(buf);
  size_t pos = 0;
  int ctr = 0;
  while (ctr < kN) {
    if (pos + 3 > len) {
      xof.Squeeze(std::span<uint8_t>(buf, kShake128Rate));
      len = kShake128Rate;
      pos = 0;
    }
    const uint32_t t = buf[pos] | (uint32_t{buf[pos + 1]} << 8) |
                       (uint32_t{buf[pos + 2] & 0x7fu} << 16);
    pos += 3;
    if (t < static_cast<uint32_t>(kQ)) a.c[ctr++] = static_cast<int32_t>(t);
  }
}

// RejBoundedPoly (Alg. 31) for eta in {2, 4}. Each half-byte b is accepted if
// b < 15 (eta 2) or b < 9 (eta 4); the value eta - (b mod 5) / eta - b is
// computed and stored without branching on b. Whether a sample was accepted
// decides where the next one goes, so it is declassified (the standard's
// rejection sampling reveals only which samples were rejected).
void RejBoundedPoly(Poly& a, const uint8_t seed[66], int eta) {
  Xof xof(Xof::Kind::kShake256);
  xof.Absorb(ByteSpan(seed, 66));
  uint8_t buf[2 * kShake256Rate];
  xof.Squeeze(buf);
  size_t len = sizeof(buf);
  size_t pos = 0;
  int32_t tmp[kN + 2];
  uint32_t ctr = 0;
  const uint32_t limit = eta == 2 ? 15 : 9;
  while (ctr < kN) {
    if (pos == len) {
      xof.Squeeze(std::span<uint8_t>(buf, kShake256Rate));
      len = kShake256Rate;
      pos = 0;
    }
    const uint32_t z = buf[pos++];
    for (uint32_t b : {z & 15u, z >> 4}) {
      uint32_t accept = (b - limit) >> 31;  // 1 if b < limit
      SWARM_CT_PUBLIC(&accept, sizeof(accept));  // which samples are rejected (allowed to leak)
      const uint32_t mod5 = b - 5 * ((205 * b) >> 10);
      const int32_t v = eta == 2 ? 2 - static_cast<int32_t>(mod5) : 4 - static_cast<int32_t>(b);
      tmp[ctr] = v;  // ctr <= kN + 1 here
      ctr += accept & static_cast<uint32_t>(ctr < kN);
    }
  }
  std::memcpy(a.c, tmp, sizeof(a.c));
  SecureZero(tmp, sizeof(tmp));
  SecureZero(buf, sizeof(buf));
}

}  // namespace

void ExpandA(Poly* a_hat, const uint8_t rho[32], int k, int l) {
  uint8_t seed[34];
  std::memcpy(seed, rho, 32);
  for (int r = 0; r < k; ++r) {
    for (int s = 0; s < l; ++s) {
      seed[32] = static_cast<uint8_t>(s);
      seed[33] = static_cast<uint8_t>(r);
      RejNttPoly(a_hat[r * l + s], seed);
    }
  }
}

void ExpandS(Poly* s1, Poly* s2, const uint8_t rho_prime[64], int k, int l, int eta) {
  uint8_t seed[66];
  std::memcpy(seed, rho_prime, 64);
  for (int r = 0; r < l + k; ++r) {
    seed[64] = static_cast<uint8_t>(r);
    seed[65] = static_cast<uint8_t>(r >> 8);
    RejBoundedPoly(r < l ? s1[r] : s2[r - l], seed, eta);
  }
  SecureZero(seed, sizeof(seed));
}

void ExpandMask(Poly* y, const uint8_t rho_pp[64], uint16_t kappa, int l, int gamma1_bits) {
  uint8_t seed[66];
  std::memcpy(seed, rho_pp, 64);
  const int bits = gamma1_bits + 1;
  uint8_t buf[32 * 20];
  for (int r = 0; r < l; ++r) {
    const uint16_t v = static_cast<uint16_t>(kappa + r);
    seed[64] = static_cast<uint8_t>(v);
    seed[65] = static_cast<uint8_t>(v >> 8);
    Xof xof(Xof::Kind::kShake256);
    xof.Absorb(ByteSpan(seed, 66));
    xof.Squeeze(std::span<uint8_t>(buf, 32 * bits));
    UnpackOffset(y[r], int32_t{1} << gamma1_bits, bits, buf);
  }
  SecureZero(seed, sizeof(seed));
  SecureZero(buf, sizeof(buf));
}

void SampleInBall(Poly& c, const uint8_t* c_tilde, size_t c_tilde_len, int tau) {
  Xof xof(Xof::Kind::kShake256);
  xof.Absorb(ByteSpan(c_tilde, c_tilde_len));
  uint8_t buf[kShake256Rate];
  xof.Squeeze(buf);
  uint64_t signs = 0;
  for (int i = 0; i < 8; ++i) signs |= uint64_t{buf[i]} << (8 * i);
  size_t pos = 8;
  std::memset(c.c, 0, sizeof(c.c));
  for (int i = kN - tau; i < kN; ++i) {
    int j;
    do {
      if (pos == sizeof(buf)) {
        xof.Squeeze(buf);
        pos = 0;
      }
      j = buf[pos++];
    } while (j > i);
    c.c[i] = c.c[j];
    c.c[j] = 1 - 2 * static_cast<int32_t>(signs & 1);
    signs >>= 1;
  }
  SecureZero(buf, sizeof(buf));
}

}  // namespace swarm::crypto::mldsa_detail
