// Authenticator over the peers' signature identities (crypto/signer.h):
// ML-DSA-65 by default, ML-DSA-87 or hybrid when the committee is configured
// so. This is the production authenticator: signatures are transferable, so
// certificates (prepared, commit, checkpoint, view change) convince any
// replica, and holding the verification keys gives no power to forge.
//
// Ownership: borrows `self` (the local replica's Signer), which must outlive
// the authenticator; copies the committee's public keys (index = ReplicaId).
// Thread-safety: as Authenticator (one replica's thread).
#pragma once

#include <vector>

#include "consensus/authenticator.h"
#include "crypto/signer.h"

namespace swarm::consensus {

class MlDsaAuthenticator final : public Authenticator {
 public:
  // Errors: a public key of the wrong length for `scheme`, or `self` of
  // another scheme (InvalidArgument naming the replica index).
  static StatusOr<std::unique_ptr<MlDsaAuthenticator>> Create(const crypto::Signer* self,
                                                              std::vector<Bytes> committee_public_keys);

  Bytes Sign(ByteSpan msg) override;
  bool Verify(ReplicaId signer, ByteSpan msg, ByteSpan sig) override;
  uint64_t sign_failures() const { return sign_failures_; }

 private:
  MlDsaAuthenticator(const crypto::Signer* self, std::vector<Bytes> keys)
      : self_(self), keys_(std::move(keys)) {}
  const crypto::Signer* self_;
  std::vector<Bytes> keys_;
  uint64_t sign_failures_ = 0;
};

}  // namespace swarm::consensus
