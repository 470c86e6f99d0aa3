// Simulation tests of the PBFT replica (label `sim`): each test runs 1,000
// seeds of one fault scenario through the driver in pbft_sim.h, which runs on
// sim::Simulator. A failing seed is printed with its scenario and the line
// that replays it (the repo's convention, src/sim/README.md):
//   SWARM_SIM_SEED=<seed> ctest --test-dir build -R '^PbftSim.<test>$' --output-on-failure
// With SWARM_SIM_SEED set a test runs that one seed and skips its claims
// about totals over all seeds.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "consensus/pbft_sim.h"
#include "support/sim_seeds.h"

namespace swarm::consensus::sim {
namespace {

constexpr uint64_t kSeeds = 1000;

using Scenario = std::function<SimOptions(uint64_t seed)>;

SimOptions Base(uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  o.replica = SimReplicaConfig();
  return o;
}

const std::map<std::string, Scenario>& Scenarios() {
  static const auto* s = new std::map<std::string, Scenario>{
      {"loss_reorder", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.loss = 0.15;
         o.duplicate = 0.05;
         o.delay_max = Millis(40);
         o.codec = true;
         return o;
       }},
      {"silent", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.byzantine = {Behavior::kSilent};
         return o;
       }},
      {"equivocating_primary", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.byzantine = {Behavior::kEquivocate};
         return o;
       }},
      {"delay", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.byzantine = {Behavior::kDelay};
         return o;
       }},
      {"replay", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.byzantine = {Behavior::kReplay};
         return o;
       }},
      {"forge", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.byzantine = {Behavior::kForge};
         o.codec = true;
         return o;
       }},
      {"conflicting_view_changes", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.byzantine = {Behavior::kConflictingViewChange};
         o.byzantine_offset = 1;  // primary of view 1: sends two different valid new-views
         o.loss = 0.1;
         o.partitions = seed % 2 == 0;
         return o;
       }},
      {"partition_heal", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.partitions = true;
         o.byzantine = {seed % 2 ? Behavior::kMixed : Behavior::kSilent};
         return o;
       }},
      {"crash_restart", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.crashes = 1;
         o.byzantine = {seed % 2 ? Behavior::kMixed : Behavior::kEquivocate};
         return o;
       }},
      {"n7_mixed", [](uint64_t seed) {
         SimOptions o = Base(seed);
         o.n = 7;
         o.byzantine = {Behavior::kMixed, seed % 3 == 0 ? Behavior::kSilent : Behavior::kMixed};
         o.partitions = seed % 2 == 0;
         o.crashes = static_cast<int>(seed % 3 == 1);
         return o;
       }},
  };
  return *s;
}

struct Totals {
  uint64_t view_changes = 0, state_transfers = 0, events = 0, committed = 0, forked_new_views = 0;
  ReplicaCounters counters;
};

Totals RunSeeds(const std::string& name) {
  const Scenario& make = Scenarios().at(name);
  Totals t;
  const std::vector<uint64_t> seeds = ::swarm::testing::SimSeeds(kSeeds);
  for (uint64_t seed : seeds) {
    SWARM_SIM_SEED_TRACE(seed);
    const SimResult r = RunSimulation(make(seed));
    if (!r.ok) {
      ADD_FAILURE() << "scenario " << name << " seed " << seed << " failed: " << r.failure;
      return t;
    }
    t.view_changes += r.view_changes;
    t.state_transfers += r.state_transfers;
    t.events += r.events;
    t.forked_new_views += r.forked_new_views;
    t.committed += r.max_committed;
    for (size_t k = 0; k < t.counters.dropped.size(); ++k) t.counters.dropped[k] += r.honest_counters.dropped[k];
    t.counters.entries_fetched += r.honest_counters.entries_fetched;
    t.counters.checkpoints_stable += r.honest_counters.checkpoints_stable;
  }
  std::printf("[%s] %llu seeds: %llu events, %llu sequence numbers committed, %llu view changes, "
              "%llu state transfers, %llu entries fetched;",
              name.c_str(), (unsigned long long)seeds.size(), (unsigned long long)t.events,
              (unsigned long long)t.committed, (unsigned long long)t.view_changes,
              (unsigned long long)t.state_transfers, (unsigned long long)t.counters.entries_fetched);
  for (size_t k = 0; k < t.counters.dropped.size(); ++k) {
    if (t.counters.dropped[k]) {
      std::printf(" %s=%llu", DropReasonName(static_cast<DropReason>(k)), (unsigned long long)t.counters.dropped[k]);
    }
  }
  std::printf("\n");
  return t;
}

uint64_t Dropped(const Totals& t, DropReason r) { return t.counters.dropped[static_cast<size_t>(r)]; }

// Claims about totals over all seeds hold for the full run, not for one replayed seed.
bool FullRun() { return !::swarm::testing::SimSeedReplay(); }

TEST(PbftSim, pbft_loss_reorder_duplicate_codec) {
  const Totals t = RunSeeds("loss_reorder");
  if (FullRun()) {
    EXPECT_GT(t.counters.checkpoints_stable, 0u);
  }
}

TEST(PbftSim, pbft_byzantine_silent) {
  const Totals t = RunSeeds("silent");
  if (!FullRun()) return;
  EXPECT_GT(t.view_changes, 0u) << "a silent first primary must be replaced";
}

TEST(PbftSim, pbft_byzantine_equivocating_primary) {
  const Totals t = RunSeeds("equivocating_primary");
  if (!FullRun()) return;
  EXPECT_GT(Dropped(t, DropReason::kEquivocation) + t.view_changes, 0u);
}

TEST(PbftSim, pbft_byzantine_delay) { RunSeeds("delay"); }

TEST(PbftSim, pbft_byzantine_replay) {
  const Totals t = RunSeeds("replay");
  if (!FullRun()) return;
  EXPECT_GT(Dropped(t, DropReason::kDuplicate) + Dropped(t, DropReason::kWrongView) +
                Dropped(t, DropReason::kOutsideWatermarks),
            0u);
}

TEST(PbftSim, pbft_byzantine_forge) {
  const Totals t = RunSeeds("forge");
  if (!FullRun()) return;
  EXPECT_GT(Dropped(t, DropReason::kBadSignature), 0u);
  EXPECT_GT(Dropped(t, DropReason::kInvalidCertificate), 0u);
}

TEST(PbftSim, pbft_byzantine_conflicting_view_changes) {
  const Totals t = RunSeeds("conflicting_view_changes");
  if (!FullRun()) return;
  EXPECT_GT(t.view_changes, 0u);
  EXPECT_GT(t.forked_new_views, 0u) << "the Byzantine primary never got to fork a new view";
  std::printf("forked new views: %llu\n", (unsigned long long)t.forked_new_views);
}

TEST(PbftSim, pbft_partition_and_heal) {
  const Totals t = RunSeeds("partition_heal");
  if (!FullRun()) return;
  EXPECT_GT(t.counters.entries_fetched + t.state_transfers, 0u) << "partitioned replicas must catch up";
}

TEST(PbftSim, pbft_crash_restart) { RunSeeds("crash_restart"); }

TEST(PbftSim, pbft_n7_two_byzantine_mixed) { RunSeeds("n7_mixed"); }

// A seed replays exactly: seed 1 (or SWARM_SIM_SEED) of every scenario run
// twice gives the same events, end time and outcome.
TEST(PbftSim, pbft_replay_seed) {
  const std::vector<uint64_t> seeds = ::swarm::testing::SimSeeds(1);
  ASSERT_EQ(seeds.size(), 1u);
  const uint64_t seed = seeds[0];
  SWARM_SIM_SEED_TRACE(seed);
  for (const auto& [name, make] : Scenarios()) {
    const SimResult a = RunSimulation(make(seed));
    const SimResult b = RunSimulation(make(seed));
    EXPECT_TRUE(a.ok) << name << " seed " << seed << ": " << a.failure;
    EXPECT_EQ(a.events, b.events) << "a seed must replay exactly";
    EXPECT_EQ(a.finished_at, b.finished_at);
    EXPECT_EQ(a.failure, b.failure);
    std::printf("[%s seed %llu] %s, %llu events, finished at %.3f s, max committed %llu, view changes %llu\n",
                name.c_str(), (unsigned long long)seed, a.ok ? "ok" : a.failure.c_str(),
                (unsigned long long)a.events, ToSeconds(a.finished_at), (unsigned long long)a.max_committed,
                (unsigned long long)a.view_changes);
  }
}

}  // namespace
}  // namespace swarm::consensus::sim
