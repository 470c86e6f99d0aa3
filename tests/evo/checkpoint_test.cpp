// Checkpoint file (evo/checkpoint.h) and Island/Archipelago Save/Load.
#include "evo_runtime/checkpoint_file.h"

#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "evo/island_archives.h"
#include "evo/presets.h"
#include "evo/tasks.h"

namespace swarm::evo {
namespace {

NeatConfig SmallXor() {
  NeatConfig cfg = *PresetConfig("xor");
  cfg.population_size = 40;
  return cfg;
}

TEST(Checkpoint, RoundTripsAndResumesDeterministically) {
  XorTask task;
  TaskEvaluator eval(&task);
  const NeatConfig cfg = SmallXor();
  Archipelago a(cfg, &task, Topology::Ring(2), {}, 5);
  for (int g = 0; g < 6; ++g) ASSERT_TRUE(a.Step(eval).ok());
  const EvolveCheckpoint ck{"xor", 5, a.Save()};
  const std::string text = EncodeCheckpoint(ck);
  auto back = DecodeCheckpoint(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->task, "xor");
  EXPECT_EQ(back->seed, 5u);
  ASSERT_EQ(back->state.islands.size(), 2u);
  EXPECT_EQ(back->state.islands[0].genomes, ck.state.islands[0].genomes);
  EXPECT_EQ(back->state.islands[1].species.size(), ck.state.islands[1].species.size());
  EXPECT_EQ(back->state.islands[0].threshold, ck.state.islands[0].threshold);
  EXPECT_EQ(EncodeCheckpoint(*back), text);  // canonical

  // Two archipelagos loaded from the same checkpoint continue identically.
  Archipelago b(cfg, &task, Topology::Ring(2), {}, 5), c(cfg, &task, Topology::Ring(2), {}, 5);
  ASSERT_TRUE(b.Load(back->state).ok());
  ASSERT_TRUE(c.Load(DecodeCheckpoint(text)->state).ok());
  EXPECT_EQ(b.island(0).generation(), 6u);
  EXPECT_EQ(b.evaluations(), a.evaluations());
  for (int g = 0; g < 4; ++g) {
    auto sb = b.Step(eval), sc = c.Step(eval);
    ASSERT_TRUE(sb.ok() && sc.ok());
    EXPECT_EQ(sb->best_fitness, sc->best_fitness);
  }
  EXPECT_EQ(b.island(1).genomes(), c.island(1).genomes());
}

TEST(Checkpoint, CorruptOrMismatchedFilesAreRejectedWithTheField) {
  XorTask task;
  TaskEvaluator eval(&task);
  Archipelago a(SmallXor(), &task, Topology::Ring(1), {}, 1);
  ASSERT_TRUE(a.Step(eval).ok());
  std::string text = EncodeCheckpoint({"xor", 1, a.Save()});

  auto expect_error = [](const std::string& t, const std::string& needle) {
    auto r = DecodeCheckpoint(t);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status();
  };
  expect_error("not json", "not a JSON object");
  expect_error(R"({"format":"other","version":1})", "format");
  expect_error(R"({"format":"swarm.evo.checkpoint","version":99,"sha3_256":"","body":"{}"})", "version");
  std::string flipped = text;
  const size_t pos = flipped.find("generation");
  ASSERT_NE(pos, std::string::npos);
  flipped[pos] = 'G';
  expect_error(flipped, "sha3_256");

  // A well-formed checkpoint of another shape does not load.
  Archipelago two(SmallXor(), &task, Topology::Ring(2), {}, 1);
  EXPECT_NE(two.Load(DecodeCheckpoint(text)->state).message().find("islands"), std::string::npos);
  NeatConfig bigger = SmallXor();
  bigger.population_size = 50;
  Archipelago big(bigger, &task, Topology::Ring(1), {}, 1);
  EXPECT_NE(big.Load(DecodeCheckpoint(text)->state).message().find("population_size"), std::string::npos);
  PoleTask pole(PoleTask::Kind::kSingle);
  Archipelago other(SmallXor(), &pole, Topology::Ring(1), {}, 1);
  EXPECT_NE(other.Load(DecodeCheckpoint(text)->state).message().find("shape"), std::string::npos);
}

TEST(Checkpoint, FileWriteIsAtomicAndReadNamesThePath) {
  XorTask task;
  Archipelago a(SmallXor(), &task, Topology::Ring(1), {}, 1);
  const std::string path = ::testing::TempDir() + "/evo_ck.json";
  ASSERT_TRUE(WriteCheckpointFile(path, {"xor", 1, a.Save()}).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto r = ReadCheckpointFile(path);
  ASSERT_TRUE(r.ok()) << r.status();
  auto missing = ReadCheckpointFile(path + ".missing");
  EXPECT_NE(missing.status().message().find(".missing"), std::string::npos);
  std::remove(path.c_str());
}

TEST(IslandArchives, ReplicasConvergeAndCountBytes) {
  XorTask task;
  TaskEvaluator eval(&task);
  Archipelago a(SmallXor(), &task, Topology::Ring(3), {}, 9);
  IslandArchives archives(3, crdt::ArchiveLimits{8, 1 << 16}, 9);
  double best = -1;
  for (int g = 0; g < 8; ++g) {
    ASSERT_TRUE(a.Step(eval).ok());
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(archives.Record(i, *a.island(i).champion()).ok());
      best = std::max(best, a.island(i).champion()->fitness);
    }
    ASSERT_TRUE(archives.Sync(Seconds(g + 1)).ok());
  }
  for (int g = 8; g < 12 && !archives.Converged(); ++g) ASSERT_TRUE(archives.Sync(Seconds(g + 1)).ok());
  EXPECT_TRUE(archives.Converged());
  EXPECT_GT(archives.sync_bytes(), 0u);
  EXPECT_EQ(archives.archive(2).entries().front().fitness, best);
}

}  // namespace
}  // namespace swarm::evo
