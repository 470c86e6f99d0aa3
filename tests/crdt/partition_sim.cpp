// Islands' champion archives synchronised by Merkle anti-entropy over
// sim::Simulator (seeded latency and loss, virtual time). The islands are
// split in two for 60 s of virtual time while each keeps inserting champions;
// then the partition heals. Checked: the two sides really diverged, and
// within 5 s of the heal every archive equals the top-N of everything ever
// inserted (no champion lost). A failure prints its seed; SWARM_SIM_SEED=<n>
// replays it (src/sim/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "common/rng.h"
#include "crdt/archive_sync.h"
#include "sim/simulator.h"
#include "support/sim_seeds.h"

namespace swarm::crdt {
namespace {

struct SimResult {
  bool diverged_during_partition = false;
  Nanos converged_after_heal = -1;  // -1: never
  uint64_t bytes_after_heal = 0;
  uint64_t bytes_total = 0;
  uint64_t rejected = 0;
  bool final_equals_expected = false;
  size_t inserted = 0;
  uint64_t events = 0;
};

// Every node ticks its ArchiveSync every kTick and sends its outbox through the simulator.
class Islands final : public sim::Simulator<Bytes>::Handler {
 public:
  static constexpr Nanos kTick = Millis(10);
  static constexpr size_t kCapacity = 32;

  Islands(uint64_t seed, int nodes, double loss) : sim_(seed, static_cast<uint32_t>(nodes), this) {
    sim::LinkModel link;
    link.latency_base = Millis(5);
    link.latency_jitter_mean = 0;
    link.latency_jitter_max = Millis(45) - 1;
    link.loss = loss;
    sim_.links().SetDefault(link);
    for (int i = 0; i < nodes; ++i) ids_.emplace_back(static_cast<uint32_t>(i));
    for (int i = 0; i < nodes; ++i) {
      archives_.push_back(std::make_unique<ChampionArchive>(ArchiveLimits{kCapacity, 4096}));
      SyncConfig cfg;
      cfg.sync_interval = Millis(250);
      syncs_.push_back(std::make_unique<ArchiveSync>(ids_[i], archives_[i].get(), cfg, sim_.rng().Next()));
      syncs_[i]->SetPeers(ids_);
      sim_.SetTimer(static_cast<uint32_t>(i), 0, 0);
    }
  }

  void OnDeliver(sim::NodeId to, sim::NodeId from, Bytes&& bytes) override {
    Status s = syncs_[to]->on_message(NodeIndex(from), bytes);
    EXPECT_TRUE(s.ok()) << s;
  }
  void OnTimer(sim::NodeId i, uint32_t) override {
    syncs_[i]->on_tick(sim_.now());
    for (auto& o : syncs_[i]->TakeOutbox()) sim_.Send(i, o.to.value(), std::move(o.bytes));
    sim_.SetTimer(i, sim_.now() + kTick, 0);
  }

  sim::Simulator<Bytes> sim_;
  std::vector<NodeIndex> ids_;
  std::vector<std::unique_ptr<ChampionArchive>> archives_;
  std::vector<std::unique_ptr<ArchiveSync>> syncs_;
};

SimResult RunPartition(uint64_t seed, int nodes, double loss) {
  constexpr Nanos kHeal = Seconds(60);
  constexpr Nanos kEnd = Seconds(70);
  Islands w(seed, nodes, loss);
  auto& sim = w.sim_;
  std::vector<sim::NodeId> half;
  for (int i = 0; i < nodes / 2; ++i) half.push_back(static_cast<sim::NodeId>(i));
  EXPECT_TRUE(sim.partitions().Add("halves", half, 0, kHeal).ok());
  ChampionArchive expected({Islands::kCapacity, 4096});
  SimResult r;
  uint64_t bytes_at_heal = 0;
  // Islands produce champions once per second each until the heal.
  for (Nanos t = 0; t < kHeal; t += Seconds(1)) {
    sim.At(t, [&, t] {
      for (int i = 0; i < nodes; ++i) {
        const std::string p = "island" + std::to_string(i) + "-t" + std::to_string(t) + "-" +
                              std::to_string(sim.rng().Next());
        auto e = *MakeEntry(std::round(sim.rng().Normal(100, 30)), Bytes(p.begin(), p.end()));
        EXPECT_TRUE(w.archives_[i]->Insert(e).ok());
        EXPECT_TRUE(expected.Insert(e).ok());
        ++r.inserted;
      }
    });
  }
  sim.At(kHeal - 1, [&] {
    r.diverged_during_partition = !(*w.archives_[0] == *w.archives_[nodes - 1]);
    for (auto& s : w.syncs_) bytes_at_heal += s->counters().bytes_sent;
  });
  // After the heal: is every archive the expected top-N yet? (checked every tick)
  std::function<void()> check = [&] {
    bool all = true;
    for (auto& a : w.archives_) all = all && (*a == expected);
    if (all) {
      r.converged_after_heal = sim.now() - kHeal;
    } else {
      sim.At(sim.now() + Islands::kTick, check);
    }
  };
  sim.At(kHeal, check);
  sim.RunUntil(kEnd);
  r.final_equals_expected = true;
  for (auto& a : w.archives_) r.final_equals_expected = r.final_equals_expected && (*a == expected);
  for (auto& s : w.syncs_) {
    r.bytes_total += s->counters().bytes_sent;
    r.rejected += s->counters().rejected_messages;
  }
  r.bytes_after_heal = r.bytes_total - bytes_at_heal;
  r.events = sim.stats().events;
  return r;
}

TEST(PartitionSim, HealedArchivesConvergeWithin5sAndLoseNoChampion) {
  for (uint64_t seed : ::swarm::testing::SimSeeds(20)) {
    SWARM_SIM_SEED_TRACE(seed);
    SimResult r = RunPartition(seed, 6, 0.02);
    EXPECT_TRUE(r.diverged_during_partition);
    ASSERT_GE(r.converged_after_heal, 0) << "never converged";
    EXPECT_LE(r.converged_after_heal, Seconds(5));
    EXPECT_TRUE(r.final_equals_expected);
    EXPECT_EQ(r.rejected, 0u);
    std::printf("seed %llu: %zu champions inserted; converged %.2f s after heal; %llu bytes sent "
                "after heal, %llu in total\n",
                (unsigned long long)seed, r.inserted, ToSeconds(r.converged_after_heal),
                (unsigned long long)r.bytes_after_heal, (unsigned long long)r.bytes_total);
  }
}

TEST(PartitionSim, DeterministicFromSeed) {
  SimResult a = RunPartition(9, 4, 0.05), b = RunPartition(9, 4, 0.05);
  EXPECT_EQ(a.converged_after_heal, b.converged_after_heal);
  EXPECT_EQ(a.bytes_total, b.bytes_total);
  EXPECT_EQ(a.events, b.events);
}

TEST(PartitionSim, InSyncPeersExchangeOnlyRoots) {
  ChampionArchive a, b;
  auto e = *MakeEntry(3.0, {1, 2, 3});
  ASSERT_TRUE(a.Insert(e).ok());
  ASSERT_TRUE(b.Insert(e).ok());
  ArchiveSync sa(NodeIndex(0), &a, {}, 1), sb(NodeIndex(1), &b, {}, 2);
  sa.SetPeers({NodeIndex(0), NodeIndex(1)});
  sa.on_tick(0);
  sa.on_tick(Seconds(1));
  auto out = sa.TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes.size(), 4u + 32u);
  ASSERT_TRUE(sb.on_message(NodeIndex(0), out[0].bytes).ok());
  EXPECT_TRUE(sb.TakeOutbox().empty());
  EXPECT_EQ(sb.counters().roots_equal, 1u);
  EXPECT_FALSE(sb.on_message(NodeIndex(0), Bytes{1, 2, 3}).ok());
  EXPECT_EQ(sb.counters().rejected_messages, 1u);
}

}  // namespace
}  // namespace swarm::crdt
