// Epoch records of the replicated ledger: the canonical encodings of a
// membership view and of a placement table, the request envelope that
// carries such a body beside its ledger record, and the deterministic rules
// the ledger state machine (consensus/ledger_machine.h) applies to them.
//
// An epoch record is an ordinary signed ledger record (store/ledger_record.h)
// of kind "epoch.membership" or "epoch.placement" whose `epoch` is the
// version of that kind (1, 2, ...) and whose `payload_root` is SHA3-256 of
// the canonical body (crypto/hash.h; the whole swarm hashes with SHA3):
//
//   membership body (text, '\n' after every line):
//     "swarm epoch.membership v1"
//     "<address> <id>"          one line per member, sorted by address,
//                               addresses unique
//   placement body:
//     "swarm epoch.placement v1"
//     "<expert> <a1>,<a2>,..."  one line per expert id, ascending; owners
//                               in ring order (primary first)
//   admission body (the whole admitted set, not a delta):
//     "swarm epoch.admission v1"
//     "grant <sha3> <subject>"  one line per admitted SignedGrant: 64 lower-
//                               case hex of SHA3-256 of its bytes, then the
//                               64-hex peer id it admits; ascending by sha3,
//                               unique
//     "revoke <subject>"        one line per revoked peer id, after the grant
//                               lines, ascending, unique (revocation wins over
//                               a grant line of the same subject)
//     at most kAdmissionEntriesMax lines in all.
//
// Addresses and ids are 1..kEpochFieldBytesMax printable ASCII characters
// without spaces or commas. Parse* accept exactly what Encode* produce
// (anything else is InvalidArgument naming the line), so "canonical" means
// one byte string per view.
//
// Rules (CheckEpochRecord), applied by every replica in the same order, so
// several members proposing one change yield exactly one record:
//   - the body must be present, at most kEpochBodyBytesMax, parse under the
//     record's kind, and hash to payload_root;
//   - record.epoch must be the last committed version of that kind + 1
//     (refusal "epoch: version ..."), and
//   - payload_root must differ from the last committed one of that kind
//     (refusal "epoch: unchanged ...");
//   - epoch.admission only: the record's author must be one of the swarm's
//     trusted grant issuers (EpochRules::admission_authors; refusal "epoch:
//     epoch.admission authored by ..., not a trusted issuer"). A committee
//     with no issuer configured refuses every epoch.admission record. Members
//     do not propose admission records from their views: the issuer does
//     (`swarm admission commit`), since only it may admit or revoke.
// Any other kind starting with "epoch." is refused; a body on a record of a
// non-epoch kind is refused.
//
// Request envelope (consensus::Request.payload): either the bare canonical
// record ("SWLR"...), or "SWLB" 0x01 | u32 BE record length | record |
// u32 BE body length | body.
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <array>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/hash.h"
#include "store/ledger_record.h"

namespace swarm::node {

inline constexpr char kEpochMembershipKind[] = "epoch.membership";
inline constexpr char kEpochPlacementKind[] = "epoch.placement";
inline constexpr char kEpochAdmissionKind[] = "epoch.admission";
inline constexpr size_t kAdmissionEntriesMax = 256;  // grant + revoke lines (~ 40 KiB)
inline constexpr size_t kEpochBodyBytesMax = 48 * 1024;
inline constexpr size_t kEpochFieldBytesMax = 256;
inline constexpr size_t kEpochMembersMax = 1024;

enum class EpochKind : uint8_t { kMembership = 0, kPlacement = 1, kAdmission = 2 };
inline constexpr size_t kEpochKinds = 3;
// Kinds committee members propose from their own view (EpochProposer).
inline bool ProposedFromView(EpochKind k) { return k == EpochKind::kMembership || k == EpochKind::kPlacement; }
const char* EpochKindName(EpochKind k);  // the record kind
std::optional<EpochKind> EpochKindOf(const std::string& record_kind);
bool IsEpochRecordKind(const std::string& record_kind);  // starts with "epoch."

struct EpochMember {
  std::string address;
  std::string id;
  bool operator==(const EpochMember&) const = default;
};
using PlacementTable = std::map<uint32_t, std::vector<std::string>>;

// Sorts by address; InvalidArgument on a duplicate address or a bad field.
StatusOr<Bytes> EncodeMembershipEpoch(std::vector<EpochMember> members);
StatusOr<std::vector<EpochMember>> ParseMembershipEpoch(ByteSpan body);
StatusOr<Bytes> EncodePlacementEpoch(const PlacementTable& table);
StatusOr<PlacementTable> ParsePlacementEpoch(ByteSpan body);

using Hash32 = std::array<uint8_t, 32>;
struct AdmissionEpoch {
  std::map<Hash32, Hash32> grants;  // SHA3-256 of a SignedGrant -> the peer id it admits
  std::set<Hash32> revoked;         // peer ids
  bool operator==(const AdmissionEpoch&) const = default;
};
StatusOr<Bytes> EncodeAdmissionEpoch(const AdmissionEpoch& set);
StatusOr<AdmissionEpoch> ParseAdmissionEpoch(ByteSpan body);
// Parses `body` as the body of `kind` (InvalidArgument if it does not).
Status ValidateEpochBody(EpochKind kind, ByteSpan body);
crypto::Digest256 EpochRoot(ByteSpan body);

// The last committed epoch of one kind (version 0 = none yet).
struct EpochState {
  uint64_t version = 0;
  crypto::Digest256 root{};
  uint64_t index = 0;  // ledger index of the record
  bool operator==(const EpochState&) const = default;
};

// Who may author what (the same on every member, like the signature policy).
struct EpochRules {
  std::set<Hash32> admission_authors;  // peer ids of the swarm's grant issuers
};

// OK iff `r` (of an epoch kind) with `body` may follow `current`; otherwise
// FailedPrecondition / InvalidArgument with the refusal reason ("epoch: ...").
Status CheckEpochRecord(const EpochState& current, const store::LedgerRecord& r, ByteSpan body,
                        const EpochRules& rules = {});

// The request envelope.
Bytes EncodeLedgerRequest(ByteSpan record, ByteSpan body);
struct LedgerRequestParts {
  Bytes record;
  Bytes body;  // empty: none
};
StatusOr<LedgerRequestParts> ParseLedgerRequest(ByteSpan payload);

}  // namespace swarm::node
