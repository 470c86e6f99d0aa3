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
//   closed   neither: meant to refuse every peer call; today it only warns at
//            start and the call guard stays open (docs/security.md).
// In granted mode Node::Start makes the call guard enforce (CallGuard::Enforce).
//
// Thread-safety: an AdmissionView is immutable after Node::Start; the
// GrantVerifier it points to is thread-safe (its exclusions change when a
// committed record excludes a peer).
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
