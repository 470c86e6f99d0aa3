// The one-shot ML-DSA API of ml_dsa.h: argument checks, M' and mu, then the
// templated cores of ml_dsa_impl.h. Pre-hash OIDs and names are in
// ml_dsa_prehash.cpp, prepared keys in ml_dsa_keys.cpp.
#include "crypto/ml_dsa.h"

#include <openssl/rand.h>

#include <cstring>
#include <memory>
#include <vector>

#include "crypto/hash.h"
#include "crypto/ml_dsa_impl.h"

namespace swarm::crypto {
namespace mldsa_detail {

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

Status CheckSecretKey(MlDsaLevel level, ByteSpan sk) {
  SWARM_RETURN_IF_ERROR(CheckLevel(level));
  return CheckLength("secret key", level, sk.size(), MlDsaSizesOf(level).secret_key);
}

Status FillRnd(uint8_t rnd[32], MlDsaSigning mode) {
  std::memset(rnd, 0, 32);
  if (mode == MlDsaSigning::kDeterministic) return absl::OkStatus();
  if (RAND_bytes(rnd, 32) != 1) return absl::InternalError("OpenSSL RAND_bytes failed");
  return absl::OkStatus();
}

void MuFromParts(const uint8_t tr[64], std::initializer_list<ByteSpan> m_prime, uint8_t mu[64]) {
  Xof xof(Xof::Kind::kShake256);
  xof.Absorb(ByteSpan(tr, 64));
  for (const auto& p : m_prime) xof.Absorb(p);
  xof.Squeeze(std::span<uint8_t>(mu, 64));
}

void TrOfPublicKey(ByteSpan pk, uint8_t tr[64]) { Shake256Parts({pk}, tr, 64); }

Prefix MakePrefix(uint8_t domain, ByteSpan ctx) {
  return {{domain, static_cast<uint8_t>(ctx.size())}};
}

Status SignAttemptsError(MlDsaLevel level) {
  return absl::InternalError(absl::StrCat(MlDsaName(level), " signing gave up after ",
                                          kSignAttemptsMax,
                                          " attempts: the secret key is corrupt"));
}

}  // namespace mldsa_detail

namespace {

using namespace mldsa_detail;

StatusOr<Bytes> SignMuChecked(MlDsaLevel level, ByteSpan sk, const uint8_t mu[64],
                              const uint8_t rnd[32]) {
  Bytes sig(MlDsaSizesOf(level).signature);
  const bool ok = WithParams(level, [&](auto p) {
    return SignImpl<decltype(p)>(sk.data(), mu, rnd, sig.data());
  });
  if (!ok) return SignAttemptsError(level);
  return sig;
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

}  // namespace swarm::crypto
