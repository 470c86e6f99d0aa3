// End-to-end: the four `swarm fhe` commands round-trip real data through a
// local swarm (`swarm up --nodes 4`: peer 0 is the queen, peers 1..3 workers,
// peer 3 lies with jobs.lie=true):
//   keygen → encrypt x.csv, y.csv → eval (2*x*y, rotate by 1, sum of slots)
//   → decrypt: values match plain arithmetic; the lying worker is excluded
//   (status JSON) and counted (swarm_jobs_worker_exclusions_total).
// Also: a circuit rotating without its Galois key is refused before any work
// (exit 2, reason named).
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fhe_fixtures.h"
#include "e2e/process.h"
#include "jobs/fixtures.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

TEST(E2eFhe, KeygenEncryptEvalDecryptOnAThreeWorkerSwarmWithALiar) {
  const std::string root = TempDir("fhe");
  const std::string keys = root + "/keys";
  ASSERT_NO_FATAL_FAILURE(MakeCkksKeys(keys, 8192, "pow2"));
  const std::vector<double> x = {1, 2, 3, 4}, y = {0.5, -1, 2, 1.5};
  ASSERT_NO_FATAL_FAILURE(EncryptValues(keys, root, "x", x));
  ASSERT_NO_FATAL_FAILURE(EncryptValues(keys, root, "y", y));
  const std::string circuit = jobs::testing::TwoXYRotateSum();
  WriteText(root + "/c.toml", circuit);

  JobsCluster up;
  ASSERT_NO_FATAL_FAILURE(up.Start(root, 4, "queen,scout",
                                   {"--set", "jobs.quorum=3", "--set", "jobs.task_deadline_ms=20000", "--node-set",
                                    "0:jobs.scout_interval_ms=500", "--node-set", "3:jobs.lie=true"}));
  const std::string queen = up.grpc(0);
  const std::string queen_http = up.http(0);
  const std::string liar = up.grpc(3);

  RunResult ev = RunSwarm({SwarmBinary(), "fhe", "eval", "--peer", queen, "--circuit", root + "/c.toml", "--keys", keys,
                           "--in", "x=" + root + "/x.ct", "--in", "y=" + root + "/y.ct", "--out",
                           "rot=" + root + "/rot.ct", "--out", "s=" + root + "/s.ct", "--timeout", "60"},
                          90);
  ASSERT_EQ(ev.exit_code, 0) << ev.err << "\nqueen log:\n" << up.log(0);
  EXPECT_NE(ev.err.find("tasks 1/1"), std::string::npos) << ev.err;

  const auto rot = DecryptValues(keys, root + "/rot.ct");
  const auto s = DecryptValues(keys, root + "/s.ct");
  ASSERT_GE(rot.size(), 3u);
  ASSERT_GE(s.size(), 2u);
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += 2 * x[i] * y[i];
  for (size_t i = 0; i + 1 < x.size(); ++i) EXPECT_NEAR(rot[i], 2 * x[i + 1] * y[i + 1], 1e-2) << i;
  EXPECT_NEAR(s[0], sum, 1e-2);
  EXPECT_NEAR(s[1], sum, 1e-2);

  // The liar's result disagrees with the accepted digest: excluded and counted
  // (its answer may land just after the job is accepted, so poll briefly).
  bool excluded = false;
  json status;
  for (int i = 0; i < 100 && !excluded; ++i) {
    status = PeerStatus(queen_http);
    if (status.is_object() && status.contains("jobs")) {
      for (const auto& w : status["jobs"]["workers"]) {
        if (w["address"] == liar && w["excluded"] == true) excluded = true;
        if (w["address"] != liar) {
          EXPECT_FALSE(w["excluded"].get<bool>()) << w.dump();
        }
      }
    }
    if (!excluded) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(excluded) << status.dump();
  auto [mcode, metrics] = HttpGet(queen_http, "/metrics");
  EXPECT_EQ(mcode, 200);
  EXPECT_NE(metrics.find("swarm_jobs_worker_exclusions_total 1"), std::string::npos);
  EXPECT_NE(metrics.find("swarm_jobs_tasks_total{outcome=\"accepted\"} 1"), std::string::npos);

  // The queen's scout probes the workers (RunTask{probe}) every 500 ms;
  // workers report it. A probe sent before a worker listened fails, so poll
  // across many periods (up to 20 s).
  uint64_t probes = 0;
  for (int attempt = 0; attempt < 200 && probes == 0; ++attempt) {
    for (int i = 1; i <= 3; ++i) {
      const json st = PeerStatus(up.http(i));
      if (st.is_object() && st.contains("jobs")) probes += st["jobs"]["probes_run"].get<uint64_t>();
    }
    if (probes == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(probes, 1u);

  // Refused before any work: a rotation without its Galois key.
  std::string bad = circuit;
  bad.replace(bad.find("steps = 1"), 9, "steps = 5");
  WriteText(root + "/bad.toml", bad);
  RunResult refused = RunSwarm({SwarmBinary(), "fhe", "eval", "--peer", queen, "--circuit", root + "/bad.toml", "--keys",
                                keys, "--in", root + "/x.ct", "--in", root + "/y.ct", "--out", "rot=" + root + "/r2.ct",
                                "--out", "s=" + root + "/s2.ct"},
                               60);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("Galois key for a rotation by 5"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace swarm::e2e
