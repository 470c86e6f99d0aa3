// Checkpoint writes show up in the peer's /metrics under the names issue 17 gives.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "common/rng.h"
#include "node/checkpoint_metrics.h"

namespace swarm::node {
namespace {

TEST(CheckpointMetrics, NewAndDedupBytesAndDuration) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("swarm_ckpt_metrics_" + std::to_string(getpid()));
  fs::remove_all(dir);
  chunks::CheckpointDirOptions opts;
  opts.sync = false;
  auto store = chunks::CheckpointDir::Open(dir.string(), opts);
  ASSERT_TRUE(store.ok()) << store.status();
  Metrics metrics;
  CheckpointMetrics cm(metrics);
  Bytes blob(300000);
  Rng rng(1);
  for (auto& b : blob) b = static_cast<uint8_t>(rng.Next());
  const chunks::BlobInput in[] = {{"w", blob}};
  auto first = (*store)->Write({.label = "a"}, in);
  ASSERT_TRUE(first.ok());
  cm.Record(first->stats);
  auto second = (*store)->Write({.label = "b"}, in);  // same bytes: all dedup
  ASSERT_TRUE(second.ok());
  cm.Record(second->stats);
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("swarm_checkpoint_bytes_total{state=\"new\"} 300000"), std::string::npos) << text;
  EXPECT_NE(text.find("swarm_checkpoint_bytes_total{state=\"dedup\"} 300000"), std::string::npos) << text;
  EXPECT_NE(text.find("swarm_checkpoint_duration_seconds_count 2"), std::string::npos) << text;
  // A second adapter on the same registry shares the families.
  CheckpointMetrics again(metrics);
  again.Record(second->stats);
  EXPECT_NE(metrics.Render().find("swarm_checkpoint_bytes_total{state=\"dedup\"} 600000"), std::string::npos);
  fs::remove_all(dir);
}

TEST(CheckpointMetrics, SyncBytesByDonorAndRejectionsByReason) {
  Metrics metrics;
  CheckpointMetrics cm(metrics);
  const Bytes a(3000, 1), b(2000, 2);
  chunks::ChunkFetcher f({{chunks::ChunkIdOf(a), 3000}, {chunks::ChunkIdOf(b), 2000}}, {"good", "liar"},
                         {.in_flight_per_donor_max = 1});
  f.OnTick(0);
  for (const auto& r : f.TakeOutbox()) {
    const Bytes& raw = r.id == chunks::ChunkIdOf(a) ? a : b;
    f.OnChunk(r.request_id, chunks::CompressChunk(r.donor == "liar" ? Bytes(raw.size(), 9) : raw), 1);
  }
  cm.UpdateSync(f);
  f.OnTick(2);
  for (const auto& r : f.TakeOutbox()) {
    const Bytes& raw = r.id == chunks::ChunkIdOf(a) ? a : b;
    f.OnChunk(r.request_id, chunks::CompressChunk(raw), 3);
  }
  cm.UpdateSync(f);
  cm.UpdateSync(f);  // no change: nothing added twice
  ASSERT_TRUE(f.done());
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("swarm_sync_bytes_total{donor=\"good\"} 5000"), std::string::npos) << text;
  EXPECT_EQ(text.find("swarm_sync_bytes_total{donor=\"liar\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("swarm_sync_rejected_chunks_total{reason=\"hash_mismatch\"} 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace swarm::node
