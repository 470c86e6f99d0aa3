// Dispatch policy (evo/dispatch.h) driven by a fake transport in virtual time.
#include "evo/dispatch.h"

#include <cmath>
#include <functional>
#include <map>

#include <gtest/gtest.h>

namespace swarm::evo {
namespace {

double Truth(size_t job) { return 10.0 + job; }

// Behaviour of one fake evaluator: returns the result for a job, or nullopt
// to never answer (a dead peer).
using Behaviour = std::function<std::optional<StatusOr<double>>(size_t job)>;

struct Harness {
  Dispatcher d;
  std::map<std::string, Behaviour> remote;
  std::map<std::string, uint64_t> jobs_sent;
  Nanos now = 0;
  uint64_t local_runs = 0;

  explicit Harness(DispatchConfig cfg, uint64_t seed = 1) : d(cfg, seed) {}

  // Runs one batch to completion; every request is answered (or not) within
  // 1 ms of virtual time.
  std::vector<StatusOr<double>> Run(size_t n, int polls_max = 10000) {
    d.StartBatch(n, now);
    for (int i = 0; i < polls_max && !d.done(); ++i) {
      auto w = d.Poll(now);
      for (const auto& r : w.remote) {
        jobs_sent[r.evaluator] += r.jobs.size();
        std::vector<StatusOr<double>> out;
        bool silent = false;
        for (size_t j : r.jobs) {
          auto res = remote.at(r.evaluator)(j);
          if (!res) {
            silent = true;
            break;
          }
          out.push_back(*res);
        }
        if (!silent) d.OnRemoteReply(r.id, out, now);
      }
      for (size_t j : w.local) {
        ++local_runs;
        d.OnLocalResult(j, Truth(j));
      }
      for (size_t j : w.checks) d.OnCheckResult(j, Truth(j));
      now += Millis(100);
    }
    EXPECT_TRUE(d.done());
    return d.TakeOutbox();
  }
};

Behaviour Honest() {
  return [](size_t j) { return std::optional<StatusOr<double>>(Truth(j)); };
}

void ExpectTruth(const std::vector<StatusOr<double>>& r) {
  for (size_t j = 0; j < r.size(); ++j) {
    ASSERT_TRUE(r[j].ok()) << j << ": " << r[j].status();
    EXPECT_EQ(*r[j], Truth(j)) << j;
  }
}

TEST(Dispatch, SharesAreProportionalToFreeCapacity) {
  DispatchConfig cfg;
  cfg.pipeline_depth = 1;
  cfg.spot_check_fraction = 0;
  Harness h(cfg);
  ASSERT_TRUE(h.d.AddEvaluator("a", 1).ok());
  ASSERT_TRUE(h.d.AddEvaluator("b", 3).ok());
  h.d.StartBatch(4, 0);
  auto w = h.d.Poll(0);
  std::map<std::string, size_t> got;
  for (const auto& r : w.remote) got[r.evaluator] += r.jobs.size();
  EXPECT_EQ(got["a"], 1u);
  EXPECT_EQ(got["b"], 3u);
  EXPECT_TRUE(w.local.empty());

  // Over many batches, b (capacity 3) gets about 3x the jobs of a.
  Harness many(cfg, 7);
  ASSERT_TRUE(many.d.AddEvaluator("a", 1).ok());
  ASSERT_TRUE(many.d.AddEvaluator("b", 3).ok());
  many.remote["a"] = Honest();
  many.remote["b"] = Honest();
  for (int i = 0; i < 50; ++i) ExpectTruth(many.Run(3));
  const double ratio = double(many.jobs_sent["b"]) / many.jobs_sent["a"];
  EXPECT_GT(ratio, 2.0);
  EXPECT_LT(ratio, 4.5);
  EXPECT_EQ(many.local_runs, 0u);
  EXPECT_EQ(many.d.counters().remote_results, 150u);
}

TEST(Dispatch, PreferLocalSendsJobsToTheLocalEvaluator) {
  DispatchConfig cfg;
  cfg.prefer_local = 1.0;
  cfg.local_slots = 2;
  Harness h(cfg);
  ASSERT_TRUE(h.d.AddEvaluator("a", 8).ok());
  h.remote["a"] = Honest();
  h.d.StartBatch(5, 0);
  auto w = h.d.Poll(0);
  EXPECT_EQ(w.local.size(), 2u);  // bounded by local slots; "prefer" is work-conserving:
  ASSERT_EQ(w.remote.size(), 1u);  // the rest goes to the free evaluator
  EXPECT_EQ(w.remote[0].jobs.size(), 3u);

  Harness half([] {
    DispatchConfig c;
    c.prefer_local = 0.5;
    c.local_slots = 1000;
    c.spot_check_fraction = 0;
    return c;
  }());
  ASSERT_TRUE(half.d.AddEvaluator("a", 1000).ok());
  half.remote["a"] = Honest();
  ExpectTruth(half.Run(1000));
  EXPECT_GT(half.local_runs, 400u);
  EXPECT_LT(half.local_runs, 600u);
}

TEST(Dispatch, NoEvaluatorFallsBackToLocal) {
  Harness h(DispatchConfig{});
  ExpectTruth(h.Run(20));
  EXPECT_EQ(h.local_runs, 20u);
  EXPECT_EQ(h.d.counters().fallback_local, 20u);
}

TEST(Dispatch, TimeoutRetriesOnAnotherEvaluatorThenFallsBackLocally) {
  DispatchConfig cfg;
  cfg.evaluation_timeout = Millis(250);
  cfg.retries = 1;
  cfg.spot_check_fraction = 0;
  cfg.failures_to_down = 100;  // keep the dead one "usable" to exercise retries
  Harness h(cfg);
  ASSERT_TRUE(h.d.AddEvaluator("dead", 4).ok());
  ASSERT_TRUE(h.d.AddEvaluator("live", 1).ok());
  h.remote["dead"] = [](size_t) { return std::optional<StatusOr<double>>(); };
  h.remote["live"] = Honest();
  ExpectTruth(h.Run(30));
  EXPECT_GT(h.d.counters().timeouts, 0u);
  EXPECT_GT(h.d.counters().failed_evaluations, 0u);
  EXPECT_GT(h.jobs_sent["live"], 0u);

  // Only dead evaluators: every job ends up local after its retries.
  Harness all_dead(cfg);
  ASSERT_TRUE(all_dead.d.AddEvaluator("dead", 4).ok());
  all_dead.remote["dead"] = [](size_t) { return std::optional<StatusOr<double>>(); };
  ExpectTruth(all_dead.Run(6));
  EXPECT_EQ(all_dead.local_runs, 6u);
  EXPECT_EQ(all_dead.d.counters().fallback_local, 6u);
  EXPECT_EQ(all_dead.jobs_sent["dead"], 12u);  // first try + 1 retry each
}

TEST(Dispatch, ConsecutiveFailuresPutAnEvaluatorInCooldown) {
  DispatchConfig cfg;
  cfg.failures_to_down = 2;
  cfg.down_cooldown = Seconds(1);
  cfg.spot_check_fraction = 0;
  Harness h(cfg);
  ASSERT_TRUE(h.d.AddEvaluator("a", 1).ok());
  h.d.StartBatch(4, 0);
  auto w = h.d.Poll(0);
  ASSERT_EQ(w.remote.size(), 1u);
  h.d.OnRemoteFailure(w.remote[0].id, absl::UnavailableError("connection refused"), 0);
  w = h.d.Poll(1);
  ASSERT_EQ(w.remote.size(), 1u);
  h.d.OnRemoteFailure(w.remote[0].id, absl::UnavailableError("connection refused"), 1);
  EXPECT_EQ(h.d.usable_evaluators(2), 0u);
  EXPECT_TRUE(h.d.evaluators(2)[0].down);
  w = h.d.Poll(2);  // nobody usable: local fall-back
  EXPECT_TRUE(w.remote.empty());
  EXPECT_EQ(w.local.size(), 1u);  // one local slot
  EXPECT_EQ(h.d.usable_evaluators(Seconds(2)), 1u);
  EXPECT_EQ(h.d.NextDeadline(), 1 + Seconds(1));
}

TEST(Dispatch, NonFiniteAndPerGenomeErrorsAreFailedEvaluationsAndRetried) {
  DispatchConfig cfg;
  cfg.spot_check_fraction = 0;
  Harness h(cfg);
  ASSERT_TRUE(h.d.AddEvaluator("nan", 4).ok());
  ASSERT_TRUE(h.d.AddEvaluator("ok", 4).ok());
  h.remote["nan"] = [](size_t j) {
    if (j % 2) return std::optional<StatusOr<double>>(StatusOr<double>(absl::InvalidArgumentError("bad")));
    return std::optional<StatusOr<double>>(std::nan(""));
  };
  h.remote["ok"] = Honest();
  ExpectTruth(h.Run(40));
  EXPECT_GT(h.d.counters().non_finite, 0u);
  EXPECT_GT(h.d.counters().failed_evaluations, h.d.counters().non_finite);
}

TEST(Dispatch, ALyingEvaluatorIsExcludedAndItsResultsRedone) {
  DispatchConfig cfg;
  cfg.spot_check_fraction = 0.2;
  Harness h(cfg, 3);
  ASSERT_TRUE(h.d.AddEvaluator("liar", 4).ok());
  ASSERT_TRUE(h.d.AddEvaluator("honest", 4).ok());
  h.remote["liar"] = [](size_t j) { return std::optional<StatusOr<double>>(Truth(j) * 2 + 1); };
  h.remote["honest"] = Honest();
  for (int b = 0; b < 5; ++b) ExpectTruth(h.Run(64));
  EXPECT_EQ(h.d.counters().exclusions, 1u);
  EXPECT_GE(h.d.counters().spot_check_mismatches, 1u);
  const uint64_t sent_to_liar = h.jobs_sent["liar"];
  ExpectTruth(h.Run(64));
  EXPECT_EQ(h.jobs_sent["liar"], sent_to_liar);  // never again
  bool excluded = false;
  for (const auto& e : h.d.evaluators(h.now)) excluded |= e.id == "liar" && e.excluded;
  EXPECT_TRUE(excluded);
}

TEST(Dispatch, HonestEvaluatorsPassSpotChecks) {
  DispatchConfig cfg;
  cfg.spot_check_fraction = 0.5;
  Harness h(cfg);
  ASSERT_TRUE(h.d.AddEvaluator("a", 2).ok());
  ASSERT_TRUE(h.d.AddEvaluator("b", 2).ok());
  h.remote["a"] = Honest();
  h.remote["b"] = Honest();
  ExpectTruth(h.Run(100));
  EXPECT_GT(h.d.counters().spot_checks, 20u);
  EXPECT_EQ(h.d.counters().spot_check_mismatches, 0u);
  EXPECT_EQ(h.d.counters().exclusions, 0u);
}

TEST(Dispatch, LateAndMalformedRepliesAreHandled) {
  DispatchConfig cfg;
  cfg.evaluation_timeout = Millis(10);
  cfg.spot_check_fraction = 0;
  Harness h(cfg);
  ASSERT_TRUE(h.d.AddEvaluator("a", 1).ok());
  h.d.StartBatch(1, 0);
  auto w = h.d.Poll(0);
  ASSERT_EQ(w.remote.size(), 1u);
  const uint64_t first = w.remote[0].id;
  w = h.d.Poll(Millis(20));  // timed out, re-sent
  ASSERT_EQ(w.remote.size(), 1u);
  EXPECT_EQ(h.d.counters().timeouts, 1u);
  h.d.OnRemoteReply(first, {99.0}, Millis(21));  // late: ignored
  EXPECT_FALSE(h.d.done());
  h.d.OnRemoteReply(w.remote[0].id, {1.0, 2.0}, Millis(21));  // wrong count: request fails
  EXPECT_FALSE(h.d.done());
  w = h.d.Poll(Millis(22));
  ASSERT_EQ(w.remote.size() + w.local.size(), 1u);
  if (!w.remote.empty()) h.d.OnRemoteReply(w.remote[0].id, {Truth(0)}, Millis(23));
  else h.d.OnLocalResult(w.local[0], Truth(0));
  ASSERT_TRUE(h.d.done());
  ExpectTruth(h.d.TakeOutbox());
}

TEST(Dispatch, ConfigIsValidated) {
  DispatchConfig cfg;
  cfg.prefer_local = 1.5;
  EXPECT_NE(cfg.Validate().message().find("prefer_local"), std::string::npos);
  cfg = {};
  cfg.batch_genomes_max = 0;
  EXPECT_FALSE(cfg.Validate().ok());
  Dispatcher d(DispatchConfig{}, 1);
  EXPECT_FALSE(d.AddEvaluator("x", 0).ok());
}

}  // namespace
}  // namespace swarm::evo
