// The trainer peer capability, [trainer] section (node/extension.h).
//
// A peer with trainer.enabled = true joins a data-parallel training job with
// the other peers listed in trainer.peers (gRPC addresses, self included, the
// same list in the same order on every trainer). The job itself — model, data,
// steps, batch, optimizer, aggregator, assumed f, attack — is the TOML file
// `swarm train --config` takes (trainer.job), with trainer.job_set overrides.
//
// Each step the trainer computes its minibatch gradient on its shard, folds
// it into its worker momentum (train.worker_momentum, beta ~ 0.9), and sends
// the momentum to every other trainer as a signed envelope of kind "train"
// (payload: train/contribution_codec.h). Received contributions feed a
// train::Averager (train/averaging_round.h); when the round closes the robust
// aggregate is applied with the optimizer. A trainer with trainer.byzantine =
// true lies with the job's attack.name (omniscient: ALIE/IPM craft from the
// honest contributions it received this round).
//
// Experts are local FFNs averaged like the rest (trainer.experts = "local"),
// or hosted by expert peers and called over gRPC with fail-over
// (trainer.experts = "remote", when the binary has the experts extension).
//
// Status JSON "trainer": step, steps, loss, accuracy, peers_alive, state,
// exclusions. Metrics: swarm_gradient_sync_duration_seconds (histogram),
// swarm_aggregation_excluded_total{reason}, swarm_trainer_step,
// swarm_trainer_loss, swarm_trainer_test_accuracy.
// Checkpoints every trainer.checkpoint_every steps to
// <data_dir>/trainer/checkpoint.pt; trainer.resume = true continues from it.
// Thread-safety: as node/extension.h requires (one training thread; OnEnvelope
// and StatusJson lock).
#pragma once

#include "node/extension.h"

namespace swarm::node {

ExtensionFactory TrainerExtensionFactory();

}  // namespace swarm::node
