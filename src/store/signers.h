// RecordSigner implementations for the ledger, the author id of a record, and
// the scheme names DefaultSignatureVerifier() accepts:
//   "ml-dsa-65" | "ml-dsa-87" | "hybrid"   a peer identity's scheme
//        (crypto/signer.h, crypto/identity.h): IdentityRecordSigner adapts an
//        Identity's Signer; verification is crypto::VerifySignature.
//   "ed25519"  plain Ed25519 (OpenSSL EVP), 32-byte public key, 64-byte
//        signature: for tools and tests that have no identity.
// Author id = the peer id of (scheme, public key):
//   SHA3-256("swarm-peer-id/v1" || 0x00 || scheme || 0x00 || public_key),
// i.e. crypto::PeerIdOf for identity schemes, the same formula for "ed25519".
// Thread-safety: signers are immutable after construction; Sign may be
// called from several threads. Secret keys are wiped on destruction.
#pragma once

#include <memory>
#include <string>

#include "crypto/identity.h"
#include "store/ledger.h"

namespace swarm::store {

constexpr size_t kEd25519SeedBytes = 32;

Digest256 LedgerAuthorId(std::string_view scheme, ByteSpan public_key);

// Signs ledger records with a peer identity. Does not own the signer, which
// must outlive this object.
class IdentityRecordSigner final : public RecordSigner {
 public:
  explicit IdentityRecordSigner(const crypto::Signer& signer) : signer_(signer) {}
  explicit IdentityRecordSigner(const crypto::Identity& id) : signer_(id.signer()) {}
  std::string Scheme() const override { return crypto::SchemeName(signer_.scheme()); }
  Bytes PublicKey() const override { return signer_.public_key(); }
  StatusOr<Bytes> Sign(ByteSpan message) const override { return signer_.Sign(message); }

 private:
  const crypto::Signer& signer_;
};

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

Status VerifyEd25519(ByteSpan public_key, ByteSpan message, ByteSpan signature);

}  // namespace swarm::store
