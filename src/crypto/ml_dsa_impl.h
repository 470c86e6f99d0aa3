// ML-DSA internals shared by ml_dsa.cpp (one-shot API) and ml_dsa_keys.cpp
// (prepared keys): the parameter sets, the per-call workspace and the
// templated KeyGen_internal / Sign_internal / Verify_internal cores, plus the
// argument checks. Internal to crypto/, not a public API.
#pragma once

#include <cstring>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/hash.h"
#include "crypto/ml_dsa.h"
#include "crypto/ml_dsa_poly.h"
#include "crypto/ml_dsa_sample.h"

namespace swarm::crypto::mldsa_detail {

template <int K_, int L_, int Eta_, int Tau_, int Beta_, int Gamma1Bits_, int Gamma2_,
          int Omega_, int CTilde_>
struct Params {
  static constexpr int K = K_, L = L_, kEta = Eta_, kTau = Tau_, kBeta = Beta_;
  static constexpr int kGamma1Bits = Gamma1Bits_;
  static constexpr int32_t kGamma1 = int32_t{1} << Gamma1Bits_;
  static constexpr int32_t kGamma2 = Gamma2_;
  static constexpr int kOmega = Omega_, kCTilde = CTilde_;
  static constexpr int kEtaBits = Eta_ == 2 ? 3 : 4;
  static constexpr int kZBits = Gamma1Bits_ + 1;
  static constexpr int kW1Bits = Gamma2_ == (kQ - 1) / 88 ? 6 : 4;
  static constexpr size_t kPk = 32 + 320 * K;
  static constexpr size_t kSk = 128 + 32 * ((K + L) * kEtaBits + kD * K);
  static constexpr size_t kSig = CTilde_ + L * 32 * kZBits + Omega_ + K;
  static constexpr size_t kW1Packed = K * 32 * kW1Bits;
};
using P44 = Params<4, 4, 2, 39, 78, 17, (kQ - 1) / 88, 80, 32>;
using P65 = Params<6, 5, 4, 49, 196, 19, (kQ - 1) / 32, 55, 48>;
using P87 = Params<8, 7, 2, 60, 120, 19, (kQ - 1) / 32, 75, 64>;
static_assert(P44::kPk == kMlDsa44PublicKeyBytes && P44::kSk == kMlDsa44SecretKeyBytes &&
              P44::kSig == kMlDsa44SignatureBytes);
static_assert(P65::kPk == kMlDsa65PublicKeyBytes && P65::kSk == kMlDsa65SecretKeyBytes &&
              P65::kSig == kMlDsa65SignatureBytes);
static_assert(P87::kPk == kMlDsa87PublicKeyBytes && P87::kSk == kMlDsa87SecretKeyBytes &&
              P87::kSig == kMlDsa87SignatureBytes);

// Sign_internal retries are bounded: a valid key needs ~4-5 tries on average
// and more than 1000 has probability far below 2^-100; a corrupt secret key
// (coefficients outside [-eta, eta]) gets an error instead of a long loop.
constexpr int kSignAttemptsMax = 1000;

inline void Shake256Parts(std::initializer_list<ByteSpan> parts, uint8_t* out, size_t len) {
  Xof xof(Xof::Kind::kShake256);
  for (const auto& p : parts) xof.Absorb(p);
  xof.Squeeze(std::span<uint8_t>(out, len));
}

// Scratch space for one call; heap-allocated once (it is up to ~140 KiB) and
// wiped before release (except the public matrix).
template <typename P>
struct Work {
  Poly a_hat[P::K * P::L];
  Poly s1[P::L], s1_hat[P::L], s2[P::K], s2_hat[P::K], t0_hat[P::K];
  Poly y[P::L], y_hat[P::L], z[P::L];
  Poly w[P::K], w1[P::K], w0[P::K], h[P::K];
  Poly c, c_hat, tmp, tmp2, hi;
  uint8_t w1_packed[P::kW1Packed];
  void WipeSecrets() {
    // Everything after a_hat may hold secret-derived values.
    SecureZero(reinterpret_cast<uint8_t*>(this) + sizeof(a_hat), sizeof(*this) - sizeof(a_hat));
  }
};

template <typename P>
std::unique_ptr<Work<P>> NewWork() {
  return std::make_unique_for_overwrite<Work<P>>();
}

template <typename P>
void KeyGenImpl(const uint8_t xi[32], uint8_t* pk, uint8_t* sk) {
  auto w = NewWork<P>();
  uint8_t in[34];
  std::memcpy(in, xi, 32);
  in[32] = P::K;
  in[33] = P::L;
  uint8_t seeds[128];  // rho (32) || rho' (64) || K (32)
  Shake256Parts({ByteSpan(in, 34)}, seeds, sizeof(seeds));
  SWARM_CT_PUBLIC(seeds, 32);  // rho is part of the public key
  const uint8_t* rho = seeds;
  const uint8_t* rho_prime = seeds + 32;
  const uint8_t* key = seeds + 96;

  ExpandA(w->a_hat, rho, P::K, P::L);
  ExpandS(w->s1, w->s2, rho_prime, P::K, P::L, P::kEta);
  for (int j = 0; j < P::L; ++j) {
    w->s1_hat[j] = w->s1[j];
    Ntt(w->s1_hat[j]);
  }
  // t = INTT(A * NTT(s1)) + s2 = t1 * 2^d + t0; w1 holds t1, w0 holds t0.
  std::memcpy(pk, rho, 32);
  for (int i = 0; i < P::K; ++i) {
    DotMont(w->w[i], &w->a_hat[i * P::L], w->s1_hat, P::L);
    InvNtt(w->w[i]);
    PolyAdd(w->w[i], w->w[i], w->s2[i]);
    PolyFreeze(w->w[i]);
    PolyPower2Round(w->w1[i], w->w0[i], w->w[i]);
    PackPlain(w->w1[i], 10, pk + 32 + 320 * i);
  }
  uint8_t* out = sk;
  std::memcpy(out, rho, 32);
  std::memcpy(out + 32, key, 32);
  Shake256Parts({ByteSpan(pk, P::kPk)}, out + 64, 64);  // tr
  out += 128;
  for (int j = 0; j < P::L; ++j, out += 32 * P::kEtaBits)
    PackOffset(w->s1[j], P::kEta, P::kEtaBits, out);
  for (int i = 0; i < P::K; ++i, out += 32 * P::kEtaBits)
    PackOffset(w->s2[i], P::kEta, P::kEtaBits, out);
  for (int i = 0; i < P::K; ++i, out += 32 * kD)
    PackOffset(w->w0[i], 1 << (kD - 1), kD, out);
  w->WipeSecrets();
  SecureZero(in, sizeof(in));
  SecureZero(seeds, sizeof(seeds));
}

template <typename P>
void PackW1(Work<P>& w) {
  for (int i = 0; i < P::K; ++i) PackPlain(w.w1[i], P::kW1Bits, w.w1_packed + 32 * P::kW1Bits * i);
}

// skDecode plus the NTTs and ExpandA that Sign_internal needs (Algorithm 7,
// lines 1-5). The outputs hold secrets (except a_hat).
template <typename P>
void ExpandSecretKey(const uint8_t* sk, Poly* a_hat, Poly* s1_hat, Poly* s2_hat, Poly* t0_hat) {
  uint8_t rho[32];  // public (it is in the public key)
  std::memcpy(rho, sk, 32);
  SWARM_CT_PUBLIC(rho, 32);
  const uint8_t* in = sk + 128;
  for (int j = 0; j < P::L; ++j, in += 32 * P::kEtaBits) {
    UnpackOffset(s1_hat[j], P::kEta, P::kEtaBits, in);
    Ntt(s1_hat[j]);
  }
  for (int i = 0; i < P::K; ++i, in += 32 * P::kEtaBits) {
    UnpackOffset(s2_hat[i], P::kEta, P::kEtaBits, in);
    Ntt(s2_hat[i]);
  }
  for (int i = 0; i < P::K; ++i, in += 32 * kD) {
    UnpackOffset(t0_hat[i], 1 << (kD - 1), kD, in);
    Ntt(t0_hat[i]);
  }
  ExpandA(a_hat, rho, P::K, P::L);
}

// Sign_internal from mu and an expanded key (Algorithm 7, lines 6-32).
// Returns false only if the attempt limit was reached.
template <typename P>
bool SignCore(Work<P>* w, const uint8_t key[32], const Poly* a_hat, const Poly* s1_hat,
              const Poly* s2_hat, const Poly* t0_hat, const uint8_t mu[64],
              const uint8_t rnd[32], uint8_t* sig) {
  uint8_t rho_pp[64];
  Shake256Parts({ByteSpan(key, 32), ByteSpan(rnd, 32), ByteSpan(mu, 64)}, rho_pp, 64);

  bool done = false;
  uint16_t kappa = 0;
  for (int attempt = 0; attempt < kSignAttemptsMax && !done; ++attempt, kappa += P::L) {
    ExpandMask(w->y, rho_pp, kappa, P::L, P::kGamma1Bits);
    for (int j = 0; j < P::L; ++j) {
      w->y_hat[j] = w->y[j];
      Ntt(w->y_hat[j]);
    }
    for (int i = 0; i < P::K; ++i) {
      DotMont(w->w[i], &a_hat[i * P::L], w->y_hat, P::L);
      InvNtt(w->w[i]);
      PolyFreeze(w->w[i]);
      PolyDecompose(w->w1[i], w->w0[i], w->w[i], P::kGamma2);
    }
    PackW1(*w);
    uint8_t* c_tilde = sig;
    Shake256Parts({ByteSpan(mu, 64), ByteSpan(w->w1_packed, P::kW1Packed)}, c_tilde, P::kCTilde);
    SWARM_CT_PUBLIC(c_tilde, P::kCTilde);  // SampleInBall branches on it (FIPS 204 allows)
    SampleInBall(w->c, c_tilde, P::kCTilde, P::kTau);
    w->c_hat = w->c;
    Ntt(w->c_hat);

    uint32_t reject = 0;
    for (int j = 0; j < P::L; ++j) {  // z = y + c*s1
      PointwiseMont(w->tmp, w->c_hat, s1_hat[j]);
      InvNtt(w->tmp);
      PolyReduce32(w->tmp);
      PolyAdd(w->z[j], w->y[j], w->tmp);
      reject |= PolyExceedsNorm(w->z[j], P::kGamma1 - P::kBeta);
    }
    // Rejected attempts stop at the first failed check, as in the standard's
    // order (z, then r0, then c*t0 and the hint count). The branches depend
    // only on the accept/reject outcome of each check.
    SWARM_CT_PUBLIC(&reject, sizeof(reject));
    if (reject != 0) continue;
    for (int i = 0; i < P::K; ++i) {
      PointwiseMont(w->tmp, w->c_hat, s2_hat[i]);  // c*s2
      InvNtt(w->tmp);
      PolySub(w->w[i], w->w[i], w->tmp);  // w - c*s2
      PolyFreeze(w->w[i]);
      PolyDecompose(w->w1[i], w->w0[i], w->w[i], P::kGamma2);
      reject |= PolyExceedsNorm(w->w0[i], P::kGamma2 - P::kBeta);
    }
    SWARM_CT_PUBLIC(&reject, sizeof(reject));
    if (reject != 0) continue;
    uint32_t ones = 0;
    for (int i = 0; i < P::K; ++i) {
      PointwiseMont(w->tmp, w->c_hat, t0_hat[i]);  // c*t0
      InvNtt(w->tmp);
      PolyReduce32(w->tmp);
      reject |= PolyExceedsNorm(w->tmp, P::kGamma2);
      // h = MakeHint(-c*t0, w - c*s2 + c*t0) = HighBits(w - cs2 + ct0) != HighBits(w - cs2).
      PolyAdd(w->tmp2, w->w[i], w->tmp);
      PolyFreeze(w->tmp2);
      PolyDecompose(w->hi, w->tmp, w->tmp2, P::kGamma2);
      ones += PolyHintFromHighBits(w->h[i], w->hi, w->w1[i]);
    }
    reject |= static_cast<uint32_t>(P::kOmega - static_cast<int32_t>(ones)) >> 31;
    SWARM_CT_PUBLIC(&reject, sizeof(reject));
    if (reject != 0) continue;
    SWARM_CT_PUBLIC(w->h, sizeof(w->h));  // the hint is published in the signature

    uint8_t* out = sig + P::kCTilde;
    for (int j = 0; j < P::L; ++j, out += 32 * P::kZBits)
      PackOffset(w->z[j], P::kGamma1, P::kZBits, out);
    // HintBitPack (Alg. 20): the hint is part of the signature, so public.
    std::memset(out, 0, P::kOmega + P::K);
    int idx = 0;
    for (int i = 0; i < P::K; ++i) {
      for (int j = 0; j < kN; ++j)
        if (w->h[i].c[j] != 0) out[idx++] = static_cast<uint8_t>(j);
      out[P::kOmega + i] = static_cast<uint8_t>(idx);
    }
    done = true;
  }
  w->WipeSecrets();
  SecureZero(rho_pp, sizeof(rho_pp));
  return done;
}

template <typename P>
bool SignImpl(const uint8_t* sk, const uint8_t mu[64], const uint8_t rnd[32], uint8_t* sig) {
  auto w = NewWork<P>();
  ExpandSecretKey<P>(sk, w->a_hat, w->s1_hat, w->s2_hat, w->t0_hat);
  return SignCore<P>(w.get(), sk + 32, w->a_hat, w->s1_hat, w->s2_hat, w->t0_hat, mu, rnd, sig);
}

// HintBitUnpack (Alg. 21); false for a malformed encoding.
template <typename P>
bool UnpackHint(Poly* h, const uint8_t* y) {
  int idx = 0;
  for (int i = 0; i < P::K; ++i) {
    std::memset(h[i].c, 0, sizeof(h[i].c));
    const int end = y[P::kOmega + i];
    if (end < idx || end > P::kOmega) return false;
    const int first = idx;
    for (; idx < end; ++idx) {
      if (idx > first && y[idx - 1] >= y[idx]) return false;
      h[i].c[y[idx]] = 1;
    }
  }
  for (int i = idx; i < P::kOmega; ++i)
    if (y[i] != 0) return false;
  return true;
}

// Verify_internal from mu (Algorithm 8, lines 1-13 without mu). Public data only.
// `a_hat` and `t1_hat` may come precomputed (MlDsaVerifyingKey) or be null.
template <typename P>
bool VerifyImpl(const uint8_t* pk, const uint8_t mu[64], const uint8_t* sig,
                const Poly* a_hat = nullptr, const Poly* t1_hat = nullptr) {
  auto w = NewWork<P>();
  const uint8_t* c_tilde = sig;
  const uint8_t* in = sig + P::kCTilde;
  for (int j = 0; j < P::L; ++j, in += 32 * P::kZBits)
    UnpackOffset(w->z[j], P::kGamma1, P::kZBits, in);
  if (!UnpackHint<P>(w->h, in)) return false;
  for (int j = 0; j < P::L; ++j)
    if (PolyExceedsNorm(w->z[j], P::kGamma1 - P::kBeta)) return false;

  if (a_hat == nullptr) {
    ExpandA(w->a_hat, pk, P::K, P::L);
    a_hat = w->a_hat;
  }
  SampleInBall(w->c_hat, c_tilde, P::kCTilde, P::kTau);
  Ntt(w->c_hat);
  for (int j = 0; j < P::L; ++j) Ntt(w->z[j]);
  for (int i = 0; i < P::K; ++i) {
    DotMont(w->w[i], &a_hat[i * P::L], w->z, P::L);
    if (t1_hat != nullptr) {
      PointwiseMont(w->tmp, w->c_hat, t1_hat[i]);
    } else {
      UnpackPlain(w->tmp, 10, pk + 32 + 320 * i);
      PolyShiftLeftD(w->tmp);
      Ntt(w->tmp);
      PointwiseMont(w->tmp, w->c_hat, w->tmp);
    }
    PolySub(w->w[i], w->w[i], w->tmp);
    PolyReduce32(w->w[i]);
    InvNtt(w->w[i]);
    PolyFreeze(w->w[i]);
    PolyUseHint(w->w1[i], w->w[i], w->h[i], P::kGamma2);
  }
  PackW1(*w);
  uint8_t c_check[64];
  Shake256Parts({ByteSpan(mu, 64), ByteSpan(w->w1_packed, P::kW1Packed)}, c_check, P::kCTilde);
  return std::memcmp(c_check, c_tilde, P::kCTilde) == 0;
}

// Runs fn(P{}) for the level's parameter type.
template <typename F>
auto WithParams(MlDsaLevel level, F&& fn) {
  switch (level) {
    case MlDsaLevel::k44:
      return fn(P44{});
    case MlDsaLevel::k65:
      return fn(P65{});
    case MlDsaLevel::k87:
      break;
  }
  return fn(P87{});
}

// ---- Argument checks and mu (defined in ml_dsa.cpp) ----------------------------

Status CheckLevel(MlDsaLevel level);
Status CheckLength(std::string_view field, MlDsaLevel level, size_t got, size_t want);
Status CheckContext(ByteSpan ctx);
Status CheckSecretKey(MlDsaLevel level, ByteSpan sk);
// rnd = 0^32 (deterministic) or 32 bytes from RAND_bytes (hedged).
Status FillRnd(uint8_t rnd[32], MlDsaSigning mode);
// mu = H(tr || M') with M' given in parts.
void MuFromParts(const uint8_t tr[64], std::initializer_list<ByteSpan> m_prime, uint8_t mu[64]);
void TrOfPublicKey(ByteSpan pk, uint8_t tr[64]);
// M' prefix for the pure (0) and pre-hash (1) variants: domain byte, ctx length.
struct Prefix {
  uint8_t bytes[2];
};
Prefix MakePrefix(uint8_t domain, ByteSpan ctx);
Status SignAttemptsError(MlDsaLevel level);

}  // namespace swarm::crypto::mldsa_detail
