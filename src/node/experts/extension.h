// Expert hosting as a node extension (config section [experts]).
//
// With experts.host = true the peer serves swarm.v1.ExpertService
// (proto/swarm/v1/expert.proto) over an nn::ExpertHost (nn/expert_host.h):
// it keeps each hosted expert's parameters and optimizer state and applies the
// gradients trainers send with Backward (hivemind-DMoE style).
//
// Which experts: experts.ids (e.g. ["0", "3"]) when set; otherwise the expert
// ids the placement ring assigns to this peer (Node::Placement().owners),
// hosted when the ring first gives them to this peer and on demand when a
// request names one. An expert newly given to this peer by the ring (not
// restored from a checkpoint) first copies the parameters of a co-replica
// that has applied more steps (GetParameters), so a replacement replica
// continues from the trained state rather than from the initialization.
// Every replica of expert e initializes from experts.seed + e (identical
// everywhere).
//
// Background loop (every experts.agreement_interval_ms): host newly assigned
// experts, measure replica agreement (cosine similarity of this peer's
// parameters with one co-replica's) and checkpoint every
// experts.checkpoint_every seconds to <node.data_dir>/experts/ (reloaded on
// restart). Stop writes a last checkpoint.
//
// Metrics: swarm_expert_activations_total{expert} (tokens served by Forward),
// swarm_expert_call_failures_total{reason} (requests rejected by this host:
// shape, non_finite, length_mismatch, unknown_expert, ...),
// swarm_replica_agreement{expert}, swarm_expert_steps_applied{expert}.
// Status JSON ("experts"): hosted experts with steps, forwards, agreement;
// rejected counts.
// Thread-safety: as node::Extension.
#pragma once

#include "node/extension.h"

namespace swarm::node {

ExtensionFactory ExpertsExtensionFactory();

}  // namespace swarm::node
