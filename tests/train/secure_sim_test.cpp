// The encrypted-sum round under seeded faults (label sim): n trainers encrypt
// real CKKS contributions and send them to one aggregator (SecureSumRound)
// over a simulated network with random delays and drops; the aggregator sends
// each closed round's encrypted sum back. A Byzantine trainer sends
// duplicates, garbage, ciphertexts under a foreign key and far-off rounds; a
// non-trainer sends valid ciphertexts; one trainer crashes mid-run. The
// network is sim::Simulator (node n is the aggregator).
// Invariants: every live trainer finishes every round (it applies a sum or
// gives up; never hangs); every decrypted sum equals the plain sum of exactly
// the contributions the aggregator listed as used; exclusions are counted.
// A failure prints its seed; SWARM_SIM_SEED=<n> replays the same schedule
// (encryption noise is fresh; src/sim/README.md).
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include <gtest/gtest.h>

#include "common/rng.h"
#include "fhe/keyset.h"
#include "sim/simulator.h"
#include "support/sim_seeds.h"
#include "train/secure_round.h"

namespace swarm::train {
namespace {

constexpr size_t kDim = 40;
constexpr double kClip = 4.0;

struct Keys {
  fhe::KeySet group, foreign;
};

const Keys& GetKeys() {
  static const Keys* k = [] {
    auto spec = SecureAggParams(8, kClip);
    auto g = fhe::GenerateKeySet(*spec, {.relin_key = false, .galois_keys = false});
    auto f = fhe::GenerateKeySet(*spec, {.relin_key = false, .galois_keys = false});
    EXPECT_TRUE(g.ok() && f.ok());
    return new Keys{*g, *f};
  }();
  return *k;
}

// One message: a contribution to the aggregator or a closed round's sum to a trainer.
struct Event {
  std::string from;  // the claimed sender
  uint64_t round = 0;
  Bytes wire;                   // to the aggregator: SWSS contribution
  std::optional<SecureRoundOutcome> sum;  // to a trainer
};

struct TrainerState {
  uint64_t round = 0;  // current round (0 = not started)
  std::map<uint64_t, SecureRoundOutcome> kept;  // sums for this round or later ones
  Nanos sent_at = 0;
  int applied = 0, gave_up = 0, not_included = 0;
};

struct SimResult {
  int rounds_min = 0;
  int sums_checked = 0;
  double worst_error = 0;
  int64_t excluded[kSecureExclusionKinds] = {};
};

SimResult RunSim(uint64_t seed, int n, int rounds, double drop_p) {
  const Keys& keys = GetKeys();
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back("t" + std::to_string(i));
  const int byz = 0, crashed = n - 1;  // trainer 0 lies, the last one crashes at round 4
  SecureRoundConfig c;
  c.trainers = names;
  c.dim = kDim;
  c.round_deadline = Millis(200);
  c.first_round_deadline = Millis(300);
  c.give_up_after = Millis(1000);
  c.quorum = static_cast<size_t>(n - 2);
  c.rounds = static_cast<uint64_t>(rounds);
  auto agg = std::move(*SecureSumRound::Create(c, keys.group.eval.ctx, keys.group.eval.key_id));
  auto enc = std::move(*fhe::SecureSumEncryptor::Create(keys.group.eval.ctx, *keys.group.eval.public_key,
                                                         {.scale = 0, .value_abs_max = kClip}));
  auto foreign = std::move(*fhe::SecureSumEncryptor::Create(keys.foreign.eval.ctx, *keys.foreign.eval.public_key,
                                                             {.scale = 0, .value_abs_max = kClip}));
  auto dec = std::move(*fhe::SecureSumDecryptor::Create(keys.group.eval.ctx, keys.group.secret_key, 1));

  std::map<std::pair<uint64_t, std::string>, std::vector<float>> sent;  // what each trainer encrypted
  struct Net final : sim::Simulator<Event>::Handler {
    std::function<void(int, Event&&)> deliver;
    std::function<void(int)> tick;
    void OnDeliver(sim::NodeId to, sim::NodeId, Event&& e) override { deliver(static_cast<int>(to), std::move(e)); }
    void OnTimer(sim::NodeId i, uint32_t) override { tick(static_cast<int>(i)); }
  } net;
  const int kAgg = n;  // node id of the aggregator
  sim::Simulator<Event> sim(seed, static_cast<uint32_t>(n + 1), &net);
  Rng& rng = sim.rng();
  sim::LinkModel link;
  link.latency_base = Millis(1);
  link.latency_jitter_mean = Millis(30);
  link.loss = drop_p;
  sim.links().SetDefault(link);
  auto deliver = [&](int from, int to, Event e) {
    sim.Send(static_cast<sim::NodeId>(from), static_cast<sim::NodeId>(to), std::move(e));
  };
  auto encrypt = [&](fhe::SecureSumEncryptor& e, const std::vector<float>& v) {
    return fhe::SerializeEncryptedVector(*keys.group.eval.ctx, *e.Encrypt(v));
  };
  std::vector<TrainerState> ts(n);
  auto start_round = [&](int i, uint64_t r) {
    const Nanos now = sim.now();
    ts[i].round = r;
    ts[i].sent_at = now;
    if (r > static_cast<uint64_t>(rounds)) return;
    std::vector<float> v(kDim);
    for (size_t k = 0; k < kDim; ++k) {
      v[k] = static_cast<float>(std::clamp(std::sin(double(r) + double(k)) + rng.Normal(0, 0.1), -kClip, kClip));
    }
    if (i == byz) {
      for (auto& x : v) x = static_cast<float>(kClip);  // as far as the clip allows
      switch (rng.Uniform(4)) {
        case 0: deliver(i, kAgg, {.from = names[i], .round = r, .wire = encrypt(enc, v)}); break;  // duplicate
        case 1: deliver(i, kAgg, {.from = names[i], .round = r, .wire = Bytes(300, 7)}); break;    // garbage
        case 2: deliver(i, kAgg, {.from = names[i], .round = r, .wire = encrypt(foreign, v)}); break;
        default: deliver(i, kAgg, {.from = names[i], .round = r + 50, .wire = encrypt(enc, v)}); break;
      }
    }
    sent[{r, names[i]}] = v;
    deliver(i, kAgg, {.from = names[i], .round = r, .wire = encrypt(enc, v)});
    // A peer that is not a trainer.
    if (i == 1) deliver(i, kAgg, {.from = "mallory", .round = r, .wire = encrypt(enc, v)});
    // The crashing trainer goes down once it has sent its round-4 contribution.
    if (i == crashed && r >= 4) sim.Crash(static_cast<sim::NodeId>(i), now);
  };
  SimResult res;
  auto agg_drain = [&] {
    agg->OnTick(sim.now());
    while (auto o = agg->TakeOutbox()) {
      if (!o->status.ok()) continue;  // trainers give up on their own
      for (int i = 0; i < n; ++i) deliver(kAgg, i, {.from = "agg", .round = o->round, .sum = *o});
    }
  };
  net.deliver = [&](int to, Event&& e) {
    const Nanos now = sim.now();
    if (to == kAgg) {
      (void)agg->OnContribution(e.from, e.round, e.wire, now);
      agg_drain();
      return;
    }
    TrainerState& t = ts[to];
    if (e.round < t.round) return;  // a sum for a round this trainer gave up on
    t.kept.emplace(e.round, std::move(*e.sum));
    // As node/trainer/extension.cpp: apply the sum of the current round; a
    // sum of a later round means the current one's will not come (the
    // aggregator closes rounds in order): skip it and catch up.
    while (!t.kept.empty() && t.round <= static_cast<uint64_t>(rounds)) {
      auto it = t.kept.find(t.round);
      if (it == t.kept.end()) {
        if (t.kept.rbegin()->first <= t.round) break;
        ++t.gave_up;
        start_round(to, t.round + 1);
        continue;
      }
      const SecureRoundOutcome o = std::move(it->second);
      t.kept.erase(t.kept.begin(), std::next(it));
      auto got = dec.DecryptSum(o.sum);
      EXPECT_TRUE(got.ok()) << got.status();
      if (!got.ok()) break;
      EXPECT_EQ(o.sum.contributors, o.used.size());
      for (size_t k = 0; k < kDim; ++k) {
        double want = 0;
        for (const auto& u : o.used) want += sent.at({o.round, u})[k];
        res.worst_error = std::max(res.worst_error, std::fabs((*got)[k] - want));
      }
      ++res.sums_checked;
      ++t.applied;
      if (std::find(o.used.begin(), o.used.end(), names[to]) == o.used.end()) ++t.not_included;
      start_round(to, t.round + 1);
    }
  };
  // Every 10 ms: the aggregator ticks; a trainer that waited too long gives up its round.
  const Nanos trainer_give_up = Millis(1300);
  net.tick = [&](int i) {
    if (i == kAgg) {
      agg_drain();
    } else if (ts[i].round <= static_cast<uint64_t>(rounds) && sim.now() - ts[i].sent_at > trainer_give_up) {
      ++ts[i].gave_up;
      start_round(i, ts[i].round + 1);
    }
    sim.SetTimer(static_cast<sim::NodeId>(i), sim.now() + Millis(10), 0);
  };
  for (int i = 0; i <= n; ++i) sim.SetTimer(static_cast<sim::NodeId>(i), 0, 0);
  for (int i = 0; i < n; ++i) sim.At(Millis(static_cast<int64_t>(rng.Uniform(100))), [&, i] { start_round(i, 1); });
  const Nanos end = Seconds(600);
  auto all_done = [&] {
    for (int i = 0; i < n; ++i) {
      if (i == crashed && !sim.IsUp(static_cast<sim::NodeId>(i))) continue;
      if (ts[i].round <= static_cast<uint64_t>(rounds)) return false;
    }
    return true;
  };
  while (sim.now() < end && !all_done() && sim.Step()) {
  }
  res.rounds_min = rounds;
  for (int i = 0; i < n; ++i) {
    if (i == crashed) continue;
    res.rounds_min = std::min(res.rounds_min, static_cast<int>(ts[i].round) - 1);
  }
  for (int k = 0; k < kSecureExclusionKinds; ++k) res.excluded[k] = agg->excluded(static_cast<SecureExclusion>(k));
  return res;
}

TEST(SecureSumSim, EveryRoundFinishesAndEverySumIsExactlyItsContributions) {
  for (uint64_t seed : ::swarm::testing::SimSeeds(3)) {
    SWARM_SIM_SEED_TRACE(seed);
    SimResult r = RunSim(seed, 5, 12, 0.03);
    EXPECT_EQ(r.rounds_min, 12) << "seed " << seed;
    // 4 live trainers x 12 rounds; most rounds reach everyone.
    EXPECT_GT(r.sums_checked, 12 * 3) << "seed " << seed;
    EXPECT_LT(r.worst_error, 1e-3) << "seed " << seed;
    EXPECT_GT(r.excluded[static_cast<int>(SecureExclusion::kNotATrainer)], 0) << "seed " << seed;
    EXPECT_GT(r.excluded[static_cast<int>(SecureExclusion::kBadCiphertext)], 0) << "seed " << seed;
    EXPECT_GT(r.excluded[static_cast<int>(SecureExclusion::kDuplicate)] +
                  r.excluded[static_cast<int>(SecureExclusion::kWrongRound)],
              0)
        << "seed " << seed;
    std::printf("seed %llu: sums checked %d, worst error %.3g\n", static_cast<unsigned long long>(seed),
                r.sums_checked, r.worst_error);
  }
}

TEST(SecureSumSim, HeavyLossStillTerminates) {
  for (uint64_t seed : ::swarm::testing::SimSeeds(1, 7)) {
    SWARM_SIM_SEED_TRACE(seed);
    SimResult r = RunSim(seed, 4, 8, 0.3);
    EXPECT_EQ(r.rounds_min, 8);
    EXPECT_LT(r.worst_error, 1e-3);
  }
}

}  // namespace
}  // namespace swarm::train
