// Signer implementations (signer.h): ML-DSA-65, ML-DSA-87 and the Ed25519 +
// ML-DSA-65 hybrid. Ed25519 comes from OpenSSL EVP.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstring>

#include "crypto/hash.h"
#include "crypto/ml_dsa.h"
#include "crypto/signer.h"

namespace swarm::crypto {
namespace {

constexpr std::string_view kContext = "swarm/v1";
constexpr std::string_view kEd25519Prefix = "swarm/v1/ed25519";
constexpr size_t kEdPk = 32, kEdSk = 32, kEdSig = 64;

MlDsaLevel LevelOf(SignatureScheme s) {
  return s == SignatureScheme::kMlDsa87 ? MlDsaLevel::k87 : MlDsaLevel::k65;
}

Status LengthError(SignatureScheme s, std::string_view field, size_t got, size_t want) {
  return absl::InvalidArgumentError(absl::StrCat(SchemeName(s), " ", std::string(field),
                                                 " must be ", want, " bytes, got ", got));
}

// ---- Ed25519 through EVP ----------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

Bytes Ed25519Message(ByteSpan message) {
  Bytes m(kEd25519Prefix.begin(), kEd25519Prefix.end());
  m.insert(m.end(), message.begin(), message.end());
  return m;
}

StatusOr<Bytes> Ed25519PublicFromSeed(ByteSpan seed) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!key) return absl::InternalError("OpenSSL could not load an Ed25519 private key");
  Bytes pk(kEdPk);
  size_t len = pk.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pk.data(), &len) != 1 || len != kEdPk)
    return absl::InternalError("OpenSSL could not derive the Ed25519 public key");
  return pk;
}

StatusOr<Bytes> Ed25519Sign(ByteSpan seed, ByteSpan message) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!key || !ctx) return absl::InternalError("OpenSSL Ed25519 setup failed");
  const Bytes m = Ed25519Message(message);
  Bytes sig(kEdSig);
  size_t len = sig.size();
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, m.data(), m.size()) != 1 || len != kEdSig)
    return absl::InternalError("OpenSSL Ed25519 signing failed");
  return sig;
}

bool Ed25519Verify(ByteSpan pk, ByteSpan message, ByteSpan sig) {
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pk.data(), pk.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!key || !ctx) return false;  // e.g. a point that does not decode
  const Bytes m = Ed25519Message(message);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), m.data(), m.size()) == 1;
}

// ---- Signers ----------------------------------------------------------------

class KeySigner final : public Signer {
 public:
  // `ml_dsa` is the expanded ML-DSA part of `sk` (the whole key, or the part
  // after the Ed25519 seed for hybrid).
  KeySigner(SignatureScheme scheme, Bytes pk, Bytes sk, MlDsaSigningKey ml_dsa)
      : scheme_(scheme), pk_(std::move(pk)), sk_(std::move(sk)), ml_dsa_(std::move(ml_dsa)) {}
  ~KeySigner() override { SecureZero(sk_.data(), sk_.size()); }
  SignatureScheme scheme() const override { return scheme_; }
  const Bytes& public_key() const override { return pk_; }
  Bytes ExportSecretKey() const override { return sk_; }

  StatusOr<Bytes> Sign(ByteSpan message) const override {
    const ByteSpan sk(sk_);
    if (scheme_ != SignatureScheme::kHybrid) return ml_dsa_.Sign(message, AsBytes(kContext));
    SWARM_ASSIGN_OR_RETURN(Bytes sig, Ed25519Sign(sk.first(kEdSk), message));
    SWARM_ASSIGN_OR_RETURN(Bytes pq, ml_dsa_.Sign(message, AsBytes(kContext)));
    sig.insert(sig.end(), pq.begin(), pq.end());
    return sig;
  }

 private:
  SignatureScheme scheme_;
  Bytes pk_;
  Bytes sk_;
  MlDsaSigningKey ml_dsa_;
};

StatusOr<std::unique_ptr<Signer>> MakeKeySigner(SignatureScheme scheme, Bytes pk, Bytes sk) {
  const ByteSpan ml_part = scheme == SignatureScheme::kHybrid ? ByteSpan(sk).subspan(kEdSk)
                                                              : ByteSpan(sk);
  auto ml = MlDsaSigningKey::Create(LevelOf(scheme), ml_part);
  if (!ml.ok()) {
    SecureZero(sk.data(), sk.size());
    return ml.status();
  }
  return std::unique_ptr<Signer>(
      new KeySigner(scheme, std::move(pk), std::move(sk), std::move(ml).value()));
}

// The ML-DSA secret key starts with rho (= public key bytes 0..31) and holds
// tr = H(pk, 64) at bytes 64..127.
Status CheckMlDsaPair(SignatureScheme s, MlDsaLevel level, ByteSpan pk, ByteSpan sk) {
  Xof xof(Xof::Kind::kShake256);
  xof.Absorb(pk);
  uint8_t tr[64];
  xof.Squeeze(tr);
  if (std::memcmp(pk.data(), sk.data(), 32) != 0 || std::memcmp(tr, sk.data() + 64, 64) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        SchemeName(s), " secret key does not belong to the public key (", MlDsaName(level),
        " rho/tr mismatch)"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string SchemeName(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kMlDsa65: return "ml-dsa-65";
    case SignatureScheme::kMlDsa87: return "ml-dsa-87";
    case SignatureScheme::kHybrid: return "hybrid";
  }
  return absl::StrCat("unknown-scheme-", static_cast<int>(scheme));
}

StatusOr<SignatureScheme> SchemeFromName(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto s : {SignatureScheme::kMlDsa65, SignatureScheme::kMlDsa87, SignatureScheme::kHybrid})
    if (lower == SchemeName(s)) return s;
  return absl::InvalidArgumentError(absl::StrCat("unknown signature scheme '", std::string(name),
                                                 "' (expected ml-dsa-65, ml-dsa-87 or hybrid)"));
}

StatusOr<SignatureScheme> SchemeFromId(uint8_t id) {
  if (id >= 1 && id <= 3) return static_cast<SignatureScheme>(id);
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown signature scheme id ", static_cast<int>(id),
      " (expected 1 = ml-dsa-65, 2 = ml-dsa-87, 3 = hybrid)"));
}

SchemeSizes SchemeSizesOf(SignatureScheme scheme) {
  if (scheme == SignatureScheme::kHybrid) {
    return {kEdPk + kMlDsa65PublicKeyBytes, kEdSk + kMlDsa65SecretKeyBytes,
            kEdSig + kMlDsa65SignatureBytes};
  }
  const MlDsaSizes s = MlDsaSizesOf(LevelOf(scheme));
  return {s.public_key, s.secret_key, s.signature};
}

StatusOr<std::unique_ptr<Signer>> GenerateSigner(SignatureScheme scheme) {
  SWARM_RETURN_IF_ERROR(SchemeFromId(static_cast<uint8_t>(scheme)).status());
  if (scheme != SignatureScheme::kHybrid) {
    SWARM_ASSIGN_OR_RETURN(MlDsaKeyPair kp, MlDsaKeyGen(LevelOf(scheme)));
    return MakeKeySigner(scheme, kp.public_key, kp.secret_key);
  }
  Bytes seed(kEdSk);
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1)
    return absl::InternalError("OpenSSL RAND_bytes failed");
  auto ed_pk = Ed25519PublicFromSeed(seed);
  auto kp = MlDsaKeyGen(MlDsaLevel::k65);
  if (!ed_pk.ok() || !kp.ok()) {
    SecureZero(seed.data(), seed.size());
    return !ed_pk.ok() ? ed_pk.status() : kp.status();
  }
  Bytes pk = *ed_pk;
  pk.insert(pk.end(), kp->public_key.begin(), kp->public_key.end());
  Bytes sk = seed;
  sk.insert(sk.end(), kp->secret_key.begin(), kp->secret_key.end());
  SecureZero(seed.data(), seed.size());
  return MakeKeySigner(scheme, std::move(pk), std::move(sk));
}

StatusOr<std::unique_ptr<Signer>> SignerFromKeys(SignatureScheme scheme, ByteSpan pk,
                                                 ByteSpan sk) {
  SWARM_RETURN_IF_ERROR(SchemeFromId(static_cast<uint8_t>(scheme)).status());
  const SchemeSizes sizes = SchemeSizesOf(scheme);
  if (pk.size() != sizes.public_key)
    return LengthError(scheme, "public key", pk.size(), sizes.public_key);
  if (sk.size() != sizes.secret_key)
    return LengthError(scheme, "secret key", sk.size(), sizes.secret_key);
  if (scheme == SignatureScheme::kHybrid) {
    SWARM_ASSIGN_OR_RETURN(Bytes ed_pk, Ed25519PublicFromSeed(sk.first(kEdSk)));
    if (std::memcmp(ed_pk.data(), pk.data(), kEdPk) != 0) {
      return absl::InvalidArgumentError(
          "hybrid secret key does not belong to the public key (Ed25519 part differs)");
    }
    SWARM_RETURN_IF_ERROR(
        CheckMlDsaPair(scheme, MlDsaLevel::k65, pk.subspan(kEdPk), sk.subspan(kEdSk)));
  } else {
    SWARM_RETURN_IF_ERROR(CheckMlDsaPair(scheme, LevelOf(scheme), pk, sk));
  }
  return MakeKeySigner(scheme, Bytes(pk.begin(), pk.end()), Bytes(sk.begin(), sk.end()));
}

Status VerifySignature(SignatureScheme scheme, ByteSpan pk, ByteSpan message, ByteSpan sig) {
  SWARM_RETURN_IF_ERROR(SchemeFromId(static_cast<uint8_t>(scheme)).status());
  const SchemeSizes sizes = SchemeSizesOf(scheme);
  if (pk.size() != sizes.public_key)
    return LengthError(scheme, "public key", pk.size(), sizes.public_key);
  if (sig.size() != sizes.signature)
    return LengthError(scheme, "signature", sig.size(), sizes.signature);
  bool ok = false;
  if (scheme == SignatureScheme::kHybrid) {
    // Both halves are always checked (no early exit that would reveal which failed first).
    const bool ed = Ed25519Verify(pk.first(kEdPk), message, sig.first(kEdSig));
    SWARM_ASSIGN_OR_RETURN(bool pq, MlDsaVerify(MlDsaLevel::k65, pk.subspan(kEdPk), message,
                                                sig.subspan(kEdSig), AsBytes(kContext)));
    ok = ed && pq;
  } else {
    SWARM_ASSIGN_OR_RETURN(ok, MlDsaVerify(LevelOf(scheme), pk, message, sig, AsBytes(kContext)));
  }
  if (!ok) {
    return absl::UnauthenticatedError(
        absl::StrCat(SchemeName(scheme), " signature does not verify"));
  }
  return absl::OkStatus();
}

struct PreparedVerifier::State {
  Bytes public_key;
  Bytes ed25519_public_key;  // hybrid only
  MlDsaVerifyingKey ml_dsa;
};

StatusOr<PreparedVerifier> PreparedVerifier::Create(SignatureScheme scheme, ByteSpan pk) {
  SWARM_RETURN_IF_ERROR(SchemeFromId(static_cast<uint8_t>(scheme)).status());
  const SchemeSizes sizes = SchemeSizesOf(scheme);
  if (pk.size() != sizes.public_key)
    return LengthError(scheme, "public key", pk.size(), sizes.public_key);
  const bool hybrid = scheme == SignatureScheme::kHybrid;
  SWARM_ASSIGN_OR_RETURN(
      MlDsaVerifyingKey vk,
      MlDsaVerifyingKey::Create(LevelOf(scheme), hybrid ? pk.subspan(kEdPk) : pk));
  PreparedVerifier v;
  v.scheme_ = scheme;
  v.state_ = std::make_shared<const State>(
      State{Bytes(pk.begin(), pk.end()),
            hybrid ? Bytes(pk.begin(), pk.begin() + kEdPk) : Bytes{}, std::move(vk)});
  return v;
}

const Bytes& PreparedVerifier::public_key() const { return state_->public_key; }

Status PreparedVerifier::Verify(ByteSpan message, ByteSpan sig) const {
  const SchemeSizes sizes = SchemeSizesOf(scheme_);
  if (sig.size() != sizes.signature)
    return LengthError(scheme_, "signature", sig.size(), sizes.signature);
  bool ok = false;
  if (scheme_ == SignatureScheme::kHybrid) {
    const bool ed = Ed25519Verify(state_->ed25519_public_key, message, sig.first(kEdSig));
    SWARM_ASSIGN_OR_RETURN(bool pq,
                           state_->ml_dsa.Verify(message, sig.subspan(kEdSig), AsBytes(kContext)));
    ok = ed && pq;
  } else {
    SWARM_ASSIGN_OR_RETURN(ok, state_->ml_dsa.Verify(message, sig, AsBytes(kContext)));
  }
  if (!ok) {
    return absl::UnauthenticatedError(
        absl::StrCat(SchemeName(scheme_), " signature does not verify"));
  }
  return absl::OkStatus();
}

}  // namespace swarm::crypto
