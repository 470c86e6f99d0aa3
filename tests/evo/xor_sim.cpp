// XOR is solved from fixed seeds within a generation cap; the run is
// deterministic (same seed -> same evaluations count and champion). A failure
// prints its seed; SWARM_SIM_SEED=<n> runs that seed alone.
#include <gtest/gtest.h>

#include "evo/island.h"
#include "evo/network.h"
#include "evo/tasks.h"
#include "support/sim_seeds.h"

namespace swarm::evo {
namespace {

struct RunResult {
  bool solved = false;
  uint64_t generations = 0;
  uint64_t evaluations = 0;
  uint64_t champion_hash = 0;
};

RunResult RunXor(uint64_t seed, uint64_t generation_cap) {
  XorTask task;
  TaskEvaluator eval(&task);
  NeatConfig cfg;
  Island island(cfg, &task, seed);
  RunResult r;
  for (uint64_t g = 0; g < generation_cap && !island.solved(); ++g) {
    auto st = island.Step(eval);
    EXPECT_TRUE(st.ok()) << st.status();
    if (!st.ok()) break;
  }
  r.solved = island.solved();
  r.generations = island.generation();
  r.evaluations = island.evaluations();
  if (island.solution()) r.champion_hash = GenomeHash64(island.solution()->genome);
  return r;
}

TEST(XorSim, SolvedForFixedSeedsWithinCap) {
  for (uint64_t seed : ::swarm::testing::SimSeeds(5)) {
    SWARM_SIM_SEED_TRACE(seed);
    RunResult r = RunXor(seed, 150);
    EXPECT_TRUE(r.solved) << "seed " << seed;
  }
}

TEST(XorSim, SolutionReallyComputesXor) {
  XorTask task;
  TaskEvaluator eval(&task);
  Island island(NeatConfig{}, &task, 7);
  for (int g = 0; g < 150 && !island.solved(); ++g) ASSERT_TRUE(island.Step(eval).ok());
  ASSERT_TRUE(island.solved());
  Network net(island.solution()->genome);
  const double cases[4][3] = {{0, 0, 0}, {0, 1, 1}, {1, 0, 1}, {1, 1, 0}};
  for (const auto& c : cases) {
    net.Reset();
    const double in[2] = {c[0], c[1]};
    EXPECT_EQ(net.Activate(in)[0] > 0.5, c[2] > 0.5);
  }
  EXPECT_TRUE(ValidateGenome(island.solution()->genome, 8.0).ok());
}

TEST(XorSim, DeterministicFromSeed) {
  RunResult a = RunXor(11, 60), b = RunXor(11, 60);
  EXPECT_EQ(a.solved, b.solved);
  EXPECT_EQ(a.generations, b.generations);
  EXPECT_EQ(a.evaluations, b.evaluations);
  EXPECT_EQ(a.champion_hash, b.champion_hash);
}

}  // namespace
}  // namespace swarm::evo
