// A ledger record author with its own ML-DSA-65 identity, for tests: the
// ledger's default signature policy takes ML-DSA only (node/consensus_ledger.h).
#pragma once

#include <memory>

#include "crypto/identity.h"
#include "store/signers.h"

namespace swarm::testing {

class MlDsaRecordSigner final : public store::RecordSigner {
 public:
  static StatusOr<std::unique_ptr<MlDsaRecordSigner>> Generate() {
    SWARM_ASSIGN_OR_RETURN(crypto::Identity id, crypto::Identity::Generate(crypto::SignatureScheme::kMlDsa65));
    return std::unique_ptr<MlDsaRecordSigner>(new MlDsaRecordSigner(std::move(id)));
  }
  std::string Scheme() const override { return crypto::SchemeName(id_.scheme()); }
  Bytes PublicKey() const override { return id_.public_key(); }
  StatusOr<Bytes> Sign(ByteSpan message) const override { return id_.signer().Sign(message); }

 private:
  explicit MlDsaRecordSigner(crypto::Identity id) : id_(std::move(id)) {}
  crypto::Identity id_;
};

}  // namespace swarm::testing
