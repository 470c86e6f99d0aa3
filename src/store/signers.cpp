#include "store/signers.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace swarm::store {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

constexpr size_t kEd25519PublicKeyBytes = 32;
constexpr size_t kEd25519SignatureBytes = 64;

}  // namespace

StatusOr<std::unique_ptr<Ed25519RecordSigner>> Ed25519RecordSigner::FromSeed(ByteSpan seed) {
  if (seed.size() != kEd25519SeedBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ed25519 seed must be 32 bytes, got ", seed.size()));
  }
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!key) return absl::InternalError("OpenSSL could not load an Ed25519 private key");
  Bytes pk(kEd25519PublicKeyBytes);
  size_t len = pk.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pk.data(), &len) != 1 || len != pk.size()) {
    return absl::InternalError("OpenSSL could not derive the Ed25519 public key");
  }
  return std::unique_ptr<Ed25519RecordSigner>(
      new Ed25519RecordSigner(Bytes(seed.begin(), seed.end()), std::move(pk)));
}

StatusOr<std::unique_ptr<Ed25519RecordSigner>> Ed25519RecordSigner::Generate() {
  Bytes seed(kEd25519SeedBytes);
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return absl::InternalError("OpenSSL RAND_bytes failed");
  }
  auto s = FromSeed(seed);
  SecureZero(seed.data(), seed.size());
  return s;
}

Ed25519RecordSigner::~Ed25519RecordSigner() { SecureZero(seed_.data(), seed_.size()); }

StatusOr<Bytes> Ed25519RecordSigner::Sign(ByteSpan message) const {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return absl::InternalError("OpenSSL Ed25519 sign init failed");
  }
  Bytes sig(kEd25519SignatureBytes);
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1 ||
      len != sig.size()) {
    return absl::InternalError("OpenSSL Ed25519 sign failed");
  }
  return sig;
}

Status VerifyEd25519(ByteSpan public_key, ByteSpan message, ByteSpan signature) {
  if (public_key.size() != kEd25519PublicKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ed25519 public key must be 32 bytes, got ", public_key.size()));
  }
  if (signature.size() != kEd25519SignatureBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ed25519 signature must be 64 bytes, got ", signature.size()));
  }
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(),
                                          public_key.size()));
  if (!key) return absl::InvalidArgumentError("Ed25519 public key is not a valid point");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return absl::InternalError("OpenSSL Ed25519 verify init failed");
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    return absl::InvalidArgumentError("Ed25519 signature does not verify");
  }
  return absl::OkStatus();
}

Digest256 LedgerAuthorId(std::string_view scheme, ByteSpan public_key) {
  auto known = crypto::SchemeFromName(scheme);
  if (known.ok()) return crypto::PeerIdOf(*known, public_key);
  const uint8_t zero = 0;
  return crypto::Sha3_256({AsBytes("swarm-peer-id/v1"), ByteSpan(&zero, 1), AsBytes(scheme),
                           ByteSpan(&zero, 1), public_key});
}

SignatureVerifier DefaultSignatureVerifier() {
  return [](std::string_view scheme, ByteSpan public_key, ByteSpan message,
            ByteSpan signature) -> Status {
    if (scheme == "ed25519") return VerifyEd25519(public_key, message, signature);
    auto known = crypto::SchemeFromName(scheme);
    if (!known.ok() || std::string(scheme) != crypto::SchemeName(*known)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown signature scheme '", std::string(scheme),
          "' (supported: ml-dsa-65, ml-dsa-87, hybrid, ed25519)"));
    }
    return crypto::VerifySignature(*known, public_key, message, signature);
  };
}

}  // namespace swarm::store
