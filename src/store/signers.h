// RecordSigner implementations for the ledger, and the scheme names that
// DefaultSignatureVerifier() accepts:
//   "ed25519"    Ed25519 (OpenSSL EVP), 32-byte public key, 64-byte signature
//   "ml-dsa-44" | "ml-dsa-65" | "ml-dsa-87"
//                pure ML-DSA (crypto/ml_dsa.h, FIPS 204) with the context
//                string kLedgerMlDsaContext, so a ledger signature can never be
//                replayed as a signature of another swarm protocol message.
// Thread-safety: signers are immutable after construction; Sign may be
// called from several threads. Secret keys are wiped on destruction.
#pragma once

#include <memory>
#include <string>

#include "crypto/ml_dsa.h"
#include "store/ledger.h"

namespace swarm::store {

inline constexpr std::string_view kLedgerMlDsaContext = "swarm-ledger-v1";
constexpr size_t kEd25519SeedBytes = 32;

class Ed25519RecordSigner final : public RecordSigner {
 public:
  // From a 32-byte private seed (RFC 8032); a wrong length is InvalidArgument.
  static StatusOr<std::unique_ptr<Ed25519RecordSigner>> FromSeed(ByteSpan seed);
  static StatusOr<std::unique_ptr<Ed25519RecordSigner>> Generate();
  ~Ed25519RecordSigner() override;

  std::string Scheme() const override { return "ed25519"; }
  Bytes PublicKey() const override { return public_key_; }
  StatusOr<Bytes> Sign(ByteSpan message) const override;

 private:
  Ed25519RecordSigner(Bytes seed, Bytes public_key)
      : seed_(std::move(seed)), public_key_(std::move(public_key)) {}
  Bytes seed_;
  Bytes public_key_;
};

class MlDsaRecordSigner final : public RecordSigner {
 public:
  // Takes the key pair (public and secret key bytes of `level`).
  static StatusOr<std::unique_ptr<MlDsaRecordSigner>> FromKeyPair(crypto::MlDsaLevel level,
                                                                  crypto::MlDsaKeyPair keys);
  static StatusOr<std::unique_ptr<MlDsaRecordSigner>> Generate(crypto::MlDsaLevel level);

  std::string Scheme() const override;
  Bytes PublicKey() const override { return keys_.public_key; }
  StatusOr<Bytes> Sign(ByteSpan message) const override;

 private:
  MlDsaRecordSigner(crypto::MlDsaLevel level, crypto::MlDsaKeyPair keys)
      : level_(level), keys_(std::move(keys)) {}
  crypto::MlDsaLevel level_;
  crypto::MlDsaKeyPair keys_;
};

Status VerifyEd25519(ByteSpan public_key, ByteSpan message, ByteSpan signature);

}  // namespace swarm::store
