// Checkpoint metrics (issue 17) in the peer's registry (node/metrics.h):
//   swarm_checkpoint_bytes_total{state="new"}    raw bytes of written
//       checkpoints that had to be stored (chunks not on disk before)
//   swarm_checkpoint_bytes_total{state="dedup"}  raw bytes found already
//       stored (earlier checkpoints, replicas, repeats)
//   swarm_checkpoint_duration_seconds            histogram of whole
//       CheckpointDir::Write calls (chunk, hash, compress, fsync, manifest)
//   swarm_sync_bytes_total{donor}                raw bytes of verified chunks
//       fetched from each donor (chunks::ChunkFetcher)
//   swarm_sync_rejected_chunks_total{reason}     donor answers refused:
//       hash_mismatch, size_mismatch, not_zstd, corrupt, timeout, refused
// The chunk store and the fetcher keep plain numbers (chunks::WriteStats,
// the fetcher's cumulative maps); whoever writes or fetches a checkpoint
// (trainer, expert host) hands them over: Record per write, UpdateSync after
// each batch of fetcher events (it adds what changed since the last call for
// that fetcher).
// Thread-safety: Record may be called from any thread (prometheus-cpp
// counters and histograms are thread-safe). Families are registered once per
// registry; several CheckpointMetrics on one Metrics share them.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <map>
#include <string>

#include "chunks/fetch.h"
#include "chunks/store.h"
#include "node/metrics.h"

namespace swarm::node {

class CheckpointMetrics {
 public:
  explicit CheckpointMetrics(Metrics& metrics);
  void Record(const chunks::WriteStats& stats);
  // Adds the fetcher's progress since the previous UpdateSync. One
  // CheckpointMetrics follows one fetcher at a time; ResetSync before the next.
  void UpdateSync(const chunks::ChunkFetcher& fetcher);
  void ResetSync();

 private:
  prometheus::Family<prometheus::Counter>* sync_bytes_;
  prometheus::Family<prometheus::Counter>* sync_rejected_;
  std::map<std::string, uint64_t> seen_bytes_, seen_rejected_;
  prometheus::Counter* new_bytes_;
  prometheus::Counter* dedup_bytes_;
  prometheus::Histogram* duration_;
};

}  // namespace swarm::node
