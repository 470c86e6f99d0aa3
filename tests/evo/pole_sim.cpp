// Pole balancing end to end: single pole and double pole with velocities are
// solved from a fixed seed within a generation cap, and the solution really
// balances 100,000 steps when re-run.
#include <gtest/gtest.h>

#include "evo/island.h"
#include "evo/presets.h"
#include "evo/tasks.h"

namespace swarm::evo {
namespace {

void SolveAndRecheck(const std::string& name, uint64_t seed, uint64_t cap) {
  auto task = MakeBuiltinTask(name);
  ASSERT_TRUE(task.ok());
  TaskEvaluator eval(task->get());
  Island island(*PresetConfig(name), task->get(), seed);
  while (!island.solved() && island.generation() < cap) ASSERT_TRUE(island.Step(eval).ok());
  ASSERT_TRUE(island.solved()) << name << " seed " << seed;
  const auto* pole = dynamic_cast<const PoleTask*>(task->get());
  auto t = pole->Balance(island.solution()->genome, PoleTask::StandardStart(),
                         PoleTask::kLongRunSteps, nullptr);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, PoleTask::kLongRunSteps);
}

TEST(PoleSim, SinglePoleSolved) { SolveAndRecheck("single-pole", 1, 50); }
TEST(PoleSim, DoublePoleWithVelocitiesSolved) { SolveAndRecheck("double-pole", 2, 100); }

}  // namespace
}  // namespace swarm::evo
