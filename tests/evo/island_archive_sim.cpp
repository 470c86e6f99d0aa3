// Islands on separate (simulated) peers: each island puts its generation
// champion (canonical genome JSON) into its own champion archive; archives
// are synchronised by crdt::ArchiveSync over sim::Simulator (fixed 20 ms
// links), partitioned ({0} | {1, 2}) for the first 20 s of virtual time (one
// generation per second). After the heal all archives are equal, the best
// entry is the best champion any island produced, and every entry decodes to
// a valid genome whose re-evaluated fitness matches its claim. The run is
// seeded (evolution and network); a failure prints the seed and
// SWARM_SIM_SEED=<n> replays it (src/sim/README.md).
#include <gtest/gtest.h>

#include <memory>

#include "crdt/archive_sync.h"
#include "evo/archipelago.h"
#include "evo/genome_codec.h"
#include "evo/presets.h"
#include "evo/tasks.h"
#include "sim/simulator.h"
#include "support/sim_seeds.h"

namespace swarm::evo {
namespace {

constexpr int kPeers = 3;
constexpr Nanos kTick = Millis(10);

class Peers final : public sim::Simulator<Bytes>::Handler {
 public:
  explicit Peers(uint64_t seed) : sim(seed, kPeers, this) {
    sim::LinkModel link;
    link.latency_base = Millis(20);
    link.latency_jitter_mean = 0;
    sim.links().SetDefault(link);
    std::vector<NodeIndex> ids = {NodeIndex(0), NodeIndex(1), NodeIndex(2)};
    for (int i = 0; i < kPeers; ++i) {
      archives.push_back(std::make_unique<crdt::ChampionArchive>(crdt::ArchiveLimits{8, 1 << 16}));
      syncs.push_back(std::make_unique<crdt::ArchiveSync>(ids[i], archives[i].get(), crdt::SyncConfig{},
                                                          100 + i));
      syncs[i]->SetPeers(ids);
      sim.SetTimer(static_cast<uint32_t>(i), 0, 0);
    }
  }
  void OnDeliver(sim::NodeId to, sim::NodeId from, Bytes&& bytes) override {
    const Status st = syncs[to]->on_message(NodeIndex(from), bytes);
    EXPECT_TRUE(st.ok()) << st;
    ok = ok && st.ok();
  }
  void OnTimer(sim::NodeId i, uint32_t) override {
    syncs[i]->on_tick(sim.now());
    for (auto& o : syncs[i]->TakeOutbox()) sim.Send(i, o.to.value(), std::move(o.bytes));
    sim.SetTimer(i, sim.now() + kTick, 0);
  }

  sim::Simulator<Bytes> sim;
  std::vector<std::unique_ptr<crdt::ChampionArchive>> archives;
  std::vector<std::unique_ptr<crdt::ArchiveSync>> syncs;
  bool ok = true;
};

TEST(IslandArchiveSim, ChampionsSurvivePartitionAndAgreeAfterHeal) {
  for (uint64_t seed : ::swarm::testing::SimSeeds(1, 17)) {
    SWARM_SIM_SEED_TRACE(seed);
    XorTask task;
    TaskEvaluator eval(&task);
    NeatConfig cfg = *PresetConfig("xor");
    cfg.population_size = 60;
    ArchipelagoConfig acfg;
    acfg.migration_interval = 3;
    Archipelago arch(cfg, &task, Topology::Ring(3), acfg, seed);
    Peers p(seed);
    const Nanos heal = Seconds(20), end = Seconds(30);
    ASSERT_TRUE(p.sim.partitions().Add("island0", {0}, 0, heal).ok());
    double best_seen = -1;
    bool diverged = false, stepped = true;
    for (Nanos t = 0; t < heal; t += Seconds(1)) {
      p.sim.At(t, [&] {
        stepped = stepped && arch.Step(eval).ok();
        for (int i = 0; i < kPeers && stepped; ++i) {
          const Scored best = arch.island(i).Best(1)[0];
          best_seen = std::max(best_seen, best.fitness);
          const std::string text = EncodeGenome(best.genome);
          auto e = crdt::MakeEntry(best.fitness, Bytes(text.begin(), text.end()));
          stepped = e.ok() && p.archives[i]->Insert(*e).ok();
        }
      });
    }
    p.sim.At(heal - 1, [&] { diverged = !(*p.archives[0] == *p.archives[1]); });
    p.sim.RunUntil(end);
    ASSERT_TRUE(stepped) << "an evolution step or an archive insert failed";
    ASSERT_TRUE(p.ok) << "a peer refused a sync message";
    EXPECT_TRUE(diverged);
    for (int i = 1; i < kPeers; ++i) EXPECT_EQ(*p.archives[i], *p.archives[0]);
    ASSERT_GT(p.archives[0]->size(), 0u);
    EXPECT_EQ(p.archives[0]->entries()[0].fitness, best_seen);
    for (const auto& e : p.archives[0]->entries()) {
      auto g = DecodeGenome(std::string(e.payload.begin(), e.payload.end()));
      ASSERT_TRUE(g.ok()) << g.status();
      auto f = task.Evaluate(*g);
      ASSERT_TRUE(f.ok());
      EXPECT_EQ(*f, e.fitness);
    }
  }
}

}  // namespace
}  // namespace swarm::evo
