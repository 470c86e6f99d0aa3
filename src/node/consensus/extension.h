// The PBFT committee member as a node extension (config section [consensus]).
//
// With consensus.enabled = true the peer runs one replica of the committee
// that orders appends to the replicated ledger (<data_dir>/consensus/
// ledger.db), driven by node/consensus/driver.h over the Pbft gRPC service
// (proto/swarm/v1/consensus.proto), which also serves the client path:
// Pbft.Submit (any member; a backup relays to the primary), Pbft.LedgerHead,
// Pbft.Identify.
//
// Committee: consensus.committee (gRPC addresses, n = 3f+1, index = replica
// id), or, when empty, the first consensus.committee_size addresses in sorted
// order among the alive members once this peer's membership view has held at
// least that many alive members unchanged for consensus.form_settle_ms; the
// result is saved in <data_dir>/consensus/committee.json and reused after a
// restart. A peer whose address is not in the committee runs no replica and
// refuses Submit naming the committee. Keys: node/consensus/keys.h (TOFU,
// pinned).
//
// Epochs: with consensus.epochs (default on) every member feeds its
// membership view (members alive or suspect) and placement table to
// consensus/epoch_proposer.h each background tick (300 ms) and submits
// the proposals (kind epoch.membership / epoch.placement, signed with its
// node identity) through its own replica; the state machine keeps exactly
// one record per change (consensus/epoch.h). Debounce:
// consensus.epoch_settle_ms.
//
// Status JSON ("consensus"): state, committee, self, view, primary,
// last_committed, stable_checkpoint, log_size, ledger size/head, counters,
// epochs {membership: {version, index, root, members: [{id, address}]},
// placement: {version, index, root, experts}}.
// Metrics: swarm_consensus_rounds_total, swarm_consensus_view_changes_total,
// swarm_consensus_commit_latency_seconds, swarm_consensus_log_size,
// swarm_consensus_dropped_messages_total{reason} (reason unknown_key: from a
// member whose key is not pinned yet, e.g. during committee formation),
// swarm_consensus_epoch{kind}. Commit latency is observed at every member:
// from the batch's pre-prepare seen by it (received, or sent as primary) to
// its execution there.
// Thread-safety: as node::Extension.
#pragma once

#include "node/extension.h"

namespace swarm::node {

ExtensionFactory ConsensusExtensionFactory();

}  // namespace swarm::node
