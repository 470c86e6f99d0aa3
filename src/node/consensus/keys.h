// The committee's public keys, as the PBFT replica's Authenticator.
//
// Trust model (docs/pbft.md): the committee is a list of gRPC addresses
// (consensus.committee, index = replica id). A member's key is learned by
// calling Pbft.Identify at its configured address (trust on first use) and
// pinned in <data_dir>/consensus/keys.json; a later answer with another key
// for that address is refused and counted ("key_changed"), so a peer that
// takes over an address cannot speak for the member. Operators who want no
// TOFU window pre-seed keys.json (address -> scheme and public key hex).
// Until a member's key is known its messages do not verify (the replica
// drops them as bad signatures); f members may stay unknown without
// stopping the committee.
//
// Signing uses this peer's identity (ML-DSA-65 by default); verification is
// crypto::VerifySignature under the pinned scheme.
// Thread-safety: all methods are thread-safe (Sign/Verify from the replica
// thread, Pin from the key fetcher).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "consensus/authenticator.h"
#include "crypto/identity.h"

namespace swarm::node {

class CommitteeKeys final : public consensus::Authenticator {
 public:
  struct Key {
    crypto::SignatureScheme scheme{};
    Bytes public_key;
  };
  // `self` is not owned; `pin_file` "" = keep pins in memory only.
  CommitteeKeys(const crypto::Identity& self, std::vector<std::string> committee,
                std::string pin_file);

  // Loads pins from the file (missing file = none). Errors name the file.
  Status Load();
  // Binds the key of committee member `index`. OK if new or identical;
  // FailedPrecondition "key_changed: ..." if another key is pinned.
  Status Pin(uint32_t index, crypto::SignatureScheme scheme, ByteSpan public_key);
  bool Known(uint32_t index) const;
  // The pinned key of member `index`, if known.
  std::optional<Key> KeyOf(uint32_t index) const;
  size_t known() const;
  uint64_t key_changes_refused() const;

  Bytes Sign(ByteSpan msg) override;
  bool Verify(consensus::ReplicaId signer, ByteSpan msg, ByteSpan sig) override;

 private:
  Status SaveLocked() const;
  const crypto::Identity& self_;
  const std::vector<std::string> committee_;
  const std::string pin_file_;
  mutable std::mutex mu_;
  std::vector<std::optional<Key>> keys_;
  uint64_t refused_ = 0;
};

}  // namespace swarm::node
