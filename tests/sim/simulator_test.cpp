// sim::Simulator: determinism from the seed, link model (loss, duplication,
// latency, reordering), partitions with heal, crash/restart, Byzantine hook.
#include <gtest/gtest.h>

#include <map>

#include "sim/simulator.h"

namespace swarm::sim {
namespace {

struct Log : Simulator<int>::Handler {
  struct Rec {
    Nanos at;
    NodeId to, from;
    int msg;
    bool operator==(const Rec&) const = default;
  };
  Simulator<int>* sim = nullptr;
  std::vector<Rec> got;
  std::vector<std::pair<NodeId, uint32_t>> timers;
  std::vector<NodeId> crashed, restarted;
  void OnDeliver(NodeId to, NodeId from, int&& m) override { got.push_back({sim->now(), to, from, m}); }
  void OnTimer(NodeId n, uint32_t tag) override { timers.push_back({n, tag}); }
  void OnCrash(NodeId n) override { crashed.push_back(n); }
  void OnRestart(NodeId n) override { restarted.push_back(n); }
};

std::vector<Log::Rec> RunLossy(uint64_t seed) {
  Log log;
  Simulator<int> s(seed, 10, &log);
  log.sim = &s;
  LinkModel m;
  m.loss = 0.2;
  m.duplicate = 0.1;
  m.reorder = 0.2;
  s.links().SetDefault(m);
  for (int i = 0; i < 1000; ++i) s.Send(i % 10, (i * 3 + 1) % 10, i);
  s.RunUntil(Seconds(10));
  return log.got;
}

TEST(Simulator, SameSeedSameRunDifferentSeedDifferentRun) {
  auto a = RunLossy(17), b = RunLossy(17), c = RunLossy(18);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Simulator, LossDuplicationAndReorderingHappenAtTheirRates) {
  Log log;
  Simulator<int> s(5, 2, &log);
  log.sim = &s;
  LinkModel m;
  m.loss = 0.25;
  m.duplicate = 0.1;
  m.latency_base = Millis(10);
  m.latency_jitter_mean = Millis(10);
  s.links().SetDefault(m);
  const int kN = 20000;
  for (int i = 0; i < kN; ++i) s.Send(0, 1, i);
  s.RunUntil(Seconds(100));
  const auto& st = s.stats();
  EXPECT_NEAR(static_cast<double>(st.dropped_loss) / kN, 0.25, 0.02);
  EXPECT_NEAR(static_cast<double>(st.duplicated) / (kN - st.dropped_loss), 0.1, 0.02);
  EXPECT_EQ(log.got.size(), kN - st.dropped_loss + st.duplicated);
  size_t inversions = 0;
  for (size_t i = 1; i < log.got.size(); ++i) inversions += log.got[i].msg < log.got[i - 1].msg;
  EXPECT_GT(inversions, 100u) << "exponential jitter must reorder messages";
  for (const auto& r : log.got) EXPECT_GE(r.at, Millis(10));
}

TEST(Simulator, PerLinkAndPerNodeOverrides) {
  Log log;
  Simulator<int> s(1, 3, &log);
  log.sim = &s;
  LinkModel dead;
  dead.loss = 1.0;
  s.links().SetLink(0, 1, dead);
  s.Send(0, 1, 1);
  s.Send(1, 0, 2);
  LinkModel slow;
  slow.latency_base = Seconds(2);
  slow.latency_jitter_mean = 0;
  s.links().SetNode(2, slow);
  s.Send(0, 2, 3);
  s.RunUntil(Seconds(5));
  ASSERT_EQ(log.got.size(), 2u);
  EXPECT_EQ(log.got[0].msg, 2);
  EXPECT_EQ(log.got[1].msg, 3);
  EXPECT_EQ(log.got[1].at, Seconds(2));
}

TEST(Simulator, PartitionBlocksUntilHeal) {
  Log log;
  Simulator<int> s(1, 4, &log);
  log.sim = &s;
  ASSERT_TRUE(s.partitions().Add("split", {0, 1}, Seconds(1), Seconds(3)).ok());
  s.At(Seconds(2), [&] {
    s.Send(0, 2, 1);  // across: dropped
    s.Send(0, 1, 2);  // same side: delivered
    s.Send(3, 2, 3);  // same side: delivered
  });
  s.At(Seconds(3), [&] { s.Send(0, 2, 4); });  // healed
  s.RunUntil(Seconds(5));
  std::vector<int> msgs;
  for (const auto& r : log.got) msgs.push_back(r.msg);
  std::sort(msgs.begin(), msgs.end());
  EXPECT_EQ(msgs, (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(s.stats().dropped_partition, 1u);
  EXPECT_FALSE(s.partitions().Add("split", {2}, 0, 1).ok());
  EXPECT_FALSE(s.partitions().Add("bad", {9}, 0, 1).ok());
  EXPECT_FALSE(s.partitions().Add("late", {1}, 5, 1).ok());
  EXPECT_TRUE(s.partitions().SetHeal("split", Seconds(10)).ok());
  EXPECT_FALSE(s.partitions().SetHeal("nope", 0).ok());
}

TEST(Simulator, CrashDropsTimersAndMessagesRestartNotifies) {
  Log log;
  Simulator<int> s(1, 3, &log);
  log.sim = &s;
  s.SetTimer(1, Seconds(2), 7);
  s.SetTimer(2, Seconds(2), 8);
  s.Crash(1, Seconds(1));
  s.At(Seconds(1) + 1, [&] {
    s.Send(0, 1, 1);  // to a crashed node: dropped at delivery
    s.Send(1, 0, 2);  // from a crashed node: dropped at send
  });
  s.Restart(1, Seconds(3));
  s.At(Seconds(4), [&] { s.Send(0, 1, 3); });
  s.RunUntil(Seconds(6));
  EXPECT_EQ(log.timers, (std::vector<std::pair<NodeId, uint32_t>>{{2, 8}}));
  EXPECT_EQ(log.crashed, std::vector<NodeId>{1});
  EXPECT_EQ(log.restarted, std::vector<NodeId>{1});
  ASSERT_EQ(log.got.size(), 1u);
  EXPECT_EQ(log.got[0].msg, 3);
  EXPECT_EQ(s.stats().dropped_down, 2u);
}

TEST(Simulator, ByzantineHookRewritesDropsAndInjects) {
  Log log;
  Simulator<int> s(1, 3, &log);
  log.sim = &s;
  s.SetByzantine(0, [](NodeId, NodeId& to, int& m) {
    if (m == 1) return Simulator<int>::HookAction::kDrop;
    m *= 100;
    to = 2;  // redirect
    return Simulator<int>::HookAction::kDeliver;
  });
  s.Send(0, 1, 1);
  s.Send(0, 1, 2);
  s.Inject(1, 2, 5);  // forged as coming from 1; bypasses hooks
  s.RunUntil(Seconds(1));
  ASSERT_EQ(log.got.size(), 2u);
  std::map<int, Log::Rec> by;
  for (const auto& r : log.got) by[r.msg] = r;
  EXPECT_EQ(by.at(200).to, 2u);
  EXPECT_EQ(by.at(5).from, 1u);
  EXPECT_EQ(s.stats().dropped_byzantine, 1u);
}

TEST(Simulator, LinkModelValidateNamesField) {
  LinkModel m;
  m.loss = 1.5;
  auto st = m.Validate();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("loss=1.5"), std::string::npos) << st;
  m = LinkModel{};
  m.latency_base = -1;
  EXPECT_FALSE(m.Validate().ok());
  EXPECT_TRUE(LinkModel{}.Validate().ok());
}

}  // namespace
}  // namespace swarm::sim
