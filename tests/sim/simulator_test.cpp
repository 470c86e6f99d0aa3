// sim::Simulator: determinism from the seed, link model (loss, duplication,
// latency, bounded and unbounded jitter, reordering), hold delays, partitions
// with heal, crash/restart with timers, Byzantine hook, scripted calls; and the
// seed convention of tests/support/sim_seeds.h.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <map>

#include "sim/simulator.h"
#include "support/sim_seeds.h"

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


TEST(Simulator, UniformJitterStaysWithinItsBound) {
  Log log;
  Simulator<int> s(3, 2, &log);
  log.sim = &s;
  LinkModel m;
  m.latency_base = Millis(1);
  m.latency_jitter_mean = 0;
  m.latency_jitter_max = Millis(14);
  s.links().SetDefault(m);
  for (int i = 0; i < 5000; ++i) s.Send(0, 1, i);
  s.RunUntil(Seconds(1));
  ASSERT_EQ(log.got.size(), 5000u);
  Nanos lo = Seconds(1), hi = 0;
  size_t inversions = 0;
  for (size_t i = 0; i < log.got.size(); ++i) {
    lo = std::min(lo, log.got[i].at);
    hi = std::max(hi, log.got[i].at);
    if (i > 0) inversions += log.got[i].msg < log.got[i - 1].msg;
  }
  EXPECT_GE(lo, Millis(1));
  EXPECT_LE(hi, Millis(15));
  EXPECT_LT(lo, Millis(2)) << "the draw must cover the low end";
  EXPECT_GT(hi, Millis(14)) << "the draw must cover the high end";
  EXPECT_GT(inversions, 100u);
  m.latency_jitter_max = -1;
  EXPECT_NE(m.Validate().message().find("latency_jitter_max=-1"), std::string::npos);
}

TEST(Simulator, HoldDelaysOneMessageOnTopOfTheLink) {
  Log log;
  Simulator<int> s(1, 2, &log);
  log.sim = &s;
  LinkModel fixed;
  fixed.latency_base = Millis(10);
  fixed.latency_jitter_mean = 0;
  s.links().SetDefault(fixed);
  s.Send(0, 1, 1, Millis(500));
  s.Send(0, 1, 2);
  s.Inject(1, 0, 3, Millis(100));
  s.RunUntil(Seconds(1));
  ASSERT_EQ(log.got.size(), 3u);
  EXPECT_EQ(log.got[0].msg, 2);
  EXPECT_EQ(log.got[0].at, Millis(10));
  EXPECT_EQ(log.got[1].msg, 3);
  EXPECT_EQ(log.got[1].at, Millis(110));
  EXPECT_EQ(log.got[2].msg, 1);
  EXPECT_EQ(log.got[2].at, Millis(510));
}

// A restarted node gets fresh timers; those set before the crash never fire,
// even when they were due after the restart.
TEST(Simulator, TimersSetAfterRestartFireOnesFromBeforeTheCrashDoNot) {
  struct H : Simulator<int>::Handler {
    Simulator<int>* sim = nullptr;
    std::vector<std::pair<Nanos, uint32_t>> fired;
    void OnDeliver(NodeId, NodeId, int&&) override {}
    void OnTimer(NodeId n, uint32_t tag) override { fired.push_back({sim->now(), tag}); }
    void OnRestart(NodeId n) override { sim->SetTimer(n, sim->now() + Seconds(1), 2); }
  } h;
  Simulator<int> s(1, 1, &h);
  h.sim = &s;
  s.SetTimer(0, Seconds(5), 1);
  s.Crash(0, Seconds(1));
  s.Restart(0, Seconds(2));
  s.Crash(0, Seconds(2));  // same time, queued after the restart: down again, its new timer dropped
  s.RunUntil(Seconds(10));
  EXPECT_TRUE(h.fired.empty());
  EXPECT_FALSE(s.IsUp(0));
  s.Restart(0, Seconds(11));
  s.RunUntil(Seconds(20));
  ASSERT_EQ(h.fired.size(), 1u);
  EXPECT_EQ(h.fired[0], (std::pair<Nanos, uint32_t>{Seconds(12), 2}));
}

TEST(Simulator, ScriptedCallsRunInTimeOrderAndReuseTheirSlots) {
  Log log;
  Simulator<int> s(1, 1, &log);
  log.sim = &s;
  std::vector<int> order;
  int calls = 0;
  // A call that reschedules itself until it ran 1,000 times (like a retrying client).
  std::function<void()> again = [&] {
    order.push_back(++calls);
    if (calls < 1000) s.At(s.now() + Millis(1), again);
  };
  s.At(Millis(1), again);
  s.At(Millis(0), [&] { order.push_back(-1); });
  s.RunUntil(Seconds(10));
  ASSERT_EQ(order.size(), 1001u);
  EXPECT_EQ(order[0], -1);
  EXPECT_EQ(order[1000], 1000);
  EXPECT_EQ(s.now(), Seconds(10));
  EXPECT_EQ(s.pending_events(), 0u);
  s.At(0, [&] { order.push_back(-2); });  // in the past: runs now
  s.RunUntil(Seconds(10));
  EXPECT_EQ(order.back(), -2);
}

TEST(SimSeeds, FullRunOrOneSeedFromTheEnvironment) {
  ::unsetenv("SWARM_SIM_SEED");
  EXPECT_FALSE(testing::SimSeedReplay());
  EXPECT_EQ(testing::SimSeeds(3), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(testing::SimSeeds(2, 10), (std::vector<uint64_t>{10, 11}));
  ::setenv("SWARM_SIM_SEED", "417", 1);
  EXPECT_TRUE(testing::SimSeedReplay());
  EXPECT_EQ(testing::SimSeeds(1000), (std::vector<uint64_t>{417}));
  const std::string line = testing::SimReplayLine(417);
  EXPECT_NE(line.find("SWARM_SIM_SEED=417"), std::string::npos) << line;
  EXPECT_NE(line.find("'^SimSeeds.FullRunOrOneSeedFromTheEnvironment$'"), std::string::npos) << line;
  ::unsetenv("SWARM_SIM_SEED");
}

TEST(SimSeeds, AFailureCarriesTheSeedAndItsReplayLine) {
  EXPECT_NONFATAL_FAILURE(
      {
        SWARM_SIM_SEED_TRACE(42);
        ADD_FAILURE() << "invariant broken";
      },
      "seed 42 (replay: SWARM_SIM_SEED=42 ctest --test-dir build -R "
      "'^SimSeeds.AFailureCarriesTheSeedAndItsReplayLine$' --output-on-failure)");
}

TEST(SimSeeds, ABadSeedValueFailsNamingTheVariableAndValue) {
  ::setenv("SWARM_SIM_SEED", "12x", 1);
  std::vector<uint64_t> got;
  EXPECT_NONFATAL_FAILURE(got = testing::SimSeeds(5), "SWARM_SIM_SEED='12x' is not a decimal seed");
  EXPECT_TRUE(got.empty());
  ::unsetenv("SWARM_SIM_SEED");
}

}  // namespace
}  // namespace swarm::sim
