#include "consensus/ml_dsa_authenticator.h"

namespace swarm::consensus {

StatusOr<std::unique_ptr<MlDsaAuthenticator>> MlDsaAuthenticator::Create(
    const crypto::Signer* self, std::vector<Bytes> committee_public_keys) {
  if (self == nullptr) return absl::InvalidArgumentError("consensus authenticator: no local signer");
  const crypto::SignatureScheme scheme = self->scheme();
  const size_t want = crypto::SchemeSizesOf(scheme).public_key;
  bool self_listed = false;
  for (size_t i = 0; i < committee_public_keys.size(); ++i) {
    if (committee_public_keys[i].size() != want) {
      return absl::InvalidArgumentError(absl::StrCat("consensus committee: public key of replica ", i, " has ",
                                                     committee_public_keys[i].size(), " bytes, ",
                                                     crypto::SchemeName(scheme), " wants ", want));
    }
    self_listed = self_listed || committee_public_keys[i] == self->public_key();
  }
  if (!self_listed) {
    return absl::InvalidArgumentError("consensus committee: the local signer's public key is not in the committee");
  }
  return std::unique_ptr<MlDsaAuthenticator>(new MlDsaAuthenticator(self, std::move(committee_public_keys)));
}

Bytes MlDsaAuthenticator::Sign(ByteSpan msg) {
  auto sig = self_->Sign(msg);
  if (!sig.ok()) {
    // Signing only fails on internal errors (randomness); an empty signature
    // is rejected by every verifier, so the message is simply lost.
    ++sign_failures_;
    return {};
  }
  return std::move(sig).value();
}

bool MlDsaAuthenticator::Verify(ReplicaId signer, ByteSpan msg, ByteSpan sig) {
  if (signer.value() >= keys_.size()) return false;
  return crypto::VerifySignature(self_->scheme(), keys_[signer.value()], msg, sig).ok();
}

}  // namespace swarm::consensus
