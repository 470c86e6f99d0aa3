// Islands on separate (simulated) peers: each island puts its generation
// champion (canonical genome JSON) into its own champion archive; archives
// are synchronised by crdt::ArchiveSync over an in-test deterministic
// network that is partitioned ({0} | {1, 2}) for the first 20 s of virtual
// time (one generation per second). After the heal all archives are equal,
// the best entry is the best champion any island produced, and every entry
// decodes to a valid genome whose re-evaluated fitness matches its claim.
#include <gtest/gtest.h>

#include <memory>
#include <queue>

#include "crdt/archive_sync.h"
#include "evo/archipelago.h"
#include "evo/genome_codec.h"
#include "evo/presets.h"
#include "evo/tasks.h"

namespace swarm::evo {
namespace {

TEST(IslandArchiveSim, ChampionsSurvivePartitionAndAgreeAfterHeal) {
  XorTask task;
  TaskEvaluator eval(&task);
  NeatConfig cfg = *PresetConfig("xor");
  cfg.population_size = 60;
  ArchipelagoConfig acfg;
  acfg.migration_interval = 3;
  Archipelago arch(cfg, &task, Topology::Ring(3), acfg, 17);
  constexpr int kPeers = 3;
  std::vector<std::unique_ptr<crdt::ChampionArchive>> archives;
  std::vector<std::unique_ptr<crdt::ArchiveSync>> syncs;
  std::vector<NodeIndex> ids = {NodeIndex(0), NodeIndex(1), NodeIndex(2)};
  for (int i = 0; i < kPeers; ++i) {
    archives.push_back(std::make_unique<crdt::ChampionArchive>(crdt::ArchiveLimits{8, 1 << 16}));
    syncs.push_back(std::make_unique<crdt::ArchiveSync>(ids[i], archives[i].get(),
                                                        crdt::SyncConfig{}, 100 + i));
    syncs[i]->SetPeers(ids);
  }
  struct Msg {
    Nanos at;
    uint64_t seq;
    uint32_t from, to;
    Bytes bytes;
    bool operator>(const Msg& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  std::priority_queue<Msg, std::vector<Msg>, std::greater<>> net;
  uint64_t seq = 0;
  double best_seen = -1;
  const Nanos heal = Seconds(20), end = Seconds(30);
  bool diverged = false;
  for (Nanos t = 0; t <= end; t += Millis(10)) {
    while (!net.empty() && net.top().at <= t) {
      Msg m = net.top();
      net.pop();
      const bool cut = t < heal && ((m.from == 0) != (m.to == 0));
      if (!cut) ASSERT_TRUE(syncs[m.to]->on_message(NodeIndex(m.from), m.bytes).ok());
    }
    if (t % Seconds(1) == 0 && t < heal) {
      ASSERT_TRUE(arch.Step(eval).ok());
      for (int i = 0; i < kPeers; ++i) {
        const Scored best = arch.island(i).Best(1)[0];
        best_seen = std::max(best_seen, best.fitness);
        const std::string text = EncodeGenome(best.genome);
        auto e = crdt::MakeEntry(best.fitness, Bytes(text.begin(), text.end()));
        ASSERT_TRUE(e.ok());
        ASSERT_TRUE(archives[i]->Insert(*e).ok());
      }
    }
    for (int i = 0; i < kPeers; ++i) {
      syncs[i]->on_tick(t);
      for (auto& o : syncs[i]->TakeOutbox())
        net.push({t + Millis(20), seq++, static_cast<uint32_t>(i), o.to.value(), std::move(o.bytes)});
    }
    if (t == heal - Millis(10)) diverged = !(*archives[0] == *archives[1]);
  }
  EXPECT_TRUE(diverged);
  for (int i = 1; i < kPeers; ++i) EXPECT_EQ(*archives[i], *archives[0]);
  ASSERT_GT(archives[0]->size(), 0u);
  EXPECT_EQ(archives[0]->entries()[0].fitness, best_seen);
  for (const auto& e : archives[0]->entries()) {
    auto g = DecodeGenome(std::string(e.payload.begin(), e.payload.end()));
    ASSERT_TRUE(g.ok()) << g.status();
    auto f = task.Evaluate(*g);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(*f, e.fitness);
  }
}

}  // namespace
}  // namespace swarm::evo
