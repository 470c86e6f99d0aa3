// The encrypted-sum round under seeded faults (label sim): n trainers encrypt
// real CKKS contributions and send them to one aggregator (SecureSumRound)
// over a simulated network with random delays and drops; the aggregator sends
// each closed round's encrypted sum back. A Byzantine trainer sends
// duplicates, garbage, ciphertexts under a foreign key and far-off rounds; a
// non-trainer sends valid ciphertexts; one trainer crashes mid-run.
// Invariants: every live trainer finishes every round (it applies a sum or
// gives up; never hangs); every decrypted sum equals the plain sum of exactly
// the contributions the aggregator listed as used; exclusions are counted.
// A failing seed replays the same schedule (encryption noise is fresh).
#include <algorithm>
#include <cmath>
#include <map>
#include <queue>

#include <gtest/gtest.h>

#include "common/rng.h"
#include "fhe/keyset.h"
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

struct Event {
  Nanos at;
  uint64_t seq;
  int to;  // -1 = aggregator, else trainer index
  std::string from;
  uint64_t round;
  Bytes wire;                   // to the aggregator: SWSS contribution
  std::optional<SecureRoundOutcome> sum;  // to a trainer
  bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
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
  Rng rng(seed);
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
  std::priority_queue<Event, std::vector<Event>, std::greater<>> q;
  uint64_t seq = 0;
  auto deliver = [&](Nanos now, int to, Event e) {
    if (rng.Bernoulli(drop_p)) return;
    e.at = now + Millis(1) + static_cast<Nanos>(rng.Exponential(double(Millis(30))));
    e.seq = seq++;
    e.to = to;
    q.push(std::move(e));
  };
  auto encrypt = [&](fhe::SecureSumEncryptor& e, const std::vector<float>& v) {
    return fhe::SerializeEncryptedVector(*keys.group.eval.ctx, *e.Encrypt(v));
  };
  std::vector<TrainerState> ts(n);
  auto start_round = [&](int i, uint64_t r, Nanos now) {
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
        case 0: deliver(now, -1, {.from = names[i], .round = r, .wire = encrypt(enc, v)}); break;  // duplicate
        case 1: deliver(now, -1, {.from = names[i], .round = r, .wire = Bytes(300, 7)}); break;    // garbage
        case 2: deliver(now, -1, {.from = names[i], .round = r, .wire = encrypt(foreign, v)}); break;
        default: deliver(now, -1, {.from = names[i], .round = r + 50, .wire = encrypt(enc, v)}); break;
      }
    }
    sent[{r, names[i]}] = v;
    deliver(now, -1, {.from = names[i], .round = r, .wire = encrypt(enc, v)});
    // A peer that is not a trainer.
    if (i == 1) deliver(now, -1, {.from = "mallory", .round = r, .wire = encrypt(enc, v)});
  };
  SimResult res;
  Nanos now = 0;
  for (int i = 0; i < n; ++i) start_round(i, 1, Millis(static_cast<int64_t>(rng.Uniform(100))));
  const Nanos trainer_give_up = Millis(1300);
  const Nanos end = Seconds(600);
  while (now < end) {
    bool all_done = true;
    for (int i = 0; i < n; ++i) {
      if (i == crashed && ts[i].round >= 4) continue;
      all_done &= ts[i].round > static_cast<uint64_t>(rounds);
    }
    if (all_done) break;
    // Next event or a 10 ms tick.
    Nanos next = now + Millis(10);
    if (!q.empty() && q.top().at < next) next = q.top().at;
    now = next;
    while (!q.empty() && q.top().at <= now) {
      Event e = q.top();
      q.pop();
      if (e.to < 0) {
        (void)agg->OnContribution(e.from, e.round, e.wire, now);
        continue;
      }
      TrainerState& t = ts[e.to];
      if (e.to == crashed && t.round >= 4) continue;
      if (e.round < t.round) continue;  // a sum for a round this trainer gave up on
      t.kept.emplace(e.round, std::move(*e.sum));
      // As node/trainer/extension.cpp: apply the sum of the current round; a
      // sum of a later round means the current one's will not come (the
      // aggregator closes rounds in order): skip it and catch up.
      while (!t.kept.empty() && t.round <= static_cast<uint64_t>(rounds)) {
        auto it = t.kept.find(t.round);
        if (it == t.kept.end()) {
          if (t.kept.rbegin()->first <= t.round) break;
          ++t.gave_up;
          start_round(e.to, t.round + 1, now);
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
        if (std::find(o.used.begin(), o.used.end(), names[e.to]) == o.used.end()) ++t.not_included;
        start_round(e.to, t.round + 1, now);
      }
    }
    agg->OnTick(now);
    while (auto o = agg->TakeOutbox()) {
      if (!o->status.ok()) continue;  // trainers give up on their own
      for (int i = 0; i < n; ++i) deliver(now, i, {.from = "agg", .round = o->round, .sum = *o});
    }
    for (int i = 0; i < n; ++i) {
      if (i == crashed && ts[i].round >= 4) continue;
      if (ts[i].round <= static_cast<uint64_t>(rounds) && now - ts[i].sent_at > trainer_give_up) {
        ++ts[i].gave_up;
        start_round(i, ts[i].round + 1, now);
      }
    }
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
  for (uint64_t seed : {1, 2, 3}) {
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
  SimResult r = RunSim(7, 4, 8, 0.3);
  EXPECT_EQ(r.rounds_min, 8);
  EXPECT_LT(r.worst_error, 1e-3);
}

}  // namespace
}  // namespace swarm::train
