// Admission grants: who may do what in one swarm (DESIGN.md §3b).
//
// A grant is a statement signed by an issuer: "peer P (this public key) is
// admitted to swarm S with roles R, capacity C, operator O, region G, address A,
// from not_before until expires". Roles and placement weights come from grants,
// never from a peer's own claim. `swarm up` / `swarm train` act as the issuer
// for a local swarm (one issuer key per run); an operator can run
// `swarm admission issue` by hand. When a committee runs, grants and
// exclusions are committed epoch records and take effect only once committed.
//
// Wire form (SignedGrant): `body` is the grant's canonical encoding (EncodeGrant)
// exactly as the issuer signed it; `signature` is the issuer's signature over
//   "swarm/grant/v1" || 0x00 || body
// Verifiers verify the signature over the bytes received, then decode; they
// never re-encode. DecodeGrant is a decoder of peer input: every length is
// bounded (k*BytesMax below), and an error names the field and the value.
//
// Thread-safety: Grant/SignedGrant are values. GrantVerifier is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/identity.h"
#include "crypto/signer.h"

namespace swarm::admission {

// One bit each; a grant holds a set (RoleSet).
enum class Role : uint32_t {
  kTrainer = 1u << 0,      // sends contributions; calls experts/stages forward+backward
  kExpertHost = 1u << 1,   // hosts experts/stages; owns ring positions
  kAggregator = 1u << 2,   // secure-aggregation aggregator
  kCommittee = 1u << 3,    // PBFT committee member (orders the ledger and epochs)
  kEvaluator = 1u << 4,    // evaluates NEAT genomes for islands
  kIsland = 1u << 5,       // runs evolution islands (calls evaluators)
  kJobsWorker = 1u << 6,   // executes/guards FHE tasks
  kQueen = 1u << 7,        // schedules FHE jobs (calls RunTask on workers)
  kClient = 1u << 8,       // submits jobs, appends ledger records
  kObserver = 1u << 9,     // reads status (Node.Info, LedgerHead verify)
};
using RoleSet = uint32_t;
inline constexpr RoleSet kAllRolesMask = (1u << 10) - 1;

// "trainer", "expert_host", ...; RoleFromName's error lists every name.
std::string RoleName(Role role);
StatusOr<Role> RoleFromName(std::string_view name);
// "trainer,expert_host" <-> RoleSet; unknown names are errors naming the name.
std::string RoleSetNames(RoleSet roles);
StatusOr<RoleSet> RoleSetFromNames(std::string_view comma_separated);
inline bool HasRole(RoleSet roles, Role role) { return (roles & static_cast<uint32_t>(role)) != 0; }

inline constexpr size_t kSwarmIdBytesMax = 64;
inline constexpr size_t kOperatorBytesMax = 64;
inline constexpr size_t kRegionBytesMax = 64;
inline constexpr size_t kAddressBytesMax = 256;
inline constexpr size_t kGrantBytesMax = 16 * 1024;
inline constexpr float kCapacityMax = 64.0f;
// Longest signature any scheme makes (ml-dsa-87: 4627 bytes) with room to spare.
inline constexpr size_t kGrantSignatureBytesMax = 8 * 1024;
// Verified grants a GrantVerifier remembers (one entry ~ one admitted peer).
inline constexpr size_t kGrantCacheEntriesMax = 4096;
// The signed message is kGrantSignatureDomain || 0x00 || body.
inline constexpr std::string_view kGrantSignatureDomain = "swarm/grant/v1";

struct Grant {
  uint8_t version = 1;
  std::string swarm_id;                 // the swarm/job this grant admits to
  crypto::PeerIdBytes issuer{};         // peer id of the issuing key
  crypto::SignatureScheme subject_scheme = crypto::kDefaultSignatureScheme;
  Bytes subject_public_key;             // the admitted peer's key
  crypto::PeerIdBytes subject{};        // = PeerIdOf(subject_scheme, subject_public_key)
  RoleSet roles = 0;
  float capacity = 1.0f;                // (0, kCapacityMax]; ring weight of an expert host
  std::string operator_name;            // who runs the machine (placement caps per operator)
  std::string region;
  std::string address;                  // host:port the peer serves on ("" = any)
  uint64_t not_before_unix_ms = 0;
  uint64_t expires_unix_ms = 0;         // > not_before
  uint64_t serial = 0;                  // issuer-chosen, unique per issuer
};

struct SignedGrant {
  Bytes body;       // EncodeGrant(grant)
  Bytes signature;  // issuer's signature, see above
};

// Grant body (big-endian; every field present, in this order; no trailing bytes):
//   version u8 (=1) | swarm_id u8 len + bytes (1..64, printable ASCII, no space)
//   | issuer 32 | subject_scheme u8 | subject_public_key u16 len + bytes (the
//   scheme's exact key length) | subject 32 | roles u32 (non-zero, known bits)
//   | capacity f32 bits (finite, (0, kCapacityMax]) | operator u8 len + bytes
//   (1..64, printable ASCII) | region u8 len + bytes (0..64, printable ASCII)
//   | address u16 len + bytes (0..256; "" or host:port, port 1..65535)
//   | not_before u64 | expires u64 (> not_before) | serial u64
// A grant that decodes re-encodes to the same bytes (the encoding is canonical).
Bytes EncodeGrant(const Grant& grant);
// Checks lengths, ranges, subject == PeerIdOf(scheme, key), not_before < expires.
// Errors are InvalidArgument "grant field '<name>': <value> <problem>".
StatusOr<Grant> DecodeGrant(ByteSpan body);
// The same checks on an in-memory grant (what IssueGrant refuses to sign).
Status ValidateGrant(const Grant& grant);
// SignedGrant (big-endian): magic "SWGR" | version u8 (=1) | body u32 len +
// bytes (<= kGrantBytesMax) | signature u16 len + bytes (1..kGrantSignatureBytesMax);
// the whole encoding is at most kGrantBytesMax. DecodeSignedGrant checks the
// framing only (not the body, not the signature): use GrantVerifier.
Bytes EncodeSignedGrant(const SignedGrant& signed_grant);
StatusOr<SignedGrant> DecodeSignedGrant(ByteSpan bytes);
// kGrantSignatureDomain || 0x00 || body: the bytes the issuer signs.
Bytes GrantSigningMessage(ByteSpan body);

// Sets subject_scheme, subject_public_key and subject (= PeerIdOf) together.
void SetSubject(Grant& grant, crypto::SignatureScheme scheme, ByteSpan public_key);

// Signs `grant` (its issuer field is set from `issuer`). Refuses (InvalidArgument,
// field named) a grant ValidateGrant refuses.
StatusOr<SignedGrant> IssueGrant(const crypto::Identity& issuer, Grant grant);
// Multi-line human-readable form (for `swarm admission show` and logs).
std::string DescribeGrant(const Grant& grant);

// Grant files: the SignedGrant encoding, written with common's durable write.
Status SaveGrant(const std::string& path, const SignedGrant& grant);
StatusOr<SignedGrant> LoadGrant(const std::string& path);
// Public-key files: one text line "swarm-pubkey/v1 <scheme name> <public key hex>\n".
// `swarm admission issuer-keygen` writes one for the issuer (issuer.pub), whose
// secret key is an ordinary identity key file (crypto/identity.h);
// `swarm admission pubkey` writes one for any peer key (input of `issue --peer-pub`).
struct IssuerKey {
  crypto::SignatureScheme scheme = crypto::kDefaultSignatureScheme;
  Bytes public_key;
  crypto::PeerIdBytes id{};
};
IssuerKey IssuerKeyOf(const crypto::Identity& issuer);
std::string FormatIssuerKey(const IssuerKey& key);
// Parses FormatIssuerKey's line; `source` names the file in errors.
StatusOr<IssuerKey> ParseIssuerKey(std::string_view text, const std::string& source = "<memory>");
Status SaveIssuerKey(const std::string& path, const IssuerKey& key);
StatusOr<IssuerKey> LoadIssuerKey(const std::string& path);

// Verifies signed grants against the trusted issuers of one swarm and caches
// the result by SHA3-256 of the signed bytes (one signature check per grant).
// Errors are PermissionDenied and their message starts with the refusal reason
// used in swarm_rejected_calls_total:
//   "not_admitted: ..."  bad signature, unknown issuer, other swarm, malformed
//   "expired: ..."       now outside [not_before, expires)
//   "excluded: ..."      the subject was excluded by a committed record
// Only grants whose signature verified are cached (so the cache cannot be
// filled by an outsider); the time window and exclusions are checked on every
// call. When the cache holds cache_entries_max grants, the entry with the
// smallest key (a hash: an arbitrary one) is dropped. Thread-safe; the
// signature check runs outside the lock.
// The admission set a committee committed (an epoch.admission record,
// consensus/epoch.h): the SHA3-256 of every admitted SignedGrant and the peer
// ids whose grants were revoked. See GrantVerifier::SetCommitted.
struct CommittedGrants {
  uint64_t version = 0;  // epoch.admission version
  uint64_t index = 0;    // its ledger index
  std::set<std::array<uint8_t, 32>> grants;
  std::set<crypto::PeerIdBytes> revoked;
};

class GrantVerifier {
 public:
  GrantVerifier(std::string swarm_id, std::vector<IssuerKey> trusted_issuers,
                size_t cache_entries_max = kGrantCacheEntriesMax);
  StatusOr<Grant> Verify(ByteSpan signed_grant_bytes, uint64_t now_unix_ms);
  void Exclude(const crypto::PeerIdBytes& peer, std::string reason);
  bool IsExcluded(const crypto::PeerIdBytes& peer) const;
  // Committed admission (a committee runs; node/admission.h). Until the first
  // call every grant the issuers signed is admitted (the genesis rule: the
  // committee itself must form). Once a committed set is given, Verify also
  // refuses a grant whose subject is in `revoked` ("excluded: ... revoked by
  // epoch.admission version V") or whose hash is not in `grants`
  // ("not_admitted: grant ... is not in the committed admission set").
  // Versions only move forward (an older set is ignored; returns false).
  bool SetCommitted(CommittedGrants committed);
  std::optional<CommittedGrants> committed() const;
  // "" when the committed set (if any) admits this grant; else "revoked" or
  // "not_committed" (`subject` may be null: only the hash is checked).
  std::string CommittedRefusal(const std::array<uint8_t, 32>& grant_sha3, const crypto::PeerIdBytes* subject) const;
  const std::string& swarm_id() const { return swarm_id_; }
  const std::vector<IssuerKey>& issuers() const { return issuers_; }
  size_t cached_grants() const;

 private:
  std::string swarm_id_;
  std::vector<IssuerKey> issuers_;
  size_t cache_entries_max_;
  mutable std::mutex mu_;
  std::map<std::array<uint8_t, 32>, Grant> cache_;  // bounded by cache_entries_max_
  std::map<crypto::PeerIdBytes, std::string> excluded_;
  std::optional<CommittedGrants> committed_;
};

}  // namespace swarm::admission
