// The per-round robust expert update under seeded faults (label sim), on
// sim::Simulator: one expert host (node 0) driving an ExpertRounds, n
// trainers (nodes 1..n) sending one parameter gradient per round for each of
// two experts over links with random latency and duplication. Some trainers
// crash mid-run; Byzantine trainers send sign-flipped x100 gradients, noise
// (sigma 100), replays of their previous call, rounds far ahead, NaN and
// wrongly sized vectors. Invariants, per seed:
//   - every round of every expert is applied exactly once, no later than its
//     first arrival + deadline + one tick (crashed trainers are not waited on);
//   - no step uses fewer than quorum contributions or a duplicate caller;
//   - every applied gradient stays within 0.25 of the honest mean (norm of
//     the honest gradient 0.5, clip_norm 1): the attacks do not steer it;
//   - replays are refused as duplicates or late and counted.
// 1,000 seeds; a failing seed is printed and SWARM_SIM_SEED=<n> replays it
// exactly (src/sim/README.md).
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "common/rng.h"
#include "sim/simulator.h"
#include "support/sim_seeds.h"
#include "train/expert_round.h"

namespace swarm::train {
namespace {

constexpr size_t kDim = 8;
constexpr uint32_t kExperts = 2;
constexpr Nanos kPeriod = Millis(400);
constexpr Nanos kDeadline = Millis(300);
constexpr Nanos kTick = Millis(10);

struct Msg {
  uint32_t expert = 0;
  uint64_t round = 0;
  std::vector<float> g;
};

// Honest gradient of expert e in round r: a unit direction times 0.5.
float Truth(uint32_t e, uint64_t r, size_t k) {
  std::vector<double> v(kDim);
  double n = 0;
  for (size_t i = 0; i < kDim; ++i) {
    v[i] = std::sin(double(r) * 0.7 + double(i) + 3.0 * e);
    n += v[i] * v[i];
  }
  return static_cast<float>(0.5 * v[k] / std::sqrt(n));
}

enum Kind { kHonest, kSignFlip, kNoise, kReplay, kFarAhead, kGarbage };

struct World : sim::Simulator<Msg>::Handler {
  uint64_t seed;
  int n, rounds;
  std::vector<Kind> kind;  // index = node id
  std::unique_ptr<sim::Simulator<Msg>> sim;
  std::unique_ptr<ExpertRounds> host;
  std::map<std::pair<uint32_t, uint64_t>, Nanos> first_arrival;
  std::map<std::pair<uint32_t, uint64_t>, std::vector<ExpertStep>> steps;
  std::map<std::pair<uint32_t, uint64_t>, Nanos> applied_at;
  std::map<int, std::vector<Msg>> last_sent;
  int64_t replays_sent = 0;
  std::string failure;

  void Fail(const std::string& s) {
    if (failure.empty()) failure = s;
  }

  void OnDeliver(sim::NodeId to, sim::NodeId from, Msg&& m) override {
    if (to != 0) return;
    const auto key = std::make_pair(m.expert, m.round);
    const bool ok =
        host->OnContribution("t" + std::to_string(from), m.expert, m.round, std::move(m.g), sim->now()).ok();
    if (ok && m.round >= 1 && m.round <= static_cast<uint64_t>(rounds) && !first_arrival.count(key)) {
      first_arrival[key] = sim->now();  // the round opened
    }
    Drain();
  }

  void Drain() {
    for (auto& s : host->TakeOutbox()) {
      const auto key = std::make_pair(s.expert, s.round);
      applied_at[key] = sim->now();
      steps[key].push_back(std::move(s));
    }
  }

  void OnTimer(sim::NodeId node, uint32_t tag) override {
    if (node == 0) {
      host->OnTick(sim->now());
      Drain();
      sim->SetTimer(0, sim->now() + kTick, 0);
      return;
    }
    const uint64_t r = tag;
    Rng& rng = sim->rng();
    std::vector<Msg> sent;
    for (uint32_t e = 0; e < kExperts; ++e) {
      Msg m{e, r, std::vector<float>(kDim)};
      for (size_t k = 0; k < kDim; ++k) m.g[k] = Truth(e, r, k) + static_cast<float>(0.01 * rng.Normal());
      switch (kind[node]) {
        case kHonest: break;
        case kSignFlip:
          for (auto& x : m.g) x *= -100.0f;
          break;
        case kNoise:
          for (auto& x : m.g) x += static_cast<float>(100.0 * rng.Normal());
          break;
        case kReplay:
          // Replays its previous call (same round: duplicate; old round: late).
          for (const auto& old : last_sent[node]) {
            sim->Send(node, 0, old);
            ++replays_sent;
          }
          sim->Send(node, 0, m);  // and sends this round twice
          ++replays_sent;
          break;
        case kFarAhead:
          sim->Send(node, 0, Msg{e, r + 1'000'000, m.g});
          for (auto& x : m.g) x *= -100.0f;
          break;
        case kGarbage:
          sim->Send(node, 0, Msg{e, r, std::vector<float>(kDim + 1, 1.0f)});
          m.g[rng.Uniform(kDim)] = rng.Bernoulli(0.5) ? NAN : INFINITY;
          break;
      }
      sent.push_back(m);
      sim->Send(node, 0, std::move(m));
    }
    last_sent[node] = std::move(sent);
  }
};

std::string RunSeed(uint64_t seed) {
  Rng setup(seed);
  World w;
  w.seed = seed;
  w.n = static_cast<int>(setup.Range(4, 8));
  w.rounds = 12;
  const int byz = static_cast<int>(setup.Range(0, (w.n - 1) / 3));
  const int crash = static_cast<int>(setup.Range(0, 1));
  const int honest_live = w.n - byz - crash;
  static const char* kAggs[] = {"centered_clip", "median", "trimmed_mean", "multi_krum"};
  ExpertRoundConfig c;
  c.aggregator.name = kAggs[setup.Uniform(4)];
  c.aggregator.byzantine = byz;
  // Bucketing (s = 2) where it keeps a majority of clean buckets.
  const bool bucket_ok = w.n - crash >= 4 * byz + 2;
  c.aggregator.bucket_size = (c.aggregator.name == "centered_clip" && bucket_ok && setup.Bernoulli(0.3)) ? 2 : 1;
  c.clip_norm = 1.0;
  c.round_deadline = kDeadline;
  c.quorum = static_cast<size_t>(std::max(1, honest_live));
  w.host = std::move(*ExpertRounds::Create(c));
  for (uint32_t e = 0; e < kExperts; ++e) SWARM_ASSERT(w.host->AddExpert(e, kDim).ok());
  w.kind.assign(w.n + 1, kHonest);
  for (int i = 0; i < byz; ++i) w.kind[1 + i] = static_cast<Kind>(1 + setup.Uniform(5));
  w.sim = std::make_unique<sim::Simulator<Msg>>(seed, w.n + 1, &w);
  sim::LinkModel link;
  link.duplicate = 0.02;
  link.reorder = 0.05;
  link.reorder_delay_mean = Millis(10);  // every message arrives well within the deadline
  w.sim->links().SetDefault(link);
  w.sim->SetTimer(0, kTick, 0);
  for (int t = 1; t <= w.n; ++t) {
    for (int r = 1; r <= w.rounds; ++r) {
      w.sim->SetTimer(t, r * kPeriod + static_cast<Nanos>(setup.Uniform(Millis(50))), static_cast<uint32_t>(r));
    }
  }
  // The crashing trainer is honest and stops at a random round.
  if (crash) w.sim->Crash(w.n, kPeriod * static_cast<Nanos>(setup.Range(1, w.rounds)));
  w.sim->RunUntil((w.rounds + 2) * kPeriod);

  auto where = [&](uint32_t e, uint64_t r) {
    return absl::StrCat("seed ", seed, " n=", w.n, " byz=", byz, " crash=", crash, " agg=", c.aggregator.name,
                        " bucket=", c.aggregator.bucket_size, " expert ", e, " round ", r, ": ");
  };
  int64_t max_sent_dupes = 0;
  for (uint32_t e = 0; e < kExperts; ++e) {
    for (uint64_t r = 1; r <= static_cast<uint64_t>(w.rounds); ++r) {
      const auto key = std::make_pair(e, r);
      auto it = w.steps.find(key);
      if (it == w.steps.end()) return where(e, r) + "never applied";
      if (it->second.size() != 1) return where(e, r) + absl::StrCat("applied ", it->second.size(), " times");
      const ExpertStep& s = it->second[0];
      if (s.used.size() < c.quorum) return where(e, r) + absl::StrCat("step with ", s.used.size(), " < quorum");
      if (std::set<std::string>(s.used.begin(), s.used.end()).size() != s.used.size()) {
        return where(e, r) + "a caller used twice";
      }
      if (w.applied_at[key] > w.first_arrival[key] + kDeadline + kTick) {
        return where(e, r) + absl::StrCat("applied ", ToSeconds(w.applied_at[key] - w.first_arrival[key]),
                                          " s after the first contribution (deadline ", ToSeconds(kDeadline), " s)");
      }
      double d = 0;
      for (size_t k = 0; k < kDim; ++k) d += std::pow(double(s.gradient[k]) - Truth(e, r, k), 2);
      if (std::sqrt(d) > 0.25) {
        return where(e, r) + absl::StrCat("aggregate is ", std::sqrt(d), " from the honest gradient");
      }
    }
  }
  for (int i = 1; i <= byz; ++i) max_sent_dupes += w.kind[i] == kReplay;
  if (max_sent_dupes > 0 && w.host->refused(ExpertRefusal::kDuplicate) + w.host->refused(ExpertRefusal::kLate) == 0) {
    return absl::StrCat("seed ", seed, ": ", w.replays_sent, " replays sent, none refused");
  }
  return "";
}

TEST(ExpertRoundSim, ByzantineAndCrashingTrainersOver1000Seeds) {
  int failures = 0;
  for (uint64_t seed : ::swarm::testing::SimSeeds(1000)) {
    SWARM_SIM_SEED_TRACE(seed);
    const std::string err = RunSeed(seed);
    if (!err.empty()) {
      ADD_FAILURE() << err;
      if (++failures >= 5) break;
    }
  }
}

}  // namespace
}  // namespace swarm::train
