// The queen's scheduling rules, the pheromone formula and the scout, driven
// by hand (no network, no simulator).
#include "jobs/queen.h"

#include <cmath>
#include <iostream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "common/rng.h"
#include "jobs/scout.h"
#include "support/sim_seeds.h"

namespace swarm::jobs {
namespace {

crypto::Digest256 D(uint8_t b) {
  crypto::Digest256 d{};
  d.fill(b);
  return d;
}

TEST(Pheromone, EvaporatesReinforcesAndPenalizesByTheDocumentedFormula) {
  PheromoneParams p;
  p.tau_initial = 2;
  p.tau_min = 0.5;
  p.tau_max = 10;
  p.evaporation_per_second = 0.1;
  p.deposit = 1;
  p.miss_factor = 0.25;
  ASSERT_TRUE(p.Validate().ok());
  PheromoneTable t(p);
  t.Add(7, 1.0, 0);
  EXPECT_DOUBLE_EQ(t.Tau(7, 0), 2);
  // tau(t) = tau_min + (tau0 - tau_min) * exp(-rho t)
  EXPECT_NEAR(t.Tau(7, Seconds(10)), 0.5 + 1.5 * std::exp(-1.0), 1e-12);
  t.Reinforce(7, Seconds(10));
  const double after = 0.5 + 1.5 * std::exp(-1.0) + 1;
  EXPECT_NEAR(t.Tau(7, Seconds(10)), after, 1e-12);
  t.Penalize(7, Seconds(10));
  EXPECT_NEAR(t.Tau(7, Seconds(10)), after * 0.25, 1e-12);
  t.Penalize(7, Seconds(10));
  EXPECT_DOUBLE_EQ(t.Tau(7, Seconds(10)), 0.5);  // clamped at tau_min
  for (int i = 0; i < 100; ++i) t.Reinforce(7, Seconds(10));
  EXPECT_DOUBLE_EQ(t.Tau(7, Seconds(10)), 10);  // clamped at tau_max
  EXPECT_NEAR(t.Tau(7, Seconds(1e6)), 0.5, 1e-9);  // evaporates to tau_min
  // A scout hint scales the starting trail.
  t.Add(8, 3.0, 0);
  EXPECT_DOUBLE_EQ(t.Tau(8, 0), 6);
  p.miss_factor = 2;
  EXPECT_FALSE(p.Validate().ok());
}

Queen MakeQueen(QueenConfig c, uint32_t workers) {
  auto q = Queen::Create(c);
  EXPECT_TRUE(q.ok()) << q.status();
  for (uint32_t w = 0; w < workers; ++w) EXPECT_TRUE(q->AddWorker(w, w % 2 == 1, 1.0, 0).ok());
  return std::move(*q);
}

TEST(Queen, ReplicateAcceptsMajorityAndExcludesTheLiar) {
  QueenConfig c;
  c.f = 1;
  Queen q = MakeQueen(c, 3);
  ASSERT_TRUE(q.SubmitJob(1, 1, 0).ok());
  auto a = q.TakeOutbox();
  ASSERT_EQ(a.size(), 3u);  // 2f+1 distinct workers
  std::set<WorkerId> ws;
  for (const auto& x : a) ws.insert(x.worker);
  EXPECT_EQ(ws.size(), 3u);
  q.OnResult(a[0].worker, 1, 0, D(9), 1);  // the liar answers first
  EXPECT_FALSE(q.Accepted(1, 0));
  q.OnResult(a[1].worker, 1, 0, D(1), 2);
  EXPECT_FALSE(q.Accepted(1, 0));  // 1 vs 1: escalated, still needs f+1 = 2
  q.OnResult(a[2].worker, 1, 0, D(1), 3);
  ASSERT_TRUE(q.Accepted(1, 0));
  EXPECT_EQ(*q.Accepted(1, 0), D(1));
  auto p = *q.Progress(1);
  EXPECT_EQ(p.state, JobState::kDone);
  EXPECT_EQ(p.exclusions, 1u);
  EXPECT_EQ(q.counters().exclusions, 1u);
  for (const auto& w : q.Workers(3)) EXPECT_EQ(w.excluded, w.id == a[0].worker) << w.id;
  // The excluded worker gets no further tasks.
  ASSERT_TRUE(q.SubmitJob(2, 5, 4).ok());
  for (const auto& x : q.TakeOutbox()) EXPECT_NE(x.worker, a[0].worker);
}

TEST(Queen, QuorumOneAcceptsFirstResult) {
  QueenConfig c;
  c.f = 0;
  c.task_attempts_max = 4;
  Queen q = MakeQueen(c, 2);
  ASSERT_TRUE(q.SubmitJob(1, 2, 0).ok());
  auto a = q.TakeOutbox();
  ASSERT_EQ(a.size(), 2u);
  q.OnResult(a[0].worker, 1, a[0].task, D(3), 1);
  EXPECT_EQ(*q.Accepted(1, a[0].task), D(3));
}

TEST(Queen, DeadlineMissIsRescheduledAndPenalized) {
  QueenConfig c;
  c.f = 0;
  c.task_deadline = Seconds(1);
  c.task_attempts_max = 4;
  Queen q = MakeQueen(c, 2);
  ASSERT_TRUE(q.SubmitJob(1, 1, 0).ok());
  auto a = q.TakeOutbox();
  ASSERT_EQ(a.size(), 1u);
  const WorkerId slow = a[0].worker;
  EXPECT_EQ(q.NextDeadline(), Seconds(1));
  q.OnTick(Seconds(1));
  auto b = q.TakeOutbox();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NE(b[0].worker, slow);
  EXPECT_EQ(q.counters().deadline_misses, 1u);
  for (const auto& w : q.Workers(Seconds(1))) {
    if (w.id == slow) EXPECT_LT(w.tau, 1.0);
  }
  // The late answer still counts as a vote.
  q.OnResult(slow, 1, 0, D(4), Seconds(2));
  EXPECT_EQ(*q.Accepted(1, 0), D(4));
  q.OnResult(b[0].worker, 1, 0, D(4), Seconds(2));
  EXPECT_EQ(q.counters().results_matching, 2u);
}

TEST(Queen, DeadWorkerTasksAreRescheduled) {
  QueenConfig c;
  c.f = 1;
  Queen q = MakeQueen(c, 4);
  ASSERT_TRUE(q.SubmitJob(1, 1, 0).ok());
  auto a = q.TakeOutbox();
  ASSERT_EQ(a.size(), 3u);
  q.RemoveWorker(a[0].worker, 1);
  auto b = q.TakeOutbox();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(q.counters().rescheduled_dead, 1u);
  q.OnResult(a[1].worker, 1, 0, D(5), 2);
  q.OnResult(b[0].worker, 1, 0, D(5), 2);
  EXPECT_EQ(q.Progress(1)->state, JobState::kDone);
}

TEST(Queen, IgnoresUnsolicitedAndDuplicateResults) {
  QueenConfig c;
  c.f = 1;
  Queen q = MakeQueen(c, 4);
  ASSERT_TRUE(q.SubmitJob(1, 1, 0).ok());
  auto a = q.TakeOutbox();
  std::set<WorkerId> asked;
  for (const auto& x : a) asked.insert(x.worker);
  WorkerId other = 0;
  while (asked.count(other)) ++other;
  q.OnResult(other, 1, 0, D(1), 1);   // never asked
  q.OnResult(a[0].worker, 1, 0, D(1), 1);
  q.OnResult(a[0].worker, 1, 0, D(1), 1);  // duplicate
  q.OnResult(a[0].worker, 99, 0, D(1), 1);  // unknown job
  q.OnResult(a[0].worker, 1, 7, D(1), 1);   // unknown task
  EXPECT_EQ(q.counters().results_ignored, 4u);
  EXPECT_FALSE(q.Accepted(1, 0));
}

TEST(Queen, FailsAJobWhenNoDigestReachesTheQuorum) {
  QueenConfig c;
  c.f = 1;
  c.task_attempts_max = 5;
  Queen q = MakeQueen(c, 6);
  ASSERT_TRUE(q.SubmitJob(1, 1, 0).ok());
  uint8_t d = 1;
  for (int round = 0; round < 10 && q.Progress(1)->state == JobState::kRunning; ++round) {
    for (const auto& x : q.TakeOutbox()) q.OnResult(x.worker, 1, 0, D(d++), 1);  // everyone differs
  }
  auto p = *q.Progress(1);
  EXPECT_EQ(p.state, JobState::kFailed);
  EXPECT_NE(p.error.find("task_attempts_max"), std::string::npos) << p.error;
}

TEST(Queen, SampleModeAuditsAFractionWithGuardians) {
  QueenConfig c;
  c.mode = QuorumMode::kSample;
  c.audit_fraction = 0.5;
  c.worker_inflight_max = 1000;
  Queen q = MakeQueen(c, 4);  // workers 1 and 3 are guardians
  ASSERT_TRUE(q.SubmitJob(1, 200, 0).ok());
  std::map<TaskId, std::vector<WorkerId>> per_task;
  for (const auto& x : q.TakeOutbox()) per_task[x.task].push_back(x.worker);
  size_t audited = 0;
  for (const auto& [t, ws] : per_task) {
    ASSERT_GE(ws.size(), 1u);
    ASSERT_LE(ws.size(), 2u);
    if (ws.size() == 2) {
      ++audited;
      EXPECT_TRUE(ws[0] % 2 == 1 || ws[1] % 2 == 1) << "an audit includes a guardian";
    }
  }
  EXPECT_GT(audited, 60u);
  EXPECT_LT(audited, 140u);
}

TEST(Queen, HigherPheromoneGetsMoreTasks) {
  QueenConfig c;
  c.f = 0;
  c.worker_inflight_max = 100000;
  c.pheromone.evaporation_per_second = 0;
  auto q = *Queen::Create(c);
  ASSERT_TRUE(q.AddWorker(0, false, 1.0, 0).ok());
  ASSERT_TRUE(q.AddWorker(1, false, 4.0, 0).ok());  // scout says 4x faster
  ASSERT_TRUE(q.SubmitJob(1, 2000, 0).ok());
  size_t to1 = 0, total = 0;
  for (const auto& x : q.TakeOutbox()) {
    ++total;
    to1 += x.worker == 1;
  }
  ASSERT_EQ(total, 2000u);
  // p_1 = 4 / (4 + 1) ignoring the load discount; the discount pulls it towards 1/2.
  EXPECT_GT(to1, 1100u);
}

// Liars of one operator against honest workers of three operators, f = 1,
// every task answered in a random order. Returns {wrong acceptances, honest
// exclusions} over `tasks` tasks (a task left without output counts as wrong). `label_liars`: the liars carry their
// operator's name (as their grants say); otherwise each liar is taken for an
// operator of its own (what identities alone would give).
std::pair<int, int> RunLiarsOfOneOperator(bool label_liars, uint64_t seed, int tasks) {
  QueenConfig c;
  c.f = 1;
  c.seed = seed;
  c.worker_inflight_max = 1024;
  c.task_attempts_max = 64;
  auto q = Queen::Create(c);
  EXPECT_TRUE(q.ok());
  const std::set<WorkerId> liars = {3, 4, 5, 6};
  for (WorkerId w = 0; w < 7; ++w) {
    const std::string op = liars.count(w) ? (label_liars ? "mallory" : "") : "honest-" + std::to_string(w);
    EXPECT_TRUE(q->AddWorker(w, false, 1.0, 0, op).ok());
  }
  EXPECT_TRUE(q->SubmitJob(1, static_cast<uint32_t>(tasks), 0).ok());
  Rng rng(seed);
  Nanos now = 1;
  for (int round = 0; round < 64; ++round) {
    auto a = q->TakeOutbox();
    if (a.empty()) break;
    // Answer in a random order; liars agree on one wrong digest.
    for (size_t i = a.size(); i > 1; --i) std::swap(a[i - 1], a[rng.Uniform(i)]);
    for (const auto& x : a) q->OnResult(x.worker, x.job, x.task, liars.count(x.worker) ? D(0xEE) : D(0x11), ++now);
  }
  int wrong = 0, honest_excluded = 0;
  for (int t = 0; t < tasks; ++t) {
    auto d = q->Accepted(1, static_cast<TaskId>(t));
    if (label_liars) EXPECT_TRUE(d.has_value()) << "task " << t << " not accepted, seed " << seed;
    if (!d || *d != D(0x11)) ++wrong;  // a wrong output, or none (the job failed)
  }
  for (const auto& w : q->Workers(now)) honest_excluded += !liars.count(w.id) && w.excluded;
  return {wrong, honest_excluded};
}

TEST(Queen, LiarsOfOneOperatorNeverOutvoteAnHonestWorker) {
  int wrong = 0, excluded = 0, wrong_unlabelled = 0, excluded_unlabelled = 0;
  const std::vector<uint64_t> seeds = ::swarm::testing::SimSeeds(200);
  for (uint64_t seed : seeds) {
    SWARM_SIM_SEED_TRACE(seed);
    auto [w, e] = RunLiarsOfOneOperator(true, seed, 12);
    wrong += w;
    excluded += e;
    auto [wu, eu] = RunLiarsOfOneOperator(false, seed, 12);
    wrong_unlabelled += wu;
    excluded_unlabelled += eu;
  }
  std::cout << "4 liars of one operator, 3 honest operators, f=1, " << seeds.size() << " seed(s) x 12 tasks: with operators "
            << wrong << " wrong outputs, " << excluded << " honest exclusions; identities alone " << wrong_unlabelled
            << " wrong outputs, " << excluded_unlabelled << " honest exclusions\n";
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(excluded, 0);
  // The measure shows what the rule buys: without operators the Sybils win
  // (over the 200 seeds; one replayed seed need not show it).
  if (!::swarm::testing::SimSeedReplay()) {
    EXPECT_GT(wrong_unlabelled + excluded_unlabelled, 0);
  }
}

TEST(Queen, OneOperatorNeverHoldsTwoAssignmentsOfATask) {
  QueenConfig c;
  c.f = 1;
  auto q = Queen::Create(c);
  ASSERT_TRUE(q.ok());
  for (WorkerId w = 0; w < 6; ++w) ASSERT_TRUE(q->AddWorker(w, false, 1.0, 0, w < 4 ? "sybil" : "").ok());
  ASSERT_TRUE(q->SubmitJob(1, 1, 0).ok());
  auto a = q->TakeOutbox();
  ASSERT_EQ(a.size(), 3u);  // sybil + worker 4 + worker 5
  int sybil = 0;
  for (const auto& x : a) sybil += x.worker < 4;
  EXPECT_EQ(sybil, 1);
}

TEST(Scout, ThroughputHintsAreRelativeToTheMean) {
  ScoutConfig sc;
  sc.probe_interval = Seconds(10);
  sc.probe_timeout = Seconds(2);
  sc.ewma = 1.0;
  ASSERT_TRUE(sc.Validate().ok());
  Scout s(sc);
  s.AddWorker(0);
  s.AddWorker(1);
  s.AddWorker(2);
  s.OnTick(0);
  auto probes = s.TakeOutbox();
  ASSERT_EQ(probes.size(), 3u);
  s.OnProbeReply(0, probes[0].nonce, Millis(100));
  s.OnProbeReply(1, probes[1].nonce, Millis(300));
  s.OnProbeReply(1, probes[1].nonce, Millis(300));  // duplicate
  s.OnProbeReply(2, 12345, Millis(300));            // unknown nonce
  EXPECT_EQ(s.ignored_replies(), 2u);
  s.OnTick(Seconds(3));  // worker 2 timed out
  EXPECT_EQ(s.timeouts(), 1u);
  auto h = s.Hints();
  ASSERT_EQ(h.size(), 2u);
  EXPECT_NEAR(h[0] / h[1], 3.0, 1e-9);
  EXPECT_NEAR((h[0] + h[1]) / 2, 1.0, 1e-9);
  EXPECT_TRUE(s.TakeOutbox().empty());  // nothing due before probe_interval
  s.OnTick(Seconds(10));
  EXPECT_EQ(s.TakeOutbox().size(), 3u);  // every worker, the timed-out one included
}

}  // namespace
}  // namespace swarm::jobs
