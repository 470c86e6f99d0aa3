// When a committee member proposes a new epoch record (sans-I/O: a pure
// function of the member's view, the committed epoch and the time it is fed).
//
// One EpochProposer per kind (membership, placement). The member's driver
// calls OnTick(now, desired, committed) periodically with the canonical body
// of its current view (consensus/epoch.h; nullopt = nothing to propose,
// e.g. membership off or an empty placement table) and the last committed
// epoch of that kind from the replicated ledger. It returns a proposal iff
//   1. desired's root differs from the committed root, and
//   2. the view has been stable (same root) for `settle`, and
//   3. the committed epoch of this kind has not changed for `settle` either
//      (a member whose view is behind a freshly committed epoch does not
//      re-propose its old set at once: only if its view stays different for
//      a whole settle time after the commit), and
//   4. no earlier proposal is in flight (OnProposalDone not yet called) and
//      the last one was made at least `retry` ago.
// The proposal's version is committed.version + 1. Several members proposing
// the same change are harmless: the state machine keeps exactly one
// (CheckEpochRecord refuses the rest).
// Thread-safety: none (one thread, or the caller's lock).
#pragma once

#include <optional>

#include "common/bytes.h"
#include "common/clock.h"
#include "consensus/epoch.h"

namespace swarm::node {

struct EpochProposerOptions {
  Nanos settle = Millis(2000);  // consensus.epoch_settle_ms
  Nanos retry = Millis(1000);   // between two proposals of one kind
};

struct EpochProposal {
  EpochKind kind{};
  uint64_t version = 0;
  Bytes body;
  crypto::Digest256 root{};
};

class EpochProposer {
 public:
  EpochProposer(EpochKind kind, EpochProposerOptions options) : kind_(kind), opts_(options) {}

  std::optional<EpochProposal> OnTick(Nanos now, const std::optional<Bytes>& desired, const EpochState& committed);
  // The proposal returned last finished (committed, refused or failed).
  void OnProposalDone() { in_flight_ = false; }

  bool in_flight() const { return in_flight_; }
  uint64_t proposals() const { return proposals_; }

 private:
  const EpochKind kind_;
  const EpochProposerOptions opts_;
  bool started_ = false;
  std::optional<crypto::Digest256> view_root_;
  Nanos view_since_ = 0;
  EpochState committed_;
  Nanos committed_since_ = 0;
  bool in_flight_ = false;
  bool attempted_ = false;
  Nanos last_attempt_ = 0;
  uint64_t proposals_ = 0;
};

}  // namespace swarm::node
