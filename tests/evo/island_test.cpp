#include <gtest/gtest.h>

#include "evo/archipelago.h"
#include "evo/tasks.h"

namespace swarm::evo {
namespace {

// Fails every third evaluation and returns NaN for every fifth.
class FlakyEvaluator final : public Evaluator {
 public:
  explicit FlakyEvaluator(const Task* t) : inner_(t) {}
  StatusOr<double> Evaluate(const Genome& g) override {
    ++n_;
    if (n_ % 3 == 0) return absl::UnavailableError("evaluator gone");
    if (n_ % 5 == 0) return CheckFitness(std::nan(""), "flaky");
    return inner_.Evaluate(g);
  }

 private:
  TaskEvaluator inner_;
  uint64_t n_ = 0;
};

class DeadEvaluator final : public Evaluator {
 public:
  StatusOr<double> Evaluate(const Genome&) override { return absl::UnavailableError("down"); }
};

TEST(Island, CountsFailedEvaluationsAndKeepsGoing) {
  XorTask task;
  FlakyEvaluator ev(&task);
  Island island(NeatConfig{}, &task, 3);
  GenerationStats st;
  for (int g = 0; g < 5; ++g) {
    auto s = island.Step(ev);
    ASSERT_TRUE(s.ok()) << s.status();
    st = *s;
  }
  EXPECT_EQ(st.evaluations_total, 5u * 150u);
  EXPECT_GT(st.failed_evaluations_total, 5u * 150u / 3);
  EXPECT_EQ(island.genomes().size(), 150u);
}

TEST(Island, AllFailedIsAnErrorAndTheGenerationIsKept) {
  XorTask task;
  DeadEvaluator ev;
  Island island(NeatConfig{}, &task, 3);
  auto before = island.genomes();
  auto s = island.Step(ev);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(island.genomes(), before);
}

TEST(Island, SpeciesCountTracksTarget) {
  XorTask task;
  TaskEvaluator ev(&task);
  NeatConfig cfg;
  cfg.target_species = 6;
  Island island(cfg, &task, 21);
  size_t last = 0;
  for (int g = 0; g < 40; ++g) last = island.Step(ev)->species;
  EXPECT_GE(last, 3u);
  EXPECT_LE(last, 12u);
}

TEST(Island, ImmigrateValidatesMigrants) {
  XorTask task;
  Island island(NeatConfig{}, &task, 1);
  EXPECT_FALSE(island.Immigrate({MinimalGenome(3, 1, true, true)}).ok());
  Genome bad = MinimalGenome(2, 1, true, true);
  bad.connections[0].weight = std::nan("");
  EXPECT_FALSE(island.Immigrate({bad}).ok());
  Genome good = MinimalGenome(2, 1, true, true);
  ASSERT_TRUE(island.Immigrate({good}).ok());
  EXPECT_EQ(island.genomes().back(), good);
}

// XOR whose solution check records what it was asked about and never passes.
class RecordingXor final : public Task {
 public:
  std::string name() const override { return "xor-recording"; }
  uint32_t inputs() const override { return 2; }
  uint32_t outputs() const override { return 1; }
  StatusOr<double> Evaluate(const Genome& g) const override { return xor_.Evaluate(g); }
  StatusOr<bool> IsSolution(const Genome& g, double fitness) const override {
    tested.push_back({GenomeHash64(g), fitness});
    return false;
  }
  mutable std::vector<std::pair<uint64_t, double>> tested;

 private:
  XorTask xor_;
};

TEST(Island, SolutionCheckTestsTheGenerationBestByDefault) {
  RecordingXor task;
  TaskEvaluator ev(&task);
  Island island(NeatConfig{}, &task, 5);
  for (size_t g = 0; g < 10; ++g) {
    auto st = island.Step(ev);
    ASSERT_TRUE(st.ok()) << st.status();
    ASSERT_EQ(task.tested.size(), g + 1);
    EXPECT_EQ(task.tested.back().second, st->best_fitness);
    EXPECT_EQ(task.tested.back().first, GenomeHash64(island.Best(1)[0].genome));
  }
}

TEST(Island, SolutionCheckTakesSpeciesChampionsInTurn) {
  RecordingXor task;
  TaskEvaluator ev(&task);
  NeatConfig cfg;
  cfg.check_species_in_turn = true;
  cfg.target_species = 8;
  Island island(cfg, &task, 5);
  size_t below_best = 0;
  for (size_t g = 0; g < 30; ++g) {
    auto st = island.Step(ev);
    ASSERT_TRUE(st.ok()) << st.status();
    ASSERT_EQ(task.tested.size(), g + 1);
    const auto [hash, fitness] = task.tested.back();
    // The tested genome is a member of the generation just evaluated, with
    // its own fitness, and no member of its species did better (it is a
    // species champion): at least it is never better than the best.
    bool member = false;
    for (const Scored& s : island.Best(cfg.population_size))
      if (GenomeHash64(s.genome) == hash && s.fitness == fitness) member = true;
    EXPECT_TRUE(member) << "generation " << g;
    EXPECT_LE(fitness, st->best_fitness);
    if (fitness < st->best_fitness) ++below_best;
  }
  // Other species' champions get their turn.
  EXPECT_GT(below_best, 0u);
}

TEST(Topology, Shapes) {
  EXPECT_EQ(Topology::Ring(5).edges().size(), 10u);
  EXPECT_EQ(Topology::Ring(2).edges().size(), 2u);
  EXPECT_EQ(Topology::Full(4).edges().size(), 12u);
  EXPECT_FALSE(Topology::Custom(3, {{0, 3, 1.0}}).ok());
  EXPECT_FALSE(Topology::Custom(3, {{1, 1, 1.0}}).ok());
  EXPECT_FALSE(Topology::Custom(3, {{0, 1, 1.5}}).ok());
  auto t = Topology::Custom(3, {{0, 1, 0.0}, {1, 2, 1.0}});
  ASSERT_TRUE(t.ok());
  Rng rng(1);
  for (int i = 0; i < 20; ++i) {
    auto r = MigrationRoutes(*t, rng);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].from, 1u);
  }
}

TEST(Archipelago, MigrationMovesTheBestAlongTheRing) {
  XorTask task;
  TaskEvaluator ev(&task);
  ArchipelagoConfig acfg;
  acfg.migration_interval = 2;
  acfg.migrants = 3;
  Archipelago arch(NeatConfig{}, &task, Topology::Ring(3), acfg, 5);
  ASSERT_TRUE(arch.Step(ev).ok());
  EXPECT_EQ(arch.migrations(), 0u);
  ASSERT_TRUE(arch.Step(ev).ok());
  EXPECT_EQ(arch.migrations(), 3u * 2u * 3u);  // 3 islands x 2 neighbours x 3 migrants
  // Island 1's best of generation 1 is now among island 0's next genomes.
  const Genome best1 = arch.island(1).Best(1)[0].genome;
  const auto& next0 = arch.island(0).genomes();
  EXPECT_NE(std::find(next0.begin(), next0.end(), best1), next0.end());
}

TEST(Archipelago, SolvesXorDeterministically) {
  auto run = [](uint64_t seed) {
    XorTask task;
    TaskEvaluator ev(&task);
    NeatConfig cfg;
    cfg.population_size = 50;
    cfg.weight_perturb_sigma = 1.5;
    cfg.add_node_prob = 0.1;
    cfg.add_connection_prob = 0.2;
    Archipelago arch(cfg, &task, Topology::Full(4, 0.5), ArchipelagoConfig{}, seed);
    while (!arch.solved() && arch.evaluations() < 200'000) EXPECT_TRUE(arch.Step(ev).ok());
    return std::pair{arch.solved(), arch.evaluations()};
  };
  auto a = run(9), b = run(9);
  EXPECT_TRUE(a.first);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace swarm::evo
