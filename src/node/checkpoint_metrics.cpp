#include "node/checkpoint_metrics.h"

namespace swarm::node {

CheckpointMetrics::CheckpointMetrics(Metrics& metrics) {
  auto& bytes = prometheus::BuildCounter()
                    .Name("swarm_checkpoint_bytes_total")
                    .Help("Raw bytes of checkpoints written, by state: new (stored) or dedup (already stored)")
                    .Register(metrics.registry());
  new_bytes_ = &bytes.Add({{"state", "new"}});
  dedup_bytes_ = &bytes.Add({{"state", "dedup"}});
  auto& duration = prometheus::BuildHistogram()
                       .Name("swarm_checkpoint_duration_seconds")
                       .Help("Wall time of one checkpoint write (chunk, hash, compress, fsync, manifest)")
                       .Register(metrics.registry());
  duration_ = &duration.Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                                                                        30, 60, 120});
}

void CheckpointMetrics::Record(const chunks::WriteStats& stats) {
  new_bytes_->Increment(static_cast<double>(stats.bytes_new));
  dedup_bytes_->Increment(static_cast<double>(stats.bytes_dedup));
  duration_->Observe(stats.seconds);
}

}  // namespace swarm::node
