// Checkpointer: the every-K-rounds policy, retention, and resume (same job
// only, every blob back byte for byte).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "chunks/checkpointer.h"
#include "common/rng.h"

namespace swarm::chunks {
namespace {

namespace fs = std::filesystem;

TEST(Checkpointer, WritesEveryKRoundsKeepsLatestAndResumes) {
  const fs::path dir = fs::temp_directory_path() / ("swarm_checkpointer_" + std::to_string(getpid()));
  fs::remove_all(dir);
  CheckpointerOptions o{.dir = dir.string(), .job = "job-a", .every_rounds = 5, .keep_latest = 2};
  o.store.sync = false;
  auto cp = Checkpointer::Open(o);
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_TRUE(absl::IsNotFound((*cp)->Resume().status()));
  Rng rng(1);
  Bytes params(200000);
  for (auto& b : params) b = static_cast<uint8_t>(rng.Next());
  Bytes last_params;
  int written = 0;
  for (uint64_t round = 0; round <= 17; ++round) {
    for (int k = 0; k < 100; ++k) params[rng.Uniform(params.size())] ^= 1;
    const Bytes rng_state(16, static_cast<uint8_t>(round));
    auto w = (*cp)->MaybeWrite(round, {{"params", params}, {"rng", rng_state}});
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(w->has_value(), round > 0 && round % 5 == 0) << round;
    if (w->has_value()) {
      ++written;
      last_params = params;
    }
  }
  EXPECT_EQ(written, 3);  // rounds 5, 10, 15
  auto list = (*cp)->dir().List();
  ASSERT_EQ(list->size(), 2u);  // keep_latest
  EXPECT_EQ((*list)[1].label, Checkpointer::LabelFor(15));
  auto r = (*cp)->Resume();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->step, 15u);
  EXPECT_EQ(r->blobs.at("params"), last_params);
  EXPECT_EQ(r->blobs.at("rng"), Bytes(16, 15));
  EXPECT_EQ(r->root, ManifestRoot(r->manifest));
  // Another job refuses this directory, naming both jobs.
  CheckpointerOptions other = o;
  other.job = "job-b";
  auto cp2 = Checkpointer::Open(other);
  ASSERT_TRUE(cp2.ok());
  auto refused = (*cp2)->Resume();
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_NE(refused.status().message().find("job-a"), std::string::npos) << refused.status();
  EXPECT_NE(refused.status().message().find("job-b"), std::string::npos) << refused.status();
  EXPECT_FALSE(Checkpointer::Open({.dir = dir.string(), .job = "x", .every_rounds = 0}).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace swarm::chunks
