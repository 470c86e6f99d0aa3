// Islands' champion archives synchronised by Merkle anti-entropy over a
// simulated network (in-test deterministic driver: seeded latency and loss,
// virtual time). The islands are split in two for 60 s of virtual time while
// each keeps inserting champions; then the partition heals. Checked: the two
// sides really diverged, and within 5 s of the heal every archive equals the
// top-N of everything ever inserted (no champion lost).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <queue>
#include <string>

#include "common/rng.h"
#include "crdt/archive_sync.h"

namespace swarm::crdt {
namespace {

struct InFlight {
  Nanos at;
  uint64_t seq;
  NodeIndex from, to;
  Bytes bytes;
  bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

struct SimResult {
  bool diverged_during_partition = false;
  Nanos converged_after_heal = -1;  // -1: never
  uint64_t bytes_after_heal = 0;
  uint64_t bytes_total = 0;
  uint64_t rejected = 0;
  bool final_equals_expected = false;
  size_t inserted = 0;
};

SimResult RunPartition(uint64_t seed, int nodes, double loss) {
  constexpr Nanos kTick = Millis(10);
  constexpr Nanos kHeal = Seconds(60);
  constexpr Nanos kEnd = Seconds(70);
  constexpr size_t kCapacity = 32;
  Rng rng(seed);
  std::vector<std::unique_ptr<ChampionArchive>> archives;
  std::vector<std::unique_ptr<ArchiveSync>> syncs;
  std::vector<NodeIndex> ids;
  for (int i = 0; i < nodes; ++i) ids.emplace_back(static_cast<uint32_t>(i));
  for (int i = 0; i < nodes; ++i) {
    archives.push_back(std::make_unique<ChampionArchive>(ArchiveLimits{kCapacity, 4096}));
    SyncConfig cfg;
    cfg.sync_interval = Millis(250);
    syncs.push_back(std::make_unique<ArchiveSync>(ids[i], archives[i].get(), cfg, rng.Next()));
    syncs[i]->SetPeers(ids);
  }
  auto side = [&](NodeIndex n) { return n.value() < static_cast<uint32_t>(nodes) / 2 ? 0 : 1; };
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> net;
  uint64_t seq = 0;
  ChampionArchive expected({kCapacity, 4096});
  SimResult r;
  uint64_t bytes_at_heal = 0;
  for (Nanos t = 0; t <= kEnd; t += kTick) {
    // Deliver; the partition drops cross-side messages until it heals.
    while (!net.empty() && net.top().at <= t) {
      InFlight m = net.top();
      net.pop();
      if (t < kHeal && side(m.from) != side(m.to)) continue;
      Status s = syncs[m.to.value()]->on_message(m.from, m.bytes);
      EXPECT_TRUE(s.ok()) << s;
    }
    // Islands produce champions once per second each until the heal.
    if (t < kHeal && t % Seconds(1) == 0) {
      for (int i = 0; i < nodes; ++i) {
        const std::string p = "island" + std::to_string(i) + "-t" + std::to_string(t) + "-" +
                              std::to_string(rng.Next());
        auto e = *MakeEntry(std::round(rng.Normal(100, 30)), Bytes(p.begin(), p.end()));
        EXPECT_TRUE(archives[i]->Insert(e).ok());
        EXPECT_TRUE(expected.Insert(e).ok());
        ++r.inserted;
      }
    }
    for (int i = 0; i < nodes; ++i) {
      syncs[i]->on_tick(t);
      for (auto& o : syncs[i]->TakeOutbox()) {
        if (rng.Bernoulli(loss)) continue;
        const Nanos latency = Millis(5) + static_cast<Nanos>(rng.Uniform(Millis(45)));
        net.push({t + latency, seq++, ids[i], o.to, std::move(o.bytes)});
      }
    }
    if (t == kHeal - kTick) {
      r.diverged_during_partition = !(*archives[0] == *archives[nodes - 1]);
      for (auto& s : syncs) bytes_at_heal += s->counters().bytes_sent;
    }
    if (t >= kHeal && r.converged_after_heal < 0) {
      bool all = true;
      for (auto& a : archives) all = all && (*a == expected);
      if (all) r.converged_after_heal = t - kHeal;
    }
  }
  r.final_equals_expected = true;
  for (auto& a : archives) r.final_equals_expected = r.final_equals_expected && (*a == expected);
  for (auto& s : syncs) {
    r.bytes_total += s->counters().bytes_sent;
    r.rejected += s->counters().rejected_messages;
  }
  r.bytes_after_heal = r.bytes_total - bytes_at_heal;
  return r;
}

TEST(PartitionSim, HealedArchivesConvergeWithin5sAndLoseNoChampion) {
  for (uint64_t seed : {1, 2, 3}) {
    SimResult r = RunPartition(seed, 6, 0.02);
    EXPECT_TRUE(r.diverged_during_partition) << "seed " << seed;
    ASSERT_GE(r.converged_after_heal, 0) << "seed " << seed << " never converged";
    EXPECT_LE(r.converged_after_heal, Seconds(5)) << "seed " << seed;
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
