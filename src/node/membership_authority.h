// MembershipAuthority — the membership::Authority of a real peer: signs this
// peer's membership records with its identity and verifies everyone else's
// against the keys their grants name (docs/membership.md "Trust rules").
//
// Names in the PeerDirectory are full hex peer ids (64 characters), so a
// record's author is bound to a key, never to an address.
//   Credential (carried by alive/left records):
//     granted mode: the member's SignedGrant bytes, verified by the swarm's
//       GrantVerifier (issuer signature, swarm id, validity, exclusions; cached
//       by hash); the grant's subject must be the member. Capacity, region,
//       operator, roles and address come from the grant.
//     open mode (admission.open, dev only): "swarm/open-member/v1" 0x00 |
//       u8 scheme | u16 len | public key | f32 capacity | u16 len | region |
//       u16 len | address — self-declared facts; the key must hash to the
//       member's peer id. Refused unless the swarm runs open.
//   Signed bytes: membership::RecordBytes(record, dir, swarm_id) followed, for
//     alive/left records, by the credential bytes (a relay cannot swap them).
//
// Thread-safety: none; owned by the membership driver thread (the
// GrantVerifier it holds is thread-safe).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "admission/grant.h"
#include "crypto/identity.h"
#include "crypto/signer.h"
#include "membership/peer_directory.h"
#include "membership/types.h"

namespace swarm::node {

static_assert(membership::kRoleExpertHost == static_cast<uint32_t>(admission::Role::kExpertHost));

struct MembershipAdmission {
  bool open = false;                                   // accept open-mode credentials (dev)
  std::string swarm_id;                                // signature domain of records
  std::shared_ptr<admission::GrantVerifier> verifier;  // null: no grants can be verified
  Bytes own_grant;                                     // this peer's SignedGrant (granted mode)
};

class MembershipAuthority : public membership::Authority {
 public:
  // `identity` and `dir` are not owned and outlive this object.
  MembershipAuthority(const crypto::Identity& identity, const membership::PeerDirectory& dir,
                      MembershipAdmission admission, std::function<uint64_t()> now_unix_ms);

  // This peer's credential: its grant, or (open mode, no grant) an open
  // credential with the self-declared facts. Error names what is missing.
  StatusOr<membership::SharedBytes> OwnCredential(float capacity, const std::string& region,
                                                  const std::string& address) const;

  membership::SharedBytes Sign(const membership::Update& record) override;
  StatusOr<membership::AdmissionPtr> Admit(membership::MemberId member,
                                           const membership::SharedBytes& credential) override;
  bool Verify(const membership::Update& record) override;

  static std::string NameOf(const crypto::PeerIdBytes& id) { return ToHex(ByteSpan(id)); }

 private:
  StatusOr<Bytes> SignedBytes(const membership::Update& record) const;

  const crypto::Identity& identity_;
  const membership::PeerDirectory& dir_;
  MembershipAdmission admission_;
  std::function<uint64_t()> now_unix_ms_;
  std::map<membership::MemberId, crypto::PreparedVerifier> keys_;
};

}  // namespace swarm::node
