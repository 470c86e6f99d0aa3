// The issuer of a local swarm: `swarm up` and `swarm train` create one issuer
// key per run (<run_dir>/admission/issuer.{key,pub}), give each peer they spawn
// an identity (<peer_dir>/node.key, kept if present) and a grant
// (<peer_dir>/admission.grant) with the roles its job needs plus observer, and
// pass the peer `--set admission.*` / `node.key_file` (docs/security.md).
// It also admits the orchestrating process itself (<run_dir>/admission/
// operator.{key,grant}: observer, client, island, trainer) for the tools that call peers.
// Not thread-safe; one per run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "admission/grant.h"
#include "common/config.h"
#include "common/status.h"
#include "crypto/identity.h"

namespace swarm::cli {

// How long grants of a local swarm last.
inline constexpr uint64_t kLocalGrantTtlMs = 7ull * 24 * 3600 * 1000;

class LocalIssuer {
 public:
  // A fresh issuer for swarm "local-<random hex>" under <run_dir>/admission.
  // A new issuer and swarm id in run_dir/admission, or, with `join_run_dir`
  // (the --dir of a running `swarm up`), that swarm's issuer and id, so this
  // run's peers are admitted by the peers already running.
  static StatusOr<LocalIssuer> Create(const std::string& run_dir, const std::string& join_run_dir = "");

  // Issues a grant for the peer whose state is `peer_dir` and which listens on
  // `address`; `roles` gets observer added. Capacity is clamped to
  // (0, admission::kCapacityMax]. `operator_name` "" gives the peer its own
  // operator, DefaultOperator(peer_dir) ("local-n0"), so placement's
  // per-operator caps and the jobs queen's per-operator votes treat each
  // spawned peer as a separate machine; peers given the same name (node.operator
  // in `swarm up`, --operator in `swarm train`) are grouped as one operator.
  // Returns the arguments to append to the peer's `swarm node` command line
  // ("--set", "node.key_file=...", ...).
  StatusOr<std::vector<std::string>> Admit(const std::string& peer_dir, admission::RoleSet roles,
                                           const std::string& address, double capacity = 1.0,
                                           const std::string& region = "", const std::string& operator_name = "");
  // "local-" + the last component of `peer_dir` (its peer id, e.g. n0).
  static std::string DefaultOperator(const std::string& peer_dir);

  const std::string& swarm_id() const { return swarm_id_; }
  std::string issuer_id_hex() const { return issuer_->PeerIdHex(); }
  int issued() const { return issued_; }  // peer grants (Admit calls), not the operator's
  // "admission: issued N peer grant(s) for swarm S (issuer X, DIR/issuer.pub; operator grant ...)".
  std::string Summary() const;

 private:
  LocalIssuer() = default;
  StatusOr<admission::SignedGrant> Issue(const crypto::Identity& subject, admission::RoleSet roles,
                                         const std::string& address, double capacity,
                                         const std::string& region, const std::string& operator_name);
  std::string dir_;  // <run_dir>/admission
  std::string swarm_id_;
  std::unique_ptr<crypto::Identity> issuer_;
  uint64_t next_serial_ = 1;
  int issued_ = 0;
};

// The roles a `swarm node` with this (validated) config needs for what it runs:
// consensus.enabled → committee + client; experts.host → expert_host;
// trainer.enabled → trainer (+ client with trainer.require_committed_root) or
// aggregator (trainer.role); evo.evaluator → evaluator; jobs.role queen →
// queen, worker/guardian/scout → jobs_worker. Keys not in the binary are skipped.
admission::RoleSet RolesForNodeConfig(const Config& config);

}  // namespace swarm::cli
