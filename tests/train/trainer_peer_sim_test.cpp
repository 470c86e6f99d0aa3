// The sans-I/O trainer peer (train/trainer_peer.h) on sim::Simulator (label
// sim): n trainer peers, each a real train::TrainerPeer driven as
// node/trainer/extension.cpp drives it (local step, ticks every 10 ms,
// payloads encoded with train/contribution_codec.h and decoded at the
// receiver, the sender's name checked against the link's sender as the
// envelope admission does), over links with random latency, reordering,
// duplication and, in some seeds, 1 % or 5 % loss. Per seed, at random:
//   - Byzantine peers running the job attacks of train/attack.h inside the
//     peer (sign_flip x100, noise sigma 100, alie, ipm), or sending garbage
//     (NaN, wrong size, far-ahead round, another trainer's name, another job,
//     duplicates) next to their valid contribution;
//   - an honest peer that crashes mid-run, and one that stalls (its local
//     step sometimes takes 1.5x to 4.5x the round deadline);
//   - the aggregator (median, trimmed_mean, centered_clip, multi_krum; mean
//     when nobody is Byzantine) and whether a committee must commit each
//     round's root first (answered after 5 to 50 ms).
// What docs/training.md claims, checked on every live honest trainer:
//   1. every round it opens closes (applied or skipped, exactly once) within
//      give_up_after + one tick, and within its deadline + one tick whenever
//      a quorum of contributions was accepted by the deadline: a crashed,
//      stalled or silent trainer is not waited on past the deadline;
//   2. it finishes all rounds (no hang);
//   3. each applied aggregate is within the rule's bound of the honest mean
//      of the round's contributions: coordinate-wise inside the honest range
//      for median and trimmed_mean, within 2x the honest radius for
//      centered_clip and multi_krum, equal (1e-5) for mean with no Byzantine
//      peer — so a Byzantine peer's influence is bounded;
//   4. two honest trainers that aggregated the same senders in a round apply
//      bit-identical aggregates (the rules are deterministic).
// 1,000 seeds in `make test`; SWARM_SIM_SEEDS=N runs N, SWARM_SIM_SEED=S
// replays seed S alone (tests/support/sim_seeds.h: a failure prints the seed
// and its replay line).
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "common/rng.h"
#include "sim/simulator.h"
#include "support/sim_seeds.h"
#include "train/contribution_codec.h"
#include "train/trainer_peer.h"

namespace swarm::train {
namespace {

constexpr size_t kDim = 16;
constexpr uint64_t kJob = 42;
constexpr int kRounds = 8;
constexpr Nanos kTick = Millis(10);
constexpr Nanos kDeadline = Millis(200);
constexpr Nanos kFirstDeadline = Millis(400);
constexpr Nanos kGiveUp = Millis(1000);
constexpr Nanos kStallMax = Millis(900);
constexpr double kNoise = 0.05;

enum TimerTag : uint32_t { kTickTag = 0, kLocalTag = 1, kCommitTag = 2 };
enum class Role { kHonest, kStalling, kCrashing, kAttacker, kGarbage };

struct Msg {
  std::string kind;
  std::shared_ptr<const Bytes> payload;
};

float Truth(uint64_t r, size_t k) { return static_cast<float>(std::sin(0.7 * double(r) + double(k))); }

struct RoundRecord {
  Nanos open = -1, close = -1;
  Nanos deadline = 0;
  int outcomes = 0;  // kApply + kSkip: must be exactly 1
  bool applied = false;
  std::vector<float> aggregate;
  std::vector<std::string> used;
  std::vector<Nanos> accepted_at;  // OK contributions (own included)
};

struct Peer {
  Role role = Role::kHonest;
  std::string attack = "none";
  std::unique_ptr<TrainerPeer> peer;
  uint64_t next_round = 1;
  bool opened_any = false;
  bool crashed = false;
  std::map<uint64_t, RoundRecord> rounds;
};

struct SeedStats {
  int64_t rounds_checked = 0, applied = 0, skipped = 0;
  int64_t closed_without_someone = 0;   // closed by the deadline with a trainer missing
  int64_t attacker_used = 0;            // applied rounds that aggregated an attacker's vector
  int64_t identical_pairs = 0;          // bit-identity comparisons made
  double worst_ratio = 0;               // centered_clip / multi_krum: |agg - mu| / radius
  std::map<std::string, int64_t> refused;
};

struct World : sim::Simulator<Msg>::Handler {
  uint64_t seed = 0;
  int n = 0;
  size_t quorum = 0;
  std::string aggregator;
  bool committee = false;
  std::vector<std::string> names;
  std::vector<Peer> peers;
  std::map<std::pair<int, uint64_t>, std::vector<float>> honest_vec;  // (node, round) -> what it computed
  std::unique_ptr<sim::Simulator<Msg>> sim;
  SeedStats stats;
  std::string failure;

  void Fail(const std::string& s) {
    if (failure.empty()) failure = s;
  }
  bool Honest(int i) const {
    return peers[i].role == Role::kHonest || peers[i].role == Role::kStalling || peers[i].role == Role::kCrashing;
  }
  int IndexOf(const std::string& name) const {
    return static_cast<int>(std::find(names.begin(), names.end(), name) - names.begin());
  }

  void OnDeliver(sim::NodeId to, sim::NodeId from, Msg&& m) override {
    Peer& p = peers[to];
    if (m.kind != kTrainKind) return;
    auto d = DecodeContribution(*m.payload, {.dim_max = 1u << 20, .sender_bytes_max = 256});
    if (!d.ok()) {
      ++stats.refused["malformed"];
      return;
    }
    // What node/envelope_admission.h does: the job, and the name is the signer's.
    if (d->header.job != kJob) {
      ++stats.refused["wrong_job"];
      return;
    }
    if (d->header.sender != names[from]) {
      ++stats.refused["not_a_trainer"];
      return;
    }
    const uint64_t round = d->header.round;
    Status st = p.peer->OnContribution(d->header.sender, round, std::move(d->values), sim->now());
    if (st.ok()) {
      p.rounds[round].accepted_at.push_back(sim->now());
    } else {
      const std::string m2(st.message());
      ++stats.refused[m2.substr(0, m2.find(':'))];
    }
    Drain(static_cast<int>(to));
  }

  void OnTimer(sim::NodeId node, uint32_t tag) override {
    Peer& p = peers[node];
    const Nanos now = sim->now();
    switch (tag) {
      case kTickTag:
        p.peer->OnTick(now);
        Drain(static_cast<int>(node));
        sim->SetTimer(node, now + kTick, kTickTag);
        return;
      case kLocalTag: {
        const uint64_t r = p.next_round;
        std::vector<float> v(kDim);
        for (size_t k = 0; k < kDim; ++k) v[k] = Truth(r, k) + static_cast<float>(kNoise * sim->rng().Normal());
        honest_vec[{static_cast<int>(node), r}] = v;
        RoundRecord& rec = p.rounds[r];
        rec.open = now;
        rec.deadline = p.opened_any ? kDeadline : kFirstDeadline;
        p.opened_any = true;
        Status st = p.peer->OnLocalStep(r, std::move(v), now);
        if (!st.ok()) Fail("t" + std::to_string(node) + " round " + std::to_string(r) + ": " + std::string(st.message()));
        // Its own contribution is accepted at once (an attacker's when crafted).
        rec.accepted_at.push_back(now);
        Drain(static_cast<int>(node));
        return;
      }
      case kCommitTag:
        p.peer->OnRootCommitted(p.peer->round(), absl::OkStatus());
        Drain(static_cast<int>(node));
        return;
    }
  }

  void OnCrash(sim::NodeId node) override { peers[node].crashed = true; }

  void ScheduleLocalStep(int i) {
    Peer& p = peers[i];
    if (p.next_round > static_cast<uint64_t>(kRounds)) return;
    Nanos compute = Millis(5) + static_cast<Nanos>(sim->rng().Exponential(double(Millis(10))));
    if (p.role == Role::kStalling && sim->rng().Bernoulli(0.4)) {
      compute = Millis(300) + static_cast<Nanos>(sim->rng().Uniform(600)) * Millis(1);
    }
    sim->SetTimer(i, sim->now() + compute, kLocalTag);
  }

  void CloseRound(int i, uint64_t r) {
    RoundRecord& rec = peers[i].rounds[r];
    if (rec.close < 0) rec.close = sim->now();
  }

  void Drain(int i) {
    Peer& p = peers[i];
    for (TrainerAction& a : p.peer->TakeOutbox()) {
      switch (a.kind) {
        case TrainerAction::kSend:
          for (const auto& to : a.to) sim->Send(i, IndexOf(to), Msg{a.envelope_kind, a.payload});
          break;
        case TrainerAction::kCommitRoot:
          CloseRound(i, a.round);
          sim->SetTimer(i, sim->now() + Millis(5) + static_cast<Nanos>(sim->rng().Uniform(45)) * Millis(1),
                        kCommitTag);
          break;
        case TrainerAction::kApply:
        case TrainerAction::kSkip: {
          CloseRound(i, a.round);
          RoundRecord& rec = p.rounds[a.round];
          ++rec.outcomes;
          rec.applied = a.kind == TrainerAction::kApply;
          rec.aggregate = std::move(a.aggregate);
          rec.used = std::move(a.used);
          p.next_round = a.round + 1;
          ScheduleLocalStep(i);
          break;
        }
        case TrainerAction::kFail:
          Fail("t" + std::to_string(i) + " failed: " + std::string(a.status.message()));
          break;
      }
    }
  }

  // Checks 1-4 after the run.
  void Check() {
    std::map<std::pair<uint64_t, std::vector<std::string>>, std::pair<int, std::vector<float>>> by_used;
    for (int i = 0; i < n; ++i) {
      if (!Honest(i) || peers[i].crashed) continue;
      const std::string who = "t" + std::to_string(i);
      if (peers[i].next_round != static_cast<uint64_t>(kRounds) + 1) {
        Fail(who + " finished only " + std::to_string(peers[i].next_round - 1) + " of " + std::to_string(kRounds) +
             " rounds (state " + peers[i].peer->state_name() + ")");
      }
      for (auto& [r, rec] : peers[i].rounds) {
        if (rec.open < 0) continue;  // contributions for a round it never opened
        const std::string at = who + " round " + std::to_string(r);
        ++stats.rounds_checked;
        if (rec.outcomes != 1) Fail(at + ": " + std::to_string(rec.outcomes) + " outcomes, expected 1");
        if (rec.close < 0) continue;
        const Nanos took = rec.close - rec.open;
        if (took > kGiveUp + kTick) Fail(at + ": closed after " + std::to_string(ToSeconds(took)) + " s > give_up");
        size_t by_deadline = 0;
        for (Nanos t : rec.accepted_at) by_deadline += t <= rec.open + rec.deadline;
        if (by_deadline >= quorum && took > rec.deadline + kTick) {
          Fail(at + ": " + std::to_string(by_deadline) + " contributions (quorum " + std::to_string(quorum) +
               ") by the deadline, but closed only after " + std::to_string(ToSeconds(took)) + " s");
        }
        if (!rec.applied) {
          ++stats.skipped;
          continue;
        }
        ++stats.applied;
        if (rec.used.size() < static_cast<size_t>(n) && took <= rec.deadline + kTick) ++stats.closed_without_someone;
        CheckBound(at, r, rec);
        auto key = std::make_pair(r, rec.used);
        auto [it, fresh] = by_used.emplace(key, std::make_pair(i, rec.aggregate));
        if (!fresh) {
          ++stats.identical_pairs;
          if (it->second.second != rec.aggregate) {
            Fail(at + ": aggregated the same senders as t" + std::to_string(it->second.first) +
                 " but applied a different aggregate");
          }
        }
      }
    }
  }

  void CheckBound(const std::string& at, uint64_t r, const RoundRecord& rec) {
    std::vector<const std::vector<float>*> honest;
    bool attacker_in = false;
    for (const auto& name : rec.used) {
      const int j = IndexOf(name);
      if (Honest(j)) {
        honest.push_back(&honest_vec.at({j, r}));
      } else if (peers[j].role == Role::kAttacker) {
        attacker_in = true;
      }
    }
    if (honest.empty()) {
      Fail(at + ": applied an aggregate with no honest contribution");
      return;
    }
    stats.attacker_used += attacker_in;
    std::vector<double> mu(kDim, 0.0);
    for (const auto* h : honest) {
      for (size_t k = 0; k < kDim; ++k) mu[k] += (*h)[k] / double(honest.size());
    }
    if (aggregator == "median" || aggregator == "trimmed_mean") {
      for (size_t k = 0; k < kDim; ++k) {
        float lo = INFINITY, hi = -INFINITY;
        for (const auto* h : honest) {
          lo = std::min(lo, (*h)[k]);
          hi = std::max(hi, (*h)[k]);
        }
        if (rec.aggregate[k] < lo - 1e-6f || rec.aggregate[k] > hi + 1e-6f) {
          std::ostringstream o;
          o << at << ": " << aggregator << " coordinate " << k << " = " << rec.aggregate[k]
            << " outside the honest range [" << lo << ", " << hi << "]";
          Fail(o.str());
        }
      }
      return;
    }
    double dist = 0, radius = 0;
    for (size_t k = 0; k < kDim; ++k) dist += (rec.aggregate[k] - mu[k]) * (rec.aggregate[k] - mu[k]);
    for (const auto* h : honest) {
      double d2 = 0;
      for (size_t k = 0; k < kDim; ++k) d2 += ((*h)[k] - mu[k]) * ((*h)[k] - mu[k]);
      radius = std::max(radius, std::sqrt(d2));
    }
    dist = std::sqrt(dist);
    if (aggregator == "mean") {
      if (dist > 1e-5) Fail(at + ": mean of honest contributions off by " + std::to_string(dist));
      return;
    }
    if (radius > 0) stats.worst_ratio = std::max(stats.worst_ratio, dist / radius);
    if (dist > 2 * radius + 1e-6) {
      std::ostringstream o;
      o << at << ": " << aggregator << " aggregate " << dist << " from the honest mean, more than 2x the honest radius "
        << radius;
      Fail(o.str());
    }
  }
};

std::string RunSeed(uint64_t seed, SeedStats* out) {
  Rng setup(seed);
  World w;
  w.seed = seed;
  w.n = static_cast<int>(setup.Range(4, 8));
  const int crashing = static_cast<int>(setup.Range(0, 1));
  const int stalling = static_cast<int>(setup.Range(0, 1));
  const int byz = static_cast<int>(setup.Range(0, (w.n - 1 - crashing - stalling) / 3));
  static const char* kRules[] = {"median", "trimmed_mean", "centered_clip", "multi_krum"};
  w.aggregator = byz == 0 && setup.Bernoulli(0.2) ? "mean" : kRules[setup.Uniform(4)];
  // Multi-Krum bounds the Byzantine inputs only with n >= 2f + 3 of them in
  // the round; a round may close with `quorum` inputs (crashed and stalled
  // trainers missing), so the quorum itself must reach 2f + 3.
  if (w.aggregator == "multi_krum" && w.n - byz - crashing - stalling < 2 * byz + 3) w.aggregator = "median";
  w.quorum = static_cast<size_t>(w.n - byz - crashing - stalling);
  w.committee = setup.Bernoulli(0.25);
  for (int i = 0; i < w.n; ++i) w.names.push_back("t" + std::to_string(i));
  w.peers.resize(w.n);
  // Roles: the first byz are Byzantine, then the crashing and stalling ones.
  static const char* kAttacks[] = {"sign_flip", "noise", "alie", "ipm"};
  for (int i = 0; i < byz; ++i) {
    if (setup.Bernoulli(0.25)) {
      w.peers[i].role = Role::kGarbage;
    } else {
      w.peers[i].role = Role::kAttacker;
      w.peers[i].attack = kAttacks[setup.Uniform(4)];
    }
  }
  if (crashing) w.peers[byz].role = Role::kCrashing;
  if (stalling) w.peers[byz + crashing].role = Role::kStalling;
  const double loss = std::array<double, 3>{0.0, 0.01, 0.05}[setup.Uniform(3)];

  w.sim = std::make_unique<sim::Simulator<Msg>>(seed, static_cast<uint32_t>(w.n), &w);
  sim::LinkModel link;
  link.latency_base = Millis(1);
  link.latency_jitter_mean = Millis(10);
  link.loss = loss;
  link.duplicate = 0.02;
  link.reorder = 0.05;
  w.sim->links().SetDefault(link);

  for (int i = 0; i < w.n; ++i) {
    TrainerPeerConfig c;
    c.self = w.names[i];
    c.trainers = w.names;
    c.job = kJob;
    c.dim = kDim;
    c.round_deadline = kDeadline;
    c.first_round_deadline = kFirstDeadline;
    c.give_up_after = kGiveUp;
    c.quorum = w.quorum;
    c.byzantine = w.peers[i].role == Role::kAttacker;
    c.require_committed_root = w.committee;
    c.attack_seed = seed * 31 + static_cast<uint64_t>(i);
    AggregatorSpec spec{.name = w.aggregator, .byzantine = byz};
    auto agg = MakeAggregator(spec);
    if (!agg.ok()) return std::string("aggregator: ") + std::string(agg.status().message());
    std::unique_ptr<Attack> attack;
    if (c.byzantine) {
      AttackSpec as{.name = w.peers[i].attack, .trainers = w.n, .byzantine = byz};
      as.sign_flip_scale = 100;
      as.noise_std = 100;
      auto a = MakeAttack(as);
      if (!a.ok()) return std::string("attack: ") + std::string(a.status().message());
      attack = std::move(a).value();
    }
    auto p = TrainerPeer::Create(std::move(c), std::move(agg).value(), std::move(attack));
    if (!p.ok()) return std::string("create: ") + std::string(p.status().message());
    w.peers[i].peer = std::move(p).value();
    // Trainers start at different moments; ticks at their own phase.
    const Nanos start = static_cast<Nanos>(setup.Uniform(50)) * Millis(1);
    w.sim->SetTimer(i, start + static_cast<Nanos>(setup.Uniform(10)) * Millis(1), kTickTag);
    w.sim->SetTimer(i, start + Millis(5), kLocalTag);
    if (w.peers[i].role == Role::kGarbage) {
      World* world = &w;
      w.sim->SetByzantine(i, [world, i](sim::NodeId from, sim::NodeId& to, Msg& m) {
        auto d = DecodeContribution(*m.payload);
        if (!d.ok()) return sim::Simulator<Msg>::HookAction::kDeliver;
        ContributionHeader h = d->header;
        std::vector<float> v = d->values;
        Rng& rng = world->sim->rng();
        switch (rng.Uniform(7)) {
          case 0: return sim::Simulator<Msg>::HookAction::kDeliver;  // valid, unchanged
          case 1: v[rng.Uniform(kDim)] = rng.Bernoulli(0.5) ? NAN : INFINITY; break;
          case 2: v.resize(kDim + 1, 1.0f); break;
          case 3: h.round += 50; break;
          case 4: h.sender = world->names[(i + 1) % world->n]; break;  // another trainer's name
          case 5: h.job = kJob + 1; break;
          default: world->sim->Inject(from, to, m); return sim::Simulator<Msg>::HookAction::kDeliver;  // twice
        }
        m.payload = std::make_shared<const Bytes>(EncodeContributionF32(h, v));
        return sim::Simulator<Msg>::HookAction::kDeliver;
      });
    }
  }
  if (crashing) w.sim->Crash(byz, static_cast<Nanos>(setup.Uniform(kRounds * 300)) * Millis(1));
  // Every round ends within its local step (<= stall) plus give_up_after.
  const Nanos horizon = kRounds * (kStallMax + kGiveUp + Millis(100)) + Seconds(2);
  w.sim->RunUntil(horizon);
  w.Check();
  *out = w.stats;
  if (w.failure.empty()) return {};
  std::ostringstream o;
  o << w.failure << " [n=" << w.n << " byzantine=" << byz << " crashing=" << crashing << " stalling=" << stalling
    << " aggregator=" << w.aggregator << " quorum=" << w.quorum << " loss=" << loss
    << " committee=" << w.committee << " attacks:";
  for (int i = 0; i < byz; ++i) o << " " << (w.peers[i].role == Role::kGarbage ? "garbage" : w.peers[i].attack);
  o << "]";
  return o.str();
}

TEST(TrainerPeerSim, RoundsCloseByTheirDeadlineAndAggregatesStayBoundedOverManySeeds) {
  // SWARM_SIM_SEED=<n> runs one seed (src/sim/README.md); SWARM_SIM_SEEDS=<k> runs seeds 1..k.
  uint64_t count = 1000;
  if (const char* s = std::getenv("SWARM_SIM_SEEDS")) count = std::strtoull(s, nullptr, 10);
  const std::vector<uint64_t> seeds = ::swarm::testing::SimSeeds(count);
  ASSERT_FALSE(seeds.empty());
  const uint64_t first = seeds.front();
  count = seeds.size();
  const auto t0 = std::chrono::steady_clock::now();
  SeedStats total;
  uint64_t failed = 0;
  for (uint64_t seed : seeds) {
    SWARM_SIM_SEED_TRACE(seed);
    SeedStats s;
    const std::string failure = RunSeed(seed, &s);
    if (!failure.empty()) {
      ++failed;
      ADD_FAILURE() << "seed=" << seed << ": " << failure;
      if (failed >= 5) break;
    }
    total.rounds_checked += s.rounds_checked;
    total.applied += s.applied;
    total.skipped += s.skipped;
    total.closed_without_someone += s.closed_without_someone;
    total.attacker_used += s.attacker_used;
    total.identical_pairs += s.identical_pairs;
    total.worst_ratio = std::max(total.worst_ratio, s.worst_ratio);
    for (const auto& [k, v] : s.refused) total.refused[k] += v;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[trainer peer sim] seeds " << first << ".." << first + count - 1 << ": honest rounds checked "
            << total.rounds_checked << " (applied " << total.applied << ", skipped " << total.skipped
            << "), closed by the deadline without a trainer " << total.closed_without_someone
            << ", applied with an attacker's vector " << total.attacker_used << ", bit-identical pairs "
            << total.identical_pairs << ", worst |agg - honest mean| / honest radius (centered_clip, multi_krum) "
            << total.worst_ratio << ", failed seeds " << failed << ", wall " << secs << " s\n  refused by reason:";
  for (const auto& [k, v] : total.refused) std::cout << " " << k << "=" << v;
  std::cout << std::endl;
  if (!::swarm::testing::SimSeedReplay() && count >= 100) {
    // The campaign exercised what it claims to check.
    EXPECT_GT(total.closed_without_someone, 0);
    EXPECT_GT(total.attacker_used, 0);
    EXPECT_GT(total.identical_pairs, 0);
    for (const char* reason : {"non_finite", "wrong_size", "wrong_round", "not_a_trainer", "wrong_job", "duplicate"}) {
      EXPECT_GT(total.refused[reason], 0) << reason;
    }
  }
}

}  // namespace
}  // namespace swarm::train
