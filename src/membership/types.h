// Plain data of the SWIM membership protocol: member states, metadata,
// dissemination updates and the in-memory Message the state machine speaks.
//
// Member ids are dense process-local indices (swarm::NodeIndex values). The
// simulator uses node numbers directly; a real node maps peer names to indices
// with membership::PeerDirectory, and codec.h translates at the wire. Message
// is a plain struct so the simulator never pays for protobuf.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/status.h"

namespace swarm::membership {

using MemberId = uint32_t;  // == NodeIndex::value()

enum class MemberState : uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };
const char* MemberStateName(MemberState s);  // "alive" | "suspect" | "dead" | "left"

// What a member says about itself; carried by alive updates and signed by the
// member. Nothing here is trusted for placement or admission: capacity, region,
// operator, roles and address come from the member's grant (Admission below).
// `capacity`, `region` and `address` are used only where no issuer grants
// (open admission) — see Authority. Immutable once shared (MetadataPtr).
struct Metadata {
  float capacity = 1.0f;          // self-declared; only used under open admission
  std::string region;             // self-declared; only used under open admission
  std::vector<std::string> roles; // free-form labels (e.g. "name:n3"); not admission roles
  uint64_t hosted_version = 0;    // version of what the member hosts
  std::string address;            // self-declared; used when the grant names no address
  bool operator==(const Metadata&) const = default;
};
using MetadataPtr = std::shared_ptr<const Metadata>;

// What an issuer granted a member (decoded from its verified grant by the
// Authority). Immutable once shared.
struct Admission {
  float capacity = 1.0f;      // ring weight, (0, 64]
  std::string region;
  std::string operator_name;  // who runs the machine: placement caps per operator
  std::string address;        // "" = any (the member's own signed address is used)
  uint32_t roles = 0;         // admission::Role bits (kRoleExpertHost below)
  // The grant's validity window (unix ms; expires 0 = none, open credentials).
  // Checked at admission and again on every view refresh (node/membership_driver.h):
  // a member whose grant expired leaves the view and the ring without a restart.
  uint64_t not_before_unix_ms = 0;
  uint64_t expires_unix_ms = 0;
  std::array<uint8_t, 32> grant_sha3{};  // SHA3-256 of the SignedGrant bytes (zero: open credential)
  bool ValidAt(uint64_t now_unix_ms) const {
    return now_unix_ms >= not_before_unix_ms && (expires_unix_ms == 0 || now_unix_ms < expires_unix_ms);
  }
  bool operator==(const Admission&) const = default;
};
using AdmissionPtr = std::shared_ptr<const Admission>;
// admission::Role::kExpertHost (static_assert'ed where both are included).
inline constexpr uint32_t kRoleExpertHost = 1u << 1;

using SharedBytes = std::shared_ptr<const Bytes>;

// One piece of membership news, piggybacked on protocol messages. Every update
// is a record signed by its author `origin`:
//   alive / left    : self-signed (origin == member), carry the member's
//                     credential (its SignedGrant bytes) so that any receiver
//                     can verify a relayed record without trusting the relay;
//   suspect / dead  : a claim by the accuser `origin`, who must be an
//                     admitted member.
struct Update {
  MemberState state = MemberState::kAlive;
  MemberId member = 0;
  uint32_t incarnation = 0;
  MemberId origin = 0;     // the author: the member itself, or the accuser
  MetadataPtr meta;        // required for kAlive, ignored otherwise
  SharedBytes credential;  // kAlive/kLeft: the member's grant (or public key, open admission)
  SharedBytes signature;   // by `origin` over the record (see Authority)
};

// Signs and verifies records, and admits members. The membership core never
// touches keys: node/ implements this with the peer's identity and the swarm's
// GrantVerifier; simulations with keyed hashes. Called only from the thread
// that owns the Swim.
class Authority {
 public:
  virtual ~Authority() = default;
  // The signature of `record` by this peer (record.origin is this peer).
  virtual SharedBytes Sign(const Update& record) = 0;
  // Admits `member` on the strength of its credential: the grant must be valid
  // for this swarm and name `member` as its subject. On success the authority
  // remembers the member's key (for Verify). Errors start with the refusal
  // reason ("not_admitted: ...", "expired: ...").
  virtual StatusOr<AdmissionPtr> Admit(MemberId member, const SharedBytes& credential) = 0;
  // True if record.signature is record.origin's signature over the record;
  // false if the signature is wrong or the origin was never admitted.
  virtual bool Verify(const Update& record) = 0;
};
inline constexpr MemberId kAnyRecipient = 0xFFFFFFFFu;

enum class MessageType : uint8_t {
  kPing = 0,      // direct probe of `target` (the recipient); answered by kAck
  kPingReq = 1,   // ask the recipient to probe `target` for the sender
  kAck = 2,       // `target` answered probe `seq`
  kNack = 3,      // a ping-req helper got no answer from `target` for `seq`
  kGossip = 4,    // dissemination only
  kSync = 5,      // push-pull: sender's full state; `join` when joining
  kSyncReply = 6, // the recipient's full state (possibly one of several chunks)
};
constexpr int kMessageTypeCount = 7;
const char* MessageTypeName(MessageType t);

struct Message {
  MessageType type = MessageType::kGossip;
  // The peer this message is for; a message naming another recipient is
  // refused (`wrong_recipient`), so one captured at a peer cannot be replayed
  // at another. kAnyRecipient only on a join Sync to a seed whose id the
  // joiner does not know yet.
  MemberId recipient = 0;
  uint32_t seq = 0;
  MemberId target = 0;
  bool join = false;
  std::vector<Update> updates;
};

}  // namespace swarm::membership
