// ML-DSA KeyGen_internal, Sign_internal (from mu) and Verify_internal (from
// mu), templated on the parameter set, plus the public entry points that check
// lengths and compute mu. Pre-hash OIDs and names are in ml_dsa_prehash.cpp.
#include "crypto/ml_dsa.h"

#include <openssl/rand.h>

#include <cstring>
#include <memory>
#include <vector>

#include "crypto/hash.h"
#include "crypto/ml_dsa_poly.h"
#include "crypto/ml_dsa_sample.h"

namespace swarm::crypto {
namespace {

using namespace mldsa_detail;

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

void Shake256Parts(std::initializer_list<ByteSpan> parts, uint8_t* out, size_t len) {
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

Status CheckLevel(MlDsaLevel level) {
  if (level == MlDsaLevel::k44 || level == MlDsaLevel::k65 || level == MlDsaLevel::k87)
    return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown ML-DSA parameter set ", static_cast<int>(level)));
}

Status CheckLength(std::string_view field, MlDsaLevel level, size_t got, size_t want) {
  if (got == want) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(MlDsaName(level), " ", std::string(field),
                                                 " must be ", want, " bytes, got ", got));
}

Status CheckContext(ByteSpan ctx) {
  if (ctx.size() <= kMlDsaContextBytesMax) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("ML-DSA context must be at most ",
                                                 kMlDsaContextBytesMax, " bytes, got ",
                                                 ctx.size()));
}

StatusOr<Bytes> SignMuChecked(MlDsaLevel level, ByteSpan sk, const uint8_t mu[64],
                              const uint8_t rnd[32]) {
  Bytes sig(MlDsaSizesOf(level).signature);
  const bool ok = WithParams(level, [&](auto p) {
    return SignImpl<decltype(p)>(sk.data(), mu, rnd, sig.data());
  });
  if (!ok) {
    return absl::InternalError(absl::StrCat(MlDsaName(level), " signing gave up after ",
                                            kSignAttemptsMax,
                                            " attempts: the secret key is corrupt"));
  }
  return sig;
}

Status FillRnd(uint8_t rnd[32], MlDsaSigning mode) {
  std::memset(rnd, 0, 32);
  if (mode == MlDsaSigning::kDeterministic) return absl::OkStatus();
  if (RAND_bytes(rnd, 32) != 1) return absl::InternalError("OpenSSL RAND_bytes failed");
  return absl::OkStatus();
}

// mu = H(tr || M') with M' given in parts.
void MuFromParts(const uint8_t tr[64], std::initializer_list<ByteSpan> m_prime, uint8_t mu[64]) {
  Xof xof(Xof::Kind::kShake256);
  xof.Absorb(ByteSpan(tr, 64));
  for (const auto& p : m_prime) xof.Absorb(p);
  xof.Squeeze(std::span<uint8_t>(mu, 64));
}

void TrOfPublicKey(ByteSpan pk, uint8_t tr[64]) { Shake256Parts({pk}, tr, 64); }

Status CheckSecretKey(MlDsaLevel level, ByteSpan sk) {
  SWARM_RETURN_IF_ERROR(CheckLevel(level));
  return CheckLength("secret key", level, sk.size(), MlDsaSizesOf(level).secret_key);
}
Status CheckVerifyInputs(MlDsaLevel level, ByteSpan pk, ByteSpan sig) {
  SWARM_RETURN_IF_ERROR(CheckLevel(level));
  SWARM_RETURN_IF_ERROR(
      CheckLength("public key", level, pk.size(), MlDsaSizesOf(level).public_key));
  return CheckLength("signature", level, sig.size(), MlDsaSizesOf(level).signature);
}

bool VerifyMuUnchecked(MlDsaLevel level, ByteSpan pk, const uint8_t mu[64], ByteSpan sig) {
  return WithParams(level,
                    [&](auto p) { return VerifyImpl<decltype(p)>(pk.data(), mu, sig.data()); });
}

// M' prefix for the pure and pre-hash variants: domain byte, ctx length.
struct Prefix {
  uint8_t bytes[2];
};
Prefix MakePrefix(uint8_t domain, ByteSpan ctx) {
  return {{domain, static_cast<uint8_t>(ctx.size())}};
}

}  // namespace

// Defined in ml_dsa_prehash.cpp: OID || PH(message) for HashML-DSA.
Bytes MlDsaPreHashSuffix(ByteSpan message, MlDsaHash hash);

MlDsaKeyPair::~MlDsaKeyPair() { SecureZero(secret_key.data(), secret_key.size()); }

StatusOr<MlDsaKeyPair> MlDsaKeyGenFromSeed(MlDsaLevel level, ByteSpan seed) {
  SWARM_RETURN_IF_ERROR(CheckLevel(level));
  SWARM_RETURN_IF_ERROR(CheckLength("seed", level, seed.size(), kMlDsaSeedBytes));
  MlDsaKeyPair kp;
  kp.public_key.resize(MlDsaSizesOf(level).public_key);
  kp.secret_key.resize(MlDsaSizesOf(level).secret_key);
  WithParams(level, [&](auto p) {
    KeyGenImpl<decltype(p)>(seed.data(), kp.public_key.data(), kp.secret_key.data());
    return 0;
  });
  return kp;
}

StatusOr<MlDsaKeyPair> MlDsaKeyGen(MlDsaLevel level) {
  uint8_t xi[kMlDsaSeedBytes];
  if (RAND_bytes(xi, sizeof(xi)) != 1) return absl::InternalError("OpenSSL RAND_bytes failed");
  auto kp = MlDsaKeyGenFromSeed(level, ByteSpan(xi, sizeof(xi)));
  SecureZero(xi, sizeof(xi));
  return kp;
}

StatusOr<Bytes> MlDsaSign(MlDsaLevel level, ByteSpan sk, ByteSpan message, ByteSpan ctx,
                          MlDsaSigning mode) {
  SWARM_RETURN_IF_ERROR(CheckSecretKey(level, sk));
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  uint8_t mu[64], rnd[32];
  SWARM_RETURN_IF_ERROR(FillRnd(rnd, mode));
  const Prefix pre = MakePrefix(0, ctx);
  MuFromParts(sk.data() + 64, {ByteSpan(pre.bytes, 2), ctx, message}, mu);
  auto sig = SignMuChecked(level, sk, mu, rnd);
  SecureZero(rnd, sizeof(rnd));
  return sig;
}

StatusOr<bool> MlDsaVerify(MlDsaLevel level, ByteSpan pk, ByteSpan message, ByteSpan sig,
                           ByteSpan ctx) {
  SWARM_RETURN_IF_ERROR(CheckVerifyInputs(level, pk, sig));
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  uint8_t tr[64], mu[64];
  TrOfPublicKey(pk, tr);
  const Prefix pre = MakePrefix(0, ctx);
  MuFromParts(tr, {ByteSpan(pre.bytes, 2), ctx, message}, mu);
  return VerifyMuUnchecked(level, pk, mu, sig);
}

StatusOr<Bytes> MlDsaSignPreHash(MlDsaLevel level, ByteSpan sk, ByteSpan message, ByteSpan ctx,
                                 MlDsaHash hash, MlDsaSigning mode) {
  SWARM_RETURN_IF_ERROR(CheckSecretKey(level, sk));
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  uint8_t mu[64], rnd[32];
  SWARM_RETURN_IF_ERROR(FillRnd(rnd, mode));
  const Prefix pre = MakePrefix(1, ctx);
  const Bytes suffix = MlDsaPreHashSuffix(message, hash);
  MuFromParts(sk.data() + 64, {ByteSpan(pre.bytes, 2), ctx, suffix}, mu);
  auto sig = SignMuChecked(level, sk, mu, rnd);
  SecureZero(rnd, sizeof(rnd));
  return sig;
}

StatusOr<bool> MlDsaVerifyPreHash(MlDsaLevel level, ByteSpan pk, ByteSpan message, ByteSpan sig,
                                  ByteSpan ctx, MlDsaHash hash) {
  SWARM_RETURN_IF_ERROR(CheckVerifyInputs(level, pk, sig));
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  uint8_t tr[64], mu[64];
  TrOfPublicKey(pk, tr);
  const Prefix pre = MakePrefix(1, ctx);
  const Bytes suffix = MlDsaPreHashSuffix(message, hash);
  MuFromParts(tr, {ByteSpan(pre.bytes, 2), ctx, suffix}, mu);
  return VerifyMuUnchecked(level, pk, mu, sig);
}

StatusOr<Bytes> MlDsaFormatMessage(ByteSpan message, ByteSpan ctx) {
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  Bytes m{0, static_cast<uint8_t>(ctx.size())};
  m.insert(m.end(), ctx.begin(), ctx.end());
  m.insert(m.end(), message.begin(), message.end());
  return m;
}

StatusOr<Bytes> MlDsaFormatPreHashMessage(ByteSpan message, ByteSpan ctx, MlDsaHash hash) {
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  Bytes m{1, static_cast<uint8_t>(ctx.size())};
  m.insert(m.end(), ctx.begin(), ctx.end());
  const Bytes suffix = MlDsaPreHashSuffix(message, hash);
  m.insert(m.end(), suffix.begin(), suffix.end());
  return m;
}

StatusOr<Bytes> MlDsaSignInternal(MlDsaLevel level, ByteSpan sk, ByteSpan m_prime, ByteSpan rnd) {
  SWARM_RETURN_IF_ERROR(CheckSecretKey(level, sk));
  SWARM_RETURN_IF_ERROR(CheckLength("rnd", level, rnd.size(), kMlDsaRndBytes));
  uint8_t mu[64];
  MuFromParts(sk.data() + 64, {m_prime}, mu);
  return SignMuChecked(level, sk, mu, rnd.data());
}

StatusOr<bool> MlDsaVerifyInternal(MlDsaLevel level, ByteSpan pk, ByteSpan m_prime,
                                   ByteSpan sig) {
  SWARM_RETURN_IF_ERROR(CheckVerifyInputs(level, pk, sig));
  uint8_t tr[64], mu[64];
  TrOfPublicKey(pk, tr);
  MuFromParts(tr, {m_prime}, mu);
  return VerifyMuUnchecked(level, pk, mu, sig);
}

StatusOr<Bytes> MlDsaSignMu(MlDsaLevel level, ByteSpan sk, ByteSpan mu, ByteSpan rnd) {
  SWARM_RETURN_IF_ERROR(CheckSecretKey(level, sk));
  SWARM_RETURN_IF_ERROR(CheckLength("mu", level, mu.size(), kMlDsaMuBytes));
  SWARM_RETURN_IF_ERROR(CheckLength("rnd", level, rnd.size(), kMlDsaRndBytes));
  return SignMuChecked(level, sk, mu.data(), rnd.data());
}

StatusOr<bool> MlDsaVerifyMu(MlDsaLevel level, ByteSpan pk, ByteSpan mu, ByteSpan sig) {
  SWARM_RETURN_IF_ERROR(CheckVerifyInputs(level, pk, sig));
  SWARM_RETURN_IF_ERROR(CheckLength("mu", level, mu.size(), kMlDsaMuBytes));
  return VerifyMuUnchecked(level, pk, mu.data(), sig);
}

StatusOr<Bytes> MlDsaComputeMu(MlDsaLevel level, ByteSpan pk, ByteSpan m_prime) {
  SWARM_RETURN_IF_ERROR(CheckLevel(level));
  SWARM_RETURN_IF_ERROR(
      CheckLength("public key", level, pk.size(), MlDsaSizesOf(level).public_key));
  uint8_t tr[64];
  TrOfPublicKey(pk, tr);
  Bytes mu(64);
  MuFromParts(tr, {m_prime}, mu.data());
  return mu;
}

// ---- MlDsaVerifyingKey -------------------------------------------------------

struct MlDsaVerifyingKey::Expanded {
  MlDsaLevel level;
  Bytes public_key;
  uint8_t tr[64];
  std::vector<Poly> a_hat;   // k * l, NTT domain
  std::vector<Poly> t1_hat;  // k, NTT(t1 * 2^d)
};

StatusOr<MlDsaVerifyingKey> MlDsaVerifyingKey::Create(MlDsaLevel level, ByteSpan pk) {
  SWARM_RETURN_IF_ERROR(CheckLevel(level));
  SWARM_RETURN_IF_ERROR(
      CheckLength("public key", level, pk.size(), MlDsaSizesOf(level).public_key));
  auto e = std::make_shared<Expanded>();
  e->level = level;
  e->public_key.assign(pk.begin(), pk.end());
  TrOfPublicKey(pk, e->tr);
  WithParams(level, [&](auto p) {
    using P = decltype(p);
    e->a_hat.resize(P::K * P::L);
    e->t1_hat.resize(P::K);
    ExpandA(e->a_hat.data(), pk.data(), P::K, P::L);
    for (int i = 0; i < P::K; ++i) {
      UnpackPlain(e->t1_hat[i], 10, pk.data() + 32 + 320 * i);
      PolyShiftLeftD(e->t1_hat[i]);
      Ntt(e->t1_hat[i]);
    }
    return 0;
  });
  MlDsaVerifyingKey key;
  key.e_ = std::move(e);
  return key;
}

MlDsaLevel MlDsaVerifyingKey::level() const { return e_->level; }
const Bytes& MlDsaVerifyingKey::public_key() const { return e_->public_key; }

StatusOr<bool> MlDsaVerifyingKey::VerifyMu(ByteSpan mu, ByteSpan sig) const {
  const MlDsaLevel level = e_->level;
  SWARM_RETURN_IF_ERROR(CheckLength("mu", level, mu.size(), kMlDsaMuBytes));
  SWARM_RETURN_IF_ERROR(CheckLength("signature", level, sig.size(), MlDsaSizesOf(level).signature));
  return WithParams(level, [&](auto p) {
    return VerifyImpl<decltype(p)>(e_->public_key.data(), mu.data(), sig.data(),
                                   e_->a_hat.data(), e_->t1_hat.data());
  });
}

StatusOr<bool> MlDsaVerifyingKey::Verify(ByteSpan message, ByteSpan sig, ByteSpan ctx) const {
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  uint8_t mu[64];
  const Prefix pre = MakePrefix(0, ctx);
  MuFromParts(e_->tr, {ByteSpan(pre.bytes, 2), ctx, message}, mu);
  return VerifyMu(ByteSpan(mu, 64), sig);
}

// ---- MlDsaSigningKey ---------------------------------------------------------

struct MlDsaSigningKey::Expanded {
  MlDsaLevel level;
  uint8_t key[32];
  uint8_t tr[64];
  std::vector<Poly> a_hat, s1_hat, s2_hat, t0_hat;
  ~Expanded() {
    SecureZero(key, sizeof(key));
    for (auto* v : {&s1_hat, &s2_hat, &t0_hat}) SecureZero(v->data(), v->size() * sizeof(Poly));
  }
};

StatusOr<MlDsaSigningKey> MlDsaSigningKey::Create(MlDsaLevel level, ByteSpan sk) {
  SWARM_RETURN_IF_ERROR(CheckSecretKey(level, sk));
  auto e = std::make_shared<Expanded>();
  e->level = level;
  std::memcpy(e->key, sk.data() + 32, 32);
  std::memcpy(e->tr, sk.data() + 64, 64);
  WithParams(level, [&](auto p) {
    using P = decltype(p);
    e->a_hat.resize(P::K * P::L);
    e->s1_hat.resize(P::L);
    e->s2_hat.resize(P::K);
    e->t0_hat.resize(P::K);
    ExpandSecretKey<P>(sk.data(), e->a_hat.data(), e->s1_hat.data(), e->s2_hat.data(),
                       e->t0_hat.data());
    return 0;
  });
  MlDsaSigningKey k;
  k.e_ = std::move(e);
  return k;
}

MlDsaLevel MlDsaSigningKey::level() const { return e_->level; }

StatusOr<Bytes> MlDsaSigningKey::SignMu(ByteSpan mu, ByteSpan rnd) const {
  const MlDsaLevel level = e_->level;
  SWARM_RETURN_IF_ERROR(CheckLength("mu", level, mu.size(), kMlDsaMuBytes));
  SWARM_RETURN_IF_ERROR(CheckLength("rnd", level, rnd.size(), kMlDsaRndBytes));
  Bytes sig(MlDsaSizesOf(level).signature);
  const bool ok = WithParams(level, [&](auto p) {
    using P = decltype(p);
    auto w = NewWork<P>();
    return SignCore<P>(w.get(), e_->key, e_->a_hat.data(), e_->s1_hat.data(), e_->s2_hat.data(),
                       e_->t0_hat.data(), mu.data(), rnd.data(), sig.data());
  });
  if (!ok) {
    return absl::InternalError(absl::StrCat(MlDsaName(level), " signing gave up after ",
                                            kSignAttemptsMax,
                                            " attempts: the secret key is corrupt"));
  }
  return sig;
}

StatusOr<Bytes> MlDsaSigningKey::Sign(ByteSpan message, ByteSpan ctx, MlDsaSigning mode) const {
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  uint8_t mu[64], rnd[32];
  SWARM_RETURN_IF_ERROR(FillRnd(rnd, mode));
  const Prefix pre = MakePrefix(0, ctx);
  MuFromParts(e_->tr, {ByteSpan(pre.bytes, 2), ctx, message}, mu);
  auto sig = SignMu(ByteSpan(mu, 64), ByteSpan(rnd, 32));
  SecureZero(rnd, sizeof(rnd));
  return sig;
}

}  // namespace swarm::crypto
