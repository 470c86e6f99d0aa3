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
  sync_bytes_ = &prometheus::BuildCounter()
                     .Name("swarm_sync_bytes_total")
                     .Help("Raw bytes of verified checkpoint chunks fetched, by donor")
                     .Register(metrics.registry());
  sync_rejected_ = &prometheus::BuildCounter()
                        .Name("swarm_sync_rejected_chunks_total")
                        .Help("Checkpoint chunk answers refused, by reason (hash_mismatch, size_mismatch, not_zstd, "
                              "corrupt, timeout, refused)")
                        .Register(metrics.registry());
}

namespace {
void AddDeltas(prometheus::Family<prometheus::Counter>& family, const char* label,
               const std::map<std::string, uint64_t>& now, std::map<std::string, uint64_t>& seen) {
  for (const auto& [key, value] : now) {
    uint64_t& before = seen[key];
    if (value > before) family.Add({{label, key}}).Increment(static_cast<double>(value - before));
    before = value;
  }
}
}  // namespace

void CheckpointMetrics::UpdateSync(const chunks::ChunkFetcher& fetcher) {
  AddDeltas(*sync_bytes_, "donor", fetcher.bytes_by_donor(), seen_bytes_);
  AddDeltas(*sync_rejected_, "reason", fetcher.rejected_by_reason(), seen_rejected_);
}

void CheckpointMetrics::ResetSync() {
  seen_bytes_.clear();
  seen_rejected_.clear();
}

void CheckpointMetrics::Record(const chunks::WriteStats& stats) {
  new_bytes_->Increment(static_cast<double>(stats.bytes_new));
  dedup_bytes_->Increment(static_cast<double>(stats.bytes_dedup));
  duration_->Observe(stats.seconds);
}

}  // namespace swarm::node
