// A peer's admission state, loaded at start from the admission.* keys
// (node/config.h) and exposed to extensions and the RPC guard through
// Node::admission(). docs/security.md "Admission grants" explains the keys.
//
// Three modes:
//   granted  admission.issuer_key_files set: callers must present a grant from
//            one of those issuers for admission.swarm_id (verifier != nullptr).
//   open     admission.open = true: DEV MODE, callers without a grant are
//            accepted (logged as a warning at start, shown in /api/status).
//            With issuers also set, grants are still verified when presented.
//   closed   neither: every RPC is refused (signed or not: `unauthenticated`
//            without a header, else `not_admitted: admission is closed ...`),
//            counted in swarm_rejected_calls_total. No RPC is exempt: a peer
//            that can check no grant has no caller it may trust, and nothing a
//            peer must answer without admission exists (liveness is the HTTP
//            /healthz, which like /metrics and /api/status stays read-only).
//            Membership admits nobody (not even this peer). Warned at start.
// In granted and closed mode Node::Start makes the call guard enforce
// (CallGuard::Enforce); only open mode leaves it open.
//
// Expiry: the guard checks a caller's grant window on every call (`expired`),
// and the membership driver re-checks every member's on every view refresh,
// so an expired member leaves views and placement without a restart; a peer
// reloads a renewed admission.grant_file (Node, every second) and gossips it.
//
// Committed admission: when a committee runs, its epoch.admission records
// (consensus/epoch.h) name the admitted grants (by hash) and the revoked peer
// ids; CommittedAdmissionFromBody turns a committed body into the
// GrantVerifier's committed set (GrantVerifier::SetCommitted), after which the
// guard, membership and placement admit only committed grants. The rule is in
// docs/security.md "Committed admission".
//
// Thread-safety: an AdmissionView is a value (Node::admission() returns a
// copy); the GrantVerifier it points to is thread-safe (its exclusions and
// committed set change when committed records say so).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "admission/grant.h"
#include "common/bytes.h"
#include "common/status.h"
#include "node/config.h"

namespace swarm::crypto {
class Identity;
}

namespace swarm::node {

struct AdmissionView {
  bool open = false;                 // admission.open (dev mode)
  std::string swarm_id;              // admission.swarm_id ("" when no issuer is configured)
  // Checks callers' grants; nullptr when no issuer is configured. Shared so an
  // extension may keep it past Start.
  std::shared_ptr<admission::GrantVerifier> verifier;
  Bytes own_grant;                   // this peer's SignedGrant encoding; empty when none
  std::optional<admission::Grant> own;  // its decoded, verified grant

  // "granted", "open" or "closed" (see above).
  std::string mode() const;
  // Whether a call carrying no grant may be served (open mode only).
  bool AcceptsUngranted() const { return open; }
  // Whether every peer call must be refused (closed mode).
  bool RefusesAll() const { return !open && verifier == nullptr; }
  nlohmann::json StatusJson() const;
};

// Loads the issuers and this peer's grant and checks the grant: it must decode,
// verify against one of the issuers for config.swarm_id at `now_unix_ms`, name
// `self` as its subject and, when it has an address, the port this peer listens
// on (`grpc_listen`). Errors name the config key, the file and the grant field.
StatusOr<AdmissionView> LoadAdmission(const AdmissionConfig& config, const crypto::Identity& self,
                                      const std::string& grpc_listen, uint64_t now_unix_ms);

}  // namespace swarm::node
