// Checkpoint metrics (issue 17) in the peer's registry (node/metrics.h):
//   swarm_checkpoint_bytes_total{state="new"}    raw bytes of written
//       checkpoints that had to be stored (chunks not on disk before)
//   swarm_checkpoint_bytes_total{state="dedup"}  raw bytes found already
//       stored (earlier checkpoints, replicas, repeats)
//   swarm_checkpoint_duration_seconds            histogram of whole
//       CheckpointDir::Write calls (chunk, hash, compress, fsync, manifest)
// The chunk store keeps plain numbers (chunks::WriteStats); whoever writes a
// checkpoint (trainer, expert host) hands them to Record.
// Thread-safety: Record may be called from any thread (prometheus-cpp
// counters and histograms are thread-safe). Families are registered once per
// registry; several CheckpointMetrics on one Metrics share them.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "chunks/store.h"
#include "node/metrics.h"

namespace swarm::node {

class CheckpointMetrics {
 public:
  explicit CheckpointMetrics(Metrics& metrics);
  void Record(const chunks::WriteStats& stats);

 private:
  prometheus::Counter* new_bytes_;
  prometheus::Counter* dedup_bytes_;
  prometheus::Histogram* duration_;
};

}  // namespace swarm::node
