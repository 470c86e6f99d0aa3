// Simulation tests of SWIM at scale (CTest label `sim`). Each prints its
// measured figures; every failure message carries the seed, and
// SWARM_SIM_SEED=<n> runs that seed alone, replaying it exactly
// (src/sim/README.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <set>

#include "membership/support/sim_cluster.h"
#include "support/sim_seeds.h"

namespace swarm::membership {
namespace {

constexpr double kT = 1.0;  // probe period in seconds (Config default)

// Records, per member, when each observer first saw it alive-and-new or dead.
class Recorder : public Observer {
 public:
  explicit Recorder(uint32_t n) : learned_(n) {}
  void OnMemberChange(MemberId self, MemberId member, std::optional<MemberState> before, MemberState after,
                      uint32_t, Nanos now) override {
    if (after == MemberState::kDead) {
      dead_events_.push_back({self, member, now});
    }
    if (!before && after == MemberState::kAlive) learned_[member].push_back(now);
  }
  struct Ev {
    MemberId self, member;
    Nanos at;
  };
  std::vector<Ev> dead_events_;
  std::vector<std::vector<Nanos>> learned_;
};

TEST(SwimSim, JoinReachesEveryMemberWithinClog2nPeriods) {
  // 1,000 peers, 1% loss; peer 999 joins through peer 0 at t=10 s.
  // Claim: every member knows it within c·log2(n) periods, c = 2.
  // Seeds 1-3 with everything on; seed 1 again with adaptive fanout off.
  const double c = 2.0;
  std::vector<std::pair<uint64_t, bool>> runs;  // (seed, adaptive fanout)
  const std::vector<uint64_t> seeds = ::swarm::testing::SimSeeds(3);
  for (uint64_t seed : seeds) runs.push_back({seed, true});
  if (!seeds.empty()) runs.push_back({seeds.front(), false});
  for (const auto& [seed, fanout] : runs) {
    SWARM_SIM_SEED_TRACE(seed);
    ClusterOptions o;
    o.config.adaptive_fanout = fanout;
    o.nodes = 1000;
    o.seed = seed;
    o.link.loss = 0.01;
    o.late_joiners = 1;
    SimCluster cl(o);
    Recorder rec(o.nodes);
    cl.SetObserver(&rec);
    const Nanos join_at = Seconds(10);
    cl.RunUntil(join_at);
    std::vector<MemberId> seeds = {0};
    ASSERT_TRUE(cl.StartJoin(999, seeds).ok());
    const double bound = c * std::log2(o.nodes) * kT;
    cl.RunUntil(join_at + Seconds(bound + 5));
    size_t knowing = 0;
    Nanos last = 0;
    for (Nanos t : rec.learned_[999]) last = std::max(last, t);
    for (uint32_t i = 0; i < 999; ++i) knowing += cl.node(i)->StateOf(999) == MemberState::kAlive;
    const double periods = ToSeconds(last - join_at) / kT;
    const auto tot = cl.TotalCounters();
    std::cout << "[join] seed=" << seed << " adaptive_fanout=" << (fanout ? "on" : "off")
              << " n=1000 loss=1% members knowing the joiner=" << knowing
              << "/999 last learned after " << periods << " periods; bound c*log2(n) = " << bound
              << " periods (c=" << c << "); cluster messages in the run=" << tot.messages_sent
              << " (gossip " << tot.sent[static_cast<int>(MessageType::kGossip)] << ")" << std::endl;
    EXPECT_EQ(knowing, 999u) << "seed=" << seed;
    EXPECT_LE(periods, bound) << "seed=" << seed;
    EXPECT_EQ(cl.node(999)->Count(MemberState::kAlive), 1000u)
        << "seed=" << seed << " suspect=" << cl.node(999)->Count(MemberState::kSuspect)
        << " dead=" << cl.node(999)->Count(MemberState::kDead) << " rejected at joiner=" << [&] {
             std::string r;
             for (const auto& [k, v] : cl.node(999)->counters().rejected) r += k + "=" + std::to_string(v) + " ";
             return r;
           }();
  }
}

TEST(SwimSim, TenPercentCrashDetectedByAllWithinBound) {
  for (uint64_t seed : ::swarm::testing::SimSeeds(1, 42)) {
  SWARM_SIM_SEED_TRACE(seed);
  ClusterOptions o;
  o.nodes = 1000;
  o.seed = seed;
  o.link.loss = 0.01;
  SimCluster cl(o);
  Recorder rec(o.nodes);
  cl.SetObserver(&rec);
  Rng pick(o.seed);
  std::vector<uint32_t> ids(o.nodes);
  for (uint32_t i = 0; i < o.nodes; ++i) ids[i] = i;
  pick.Shuffle(ids);
  std::vector<uint32_t> crashed(ids.begin(), ids.begin() + 100);
  const Nanos crash_at = Seconds(5);
  for (uint32_t id : crashed) cl.sim().Crash(id, crash_at);
  // Bound: the first probe of a crashed member comes within a few periods
  // (each of ~900 probers probes it once per ~1000 periods: P(no probe in 10
  // periods) ≈ e^-9), then the suspicion max timeout
  // (suspicion_max_mult·suspicion_mult·log10(n)·T = 6·4·3 = 72 s), then
  // dissemination within c·log2(n) = 20 periods.
  const Config& cfg = o.config;
  const double susp_max = cfg.suspicion_max_mult * cfg.suspicion_mult * std::log10(o.nodes) * kT;
  const double bound = 10 * kT + susp_max + 2 * std::log2(o.nodes) * kT;
  cl.RunUntil(crash_at + Seconds(bound));
  std::set<uint32_t> crashed_set(crashed.begin(), crashed.end());
  std::vector<double> detect;  // per (observer, crashed member), seconds after the crash
  std::map<std::pair<MemberId, MemberId>, Nanos> first;
  for (const auto& e : rec.dead_events_) {
    if (!crashed_set.count(e.member)) continue;
    auto key = std::make_pair(e.self, e.member);
    if (!first.count(key)) first[key] = e.at;
  }
  size_t missing = 0;
  for (uint32_t i = 0; i < o.nodes; ++i) {
    if (crashed_set.count(i)) continue;
    for (uint32_t m : crashed) {
      auto it = first.find({i, m});
      if (it == first.end() || cl.node(i)->StateOf(m) != MemberState::kDead) {
        ++missing;
        continue;
      }
      detect.push_back(ToSeconds(it->second - crash_at));
    }
  }
  std::sort(detect.begin(), detect.end());
  size_t false_dead = 0;
  for (uint32_t i = 0; i < o.nodes; ++i)
    if (!crashed_set.count(i))
      false_dead += cl.node(i)->Count(MemberState::kDead) - 100;
  const double p50 = detect.empty() ? 0 : detect[detect.size() / 2];
  const double p99 = detect.empty() ? 0 : detect[detect.size() * 99 / 100];
  const double mx = detect.empty() ? 0 : detect.back();
  std::cout << "[crash] seed=" << o.seed << " n=1000 crashed=100 loss=1%: (observer,crashed) pairs dead="
            << detect.size() << "/" << 900 * 100 << " detection time p50=" << p50 << "s p99=" << p99
            << "s max=" << mx << "s bound=" << bound << "s; live members marked dead at end=" << false_dead
            << std::endl;
  EXPECT_EQ(missing, 0u) << "seed=" << o.seed;
  EXPECT_LE(mx, bound) << "seed=" << o.seed;
  EXPECT_EQ(false_dead, 0u) << "seed=" << o.seed;
  }
}

struct FpResult {
  uint64_t false_dead_events = 0;      // (observer, live member) dead transitions
  uint64_t members_declared_dead = 0;  // distinct live members anyone marked dead
  uint64_t healthy_declared_dead = 0;  // of those, not overloaded
  uint64_t seeds_with_any = 0;
  uint64_t suspicions = 0;
  uint64_t messages = 0;
};

struct Variant {
  const char* name;
  bool lifeguard;
  bool weights;
};

FpResult FalsePositives(uint64_t seed, uint32_t n, double periods, const Variant& v, bool degraded) {
  ClusterOptions o;
  o.nodes = n;
  o.seed = seed;
  o.link.loss = 0.05;
  o.config.lifeguard = v.lifeguard;
  o.config.adaptive_weights = v.weights;
  SimCluster cl(o);
  if (degraded) {
    // 5% of peers are overloaded: 20% loss and +150 ms on all their links.
    sim::LinkModel slow = o.link;
    slow.loss = 0.2;
    slow.latency_base += Millis(150);
    for (uint32_t i = 0; i < n; i += 20) cl.sim().links().SetNode(i, slow);
  }
  Recorder rec(n);
  cl.SetObserver(&rec);
  cl.RunUntil(Seconds(periods * kT));
  FpResult r;
  std::set<MemberId> members;
  for (const auto& e : rec.dead_events_) {
    ++r.false_dead_events;  // nobody crashed: every death is false
    members.insert(e.member);
  }
  r.members_declared_dead = members.size();
  r.seeds_with_any = !members.empty();
  for (MemberId m : members) r.healthy_declared_dead += !(degraded && m % 20 == 0);
  const auto c = cl.TotalCounters();
  r.suspicions = c.suspicions;
  r.messages = c.messages_sent;
  return r;
}

std::vector<FpResult> CompareFalsePositives(uint32_t n, double periods, uint64_t seeds, bool degraded,
                                            const std::vector<Variant>& variants, const char* label) {
  std::vector<FpResult> total(variants.size());
  for (uint64_t seed : ::swarm::testing::SimSeeds(seeds)) {
    SWARM_SIM_SEED_TRACE(seed);
    for (size_t v = 0; v < variants.size(); ++v) {
      const FpResult a = FalsePositives(seed, n, periods, variants[v], degraded);
      FpResult& t = total[v];
      t.false_dead_events += a.false_dead_events;
      t.members_declared_dead += a.members_declared_dead;
      t.healthy_declared_dead += a.healthy_declared_dead;
      t.seeds_with_any += a.seeds_with_any;
      t.suspicions += a.suspicions;
      t.messages += a.messages;
    }
  }
  std::cout << "[false-positives " << label << "] n=" << n << " loss=5% periods=" << periods << " seeds=" << seeds
            << " (seeds 1.." << seeds << ")\n";
  for (size_t v = 0; v < variants.size(); ++v) {
    const FpResult& t = total[v];
    std::cout << "  " << variants[v].name << ": live members declared dead=" << t.members_declared_dead
              << " (not overloaded: " << t.healthy_declared_dead << "; dead transitions over all views="
              << t.false_dead_events << "; seeds with any=" << t.seeds_with_any << ") suspicions=" << t.suspicions
              << " messages=" << t.messages << "\n";
  }
  std::cout << std::flush;
  return total;
}

const Variant kAllOn{"link weights+Lifeguard ON ", true, true};
const Variant kAllOff{"link weights+Lifeguard OFF", false, false};

TEST(SwimSim, FalsePositivesAtFivePercentLoss100Seeds) {
  // 1,000 peers × 100 seeds × 2 configurations did not fit the ~60 s budget
  // of one test on this 2-core machine; reduced to 200 peers, 60 periods
  // (long enough for any suspicion to time out: min 9.2 s, max 55 s).
  auto r = CompareFalsePositives(200, 60, 100, false, {kAllOn, kAllOff}, "uniform");
  // docs/membership.md: 0 with everything on, 0 with Lifeguard and link
  // weights off (the trust rules: a dead claim is a suspicion the accused is
  // told about; relays of refuted claims get the refutation). Room for
  // tuning: at most 10 either way, and the adaptive parts never worse.
  EXPECT_LE(r[0].members_declared_dead, 10u);
  EXPECT_LE(r[1].members_declared_dead, 10u);
  if (!::swarm::testing::SimSeedReplay()) {
    EXPECT_LE(r[0].members_declared_dead, r[1].members_declared_dead);
  }
}

TEST(SwimSim, FalsePositivesWithOverloadedPeersAblation20Seeds) {
  // Lifeguard's case: some peers are slow. Each part switched off alone.
  // Reduced to 20 seeds × 4 configurations (cost).
  auto r = CompareFalsePositives(200, 60, 20, true,
                                 {kAllOn, {"Lifeguard only (weights OFF)", true, false},
                                  {"link weights only (Lifeguard OFF)", false, true}, kAllOff},
                                 "5% overloaded peers");
  // docs/membership.md: 1 all on (an overloaded peer), 4 all off; at most 15.
  for (const auto& v : r) EXPECT_LE(v.members_declared_dead, 15u);
  EXPECT_LE(r[0].healthy_declared_dead, 5u);
}

TEST(SwimSim, PartitionThirtySeventyHealsAndViewsConverge) {
  for (uint64_t seed : ::swarm::testing::SimSeeds(1, 9)) {
  SWARM_SIM_SEED_TRACE(seed);
  ClusterOptions o;
  o.nodes = 1000;
  o.seed = seed;
  o.link.loss = 0.01;
  SimCluster cl(o);
  std::vector<sim::NodeId> minority;
  for (uint32_t i = 0; i < 300; ++i) minority.push_back(i);
  const Nanos start = Seconds(5), heal = start + Seconds(60);
  ASSERT_TRUE(cl.sim().partitions().Add("split-30-70", minority, start, heal).ok());
  cl.RunUntil(heal);
  // During the split each side should have declared (most of) the other dead.
  size_t cross_dead = 0;
  for (uint32_t m = 300; m < 1000; ++m) cross_dead += cl.node(0)->StateOf(m) == MemberState::kDead;
  auto converged = [&] {
    for (uint32_t i = 0; i < o.nodes; ++i)
      if (cl.node(i)->Count(MemberState::kAlive) != o.nodes) return false;
    return true;
  };
  Nanos t = heal;
  const Nanos limit = heal + Seconds(180);
  while (!converged() && t < limit) {
    t += Seconds(1);
    cl.RunUntil(t);
  }
  std::cout << "[partition] seed=" << o.seed << " n=1000 split 300/700 for 60 s: peer 0 saw "
            << cross_dead << "/700 of the other side dead at heal; views converged (all 1000 alive in every view) "
            << ToSeconds(t - heal) << " s after heal" << (converged() ? "" : " -- NOT CONVERGED") << std::endl;
  EXPECT_GT(cross_dead, 0u) << "the partition had no effect; seed=" << o.seed;
  EXPECT_TRUE(converged()) << "seed=" << o.seed;
  }
}

}  // namespace
}  // namespace swarm::membership
