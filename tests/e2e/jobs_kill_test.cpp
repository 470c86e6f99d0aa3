// End-to-end: a job survives a worker dying mid-task. `swarm up --nodes 4`:
// peer 0 is the queen (quorum 1: one worker per task, so the job can only
// finish if the queen re-schedules), peers 1..3 are workers. The task is real
// work that takes seconds (x*y, then a chain of rotations by 1 and -1, each a
// key switch at N = 8192). The test waits until the queen reports a worker
// holding the task, checks that worker has not finished it, SIGKILLs it, and
// then expects: `swarm fhe eval` succeeds, the output decrypts to x*y, and the
// queen's status and metrics show the failure and the re-assignment.
// Everything that happens "eventually" is polled with generous deadlines.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fhe_fixtures.h"
#include "e2e/process.h"
#include "jobs/fixtures.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Rotation pairs in the task: ~2-4 s of evaluation on an idle core.
constexpr int kRotationRounds = 500;

// The worker entry of the queen's status JSON for `address` (null if absent).
json WorkerEntry(const json& queen_status, const std::string& address) {
  if (!queen_status.is_object() || !queen_status.contains("jobs")) return json();
  for (const auto& w : queen_status["jobs"]["workers"]) {
    if (w["address"] == address) return w;
  }
  return json();
}

// The value of a counter sample line `name{labels} value` in /metrics text (0 if absent).
double MetricValue(const std::string& text, const std::string& series) {
  const auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return 0;
  return std::stod(text.substr(pos + series.size() + 2));
}

TEST(E2eJobsKill, WorkerKilledWhileHoldingATaskIsRescheduledAndTheJobCompletes) {
  const std::string root = TempDir("jobskill");
  const std::string keys = root + "/keys";
  ASSERT_NO_FATAL_FAILURE(MakeCkksKeys(keys, 8192, "1,-1"));
  const std::vector<double> x = {1.5, -2, 3, 0.25}, y = {2, 4, -1, 8};
  ASSERT_NO_FATAL_FAILURE(EncryptValues(keys, root, "x", x));
  ASSERT_NO_FATAL_FAILURE(EncryptValues(keys, root, "y", y));
  WriteText(root + "/c.toml", jobs::testing::MulThenRotationChain(kRotationRounds));

  // The deadline is long so that only the kill (not a slow, loaded machine)
  // makes the queen re-schedule; a failed call is noticed at once.
  JobsCluster up;
  ASSERT_NO_FATAL_FAILURE(
      up.Start(root, 4, "queen", {"--set", "jobs.quorum=1", "--set", "jobs.task_deadline_ms=180000"}));
  const std::string queen_http = up.http(0);

  const pid_t eval = Spawn({SwarmBinary(), "fhe", "eval", "--peer", up.grpc(0), "--circuit", root + "/c.toml", "--keys",
                            keys, "--in", "x=" + root + "/x.ct", "--in", "y=" + root + "/y.ct", "--out",
                            "r=" + root + "/r.ct", "--timeout", "240"},
                           root + "/eval.log");
  ASSERT_GT(eval, 0);
  const auto submitted_at = Clock::now();

  // Wait until the queen has handed the task to a worker.
  int victim = -1;
  json status;
  const auto assigned_by = Clock::now() + std::chrono::seconds(90);
  while (victim < 0 && Clock::now() < assigned_by) {
    status = PeerStatus(queen_http);
    for (int i = 1; i <= 3 && victim < 0; ++i) {
      const json w = WorkerEntry(status, up.grpc(i));
      if (w.is_object() && w["inflight"].get<int>() >= 1) victim = i;
    }
    if (victim < 0) {
      ASSERT_EQ(WaitFor(eval, 0.05), -1) << "fhe eval exited before any task was assigned:\n"
                                         << ReadFile(root + "/eval.log");
    }
  }
  ASSERT_GE(victim, 1) << "no worker got the task; queen status: " << status.dump() << "\nqueen log:\n" << up.log(0);
  // The victim holds the task and has not finished it (a task takes seconds).
  json victim_status;
  for (int i = 0; i < 20 && !(victim_status.is_object() && victim_status.contains("jobs")); ++i) {
    victim_status = PeerStatus(up.http(victim));  // up to 2 s each on a loaded machine
  }
  ASSERT_TRUE(victim_status.is_object() && victim_status.contains("jobs")) << "victim not answering";
  ASSERT_EQ(victim_status["jobs"]["tasks_run"].get<uint64_t>(), 0u) << victim_status.dump();
  const pid_t victim_pid = up.nodes[victim]["pid"].get<pid_t>();
  ASSERT_EQ(kill(victim_pid, SIGKILL), 0);
  const auto killed_at = Clock::now();

  const int eval_status = WaitFor(eval, 240);
  std::fprintf(stderr, "jobs_kill_test: worker n%d killed %.1f s after the job was submitted; the job finished %.1f s later\n",
               victim, std::chrono::duration<double>(killed_at - submitted_at).count(),
               std::chrono::duration<double>(Clock::now() - killed_at).count());
  ASSERT_NE(eval_status, -1) << "fhe eval did not finish:\n" << ReadFile(root + "/eval.log");
  ASSERT_TRUE(WIFEXITED(eval_status) && WEXITSTATUS(eval_status) == 0)
      << ReadFile(root + "/eval.log") << "\nqueen log:\n" << up.log(0);
  EXPECT_NE(ReadFile(root + "/eval.log").find("tasks 1/1"), std::string::npos) << ReadFile(root + "/eval.log");

  const auto r = DecryptValues(keys, root + "/r.ct");
  ASSERT_GE(r.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(r[i], x[i] * y[i], 1e-2) << i;

  // The queen shows the re-scheduling: a failed (or expired) assignment on
  // the victim and an accepted result from another worker.
  status = PeerStatus(queen_http);
  ASSERT_TRUE(status.is_object() && status.contains("jobs")) << status.dump();
  const json& q = status["jobs"]["queen"];
  std::fprintf(stderr, "jobs_kill_test: queen counters %s\n", q.dump().c_str());
  EXPECT_EQ(q["jobs_done"], 1) << q.dump();
  EXPECT_GE(q["assignments"].get<uint64_t>(), 2u) << q.dump();
  EXPECT_GE(q["failures"].get<uint64_t>() + q["deadline_misses"].get<uint64_t>() +
                q["rescheduled_dead"].get<uint64_t>(),
            1u)
      << q.dump();
  const json dead = WorkerEntry(status, up.grpc(victim));
  ASSERT_TRUE(dead.is_object()) << status.dump();
  EXPECT_GE(dead["missed"].get<uint64_t>(), 1u) << dead.dump();
  EXPECT_EQ(dead["matched"].get<uint64_t>(), 0u) << dead.dump();
  uint64_t matched_elsewhere = 0;
  for (int i = 1; i <= 3; ++i) {
    if (i == victim) continue;
    const json w = WorkerEntry(status, up.grpc(i));
    if (w.is_object()) matched_elsewhere += w["matched"].get<uint64_t>();
  }
  EXPECT_EQ(matched_elsewhere, 1u) << status.dump();

  auto [code, metrics] = HttpGet(queen_http, "/metrics");
  ASSERT_EQ(code, 200);
  EXPECT_EQ(MetricValue(metrics, "swarm_jobs_tasks_total{outcome=\"accepted\"}"), 1) << metrics;
  EXPECT_GE(MetricValue(metrics, "swarm_jobs_tasks_total{outcome=\"failed\"}") +
                MetricValue(metrics, "swarm_jobs_tasks_total{outcome=\"deadline_missed\"}") +
                MetricValue(metrics, "swarm_jobs_tasks_total{outcome=\"rescheduled_dead\"}"),
            1)
      << metrics;
}

}  // namespace
}  // namespace swarm::e2e
