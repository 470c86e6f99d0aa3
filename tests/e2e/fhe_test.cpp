// End-to-end: the four `swarm fhe` commands round-trip real data through a
// local swarm (`swarm up --nodes 4`: peer 0 is the queen, peers 1..3 workers,
// peer 3 lies with jobs.lie=true):
//   keygen → encrypt x.csv, y.csv → eval (2*x*y, rotate by 1, sum of slots)
//   → decrypt: values match plain arithmetic; the lying worker is excluded
//   (status JSON) and counted (swarm_jobs_worker_exclusions_total).
// Also: a circuit rotating without its Galois key is refused before any work
// (exit 2, reason named).
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

const char* kCircuit = R"(
scheme = "ckks"
inputs = ["x", "y"]
outputs = ["rot", "s"]
[[op]]
id = "xy"
op = "mul"
args = ["x", "y"]
[[op]]
id = "xyr"
op = "relinearize"
args = ["xy"]
[[op]]
id = "p"
op = "rescale"
args = ["xyr"]
[[op]]
id = "p2"
op = "mul_scalar"
args = ["p"]
value = 2
[[op]]
id = "q"
op = "rescale"
args = ["p2"]
[[op]]
id = "rot"
op = "rotate"
args = ["q"]
steps = 1
[[op]]
id = "s"
op = "sum"
args = ["q"]
)";

void Write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::vector<double> Decrypt(const std::string& keys, const std::string& ct) {
  RunResult r = RunSwarm({SwarmBinary(), "fhe", "decrypt", "--keys", keys, "--in", ct, "--json", "--count", "8"}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out, nullptr, false);
  if (!j.is_array()) {
    ADD_FAILURE() << "decrypt output is not a JSON array: " << r.out;
    return {};
  }
  return j.get<std::vector<double>>();
}

struct Up {
  std::string dir;
  pid_t pid = -1;
  json nodes;
  ~Up() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      if (WaitFor(pid, 20) == -1) kill(pid, SIGKILL);
    }
  }
};

void StartUp(Up& up, const std::string& root) {
  for (int attempt = 0; attempt < 3 && up.nodes.empty(); ++attempt) {
    up.dir = root + "/up" + std::to_string(attempt);
    const int base = FreePort();
    up.pid = Spawn({SwarmBinary(), "up", "--nodes", "4", "--base-port", std::to_string(base), "--dir", up.dir,
                    "--log-level", "warn", "--set", "jobs.role=worker", "--set", "jobs.quorum=3",
                    "--set", "jobs.task_deadline_ms=20000",
                    "--node-set", "0:jobs.role=queen,scout", "--node-set", "0:jobs.workers={peers}",
                    "--node-set", "0:jobs.scout_interval_ms=500",
                    "--node-set", "3:jobs.lie=true"},
                   root + "/up" + std::to_string(attempt) + ".log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(up.dir + "/cluster.json");
      if (in) {
        up.nodes = json::parse(in, nullptr, false)["nodes"];
        break;
      }
      if (WaitFor(up.pid, 0.1) != -1) {
        up.pid = -1;
        break;  // exited (port clash): retry on other ports
      }
    }
  }
  ASSERT_EQ(up.nodes.size(), 4u) << ReadFile(root + "/up0.log");
}

TEST(E2eFhe, KeygenEncryptEvalDecryptOnAThreeWorkerSwarmWithALiar) {
  const std::string root = TempDir("fhe");
  const std::string keys = root + "/keys";
  RunResult kg = RunSwarm({SwarmBinary(), "fhe", "keygen", "--scheme", "ckks", "--n", "8192", "--out", keys}, 120);
  ASSERT_EQ(kg.exit_code, 0) << kg.err;
  const std::vector<double> x = {1, 2, 3, 4}, y = {0.5, -1, 2, 1.5};
  Write(root + "/x.csv", "1\n2\n3\n4\n");
  Write(root + "/y.csv", "0.5\n-1\n2\n1.5\n");
  for (const char* v : {"x", "y"}) {
    RunResult en = RunSwarm({SwarmBinary(), "fhe", "encrypt", "--keys", keys, "--in", root + "/" + v + ".csv",
                             "--out", root + "/" + v + ".ct"}, 60);
    ASSERT_EQ(en.exit_code, 0) << en.err;
  }
  Write(root + "/c.toml", kCircuit);

  Up up;
  ASSERT_NO_FATAL_FAILURE(StartUp(up, root));
  const std::string queen = up.nodes[0]["grpc"];
  const std::string queen_http = up.nodes[0]["http"];
  const std::string liar = up.nodes[3]["grpc"];

  RunResult ev = RunSwarm({SwarmBinary(), "fhe", "eval", "--peer", queen, "--circuit", root + "/c.toml", "--keys", keys,
                           "--in", "x=" + root + "/x.ct", "--in", "y=" + root + "/y.ct", "--out",
                           "rot=" + root + "/rot.ct", "--out", "s=" + root + "/s.ct", "--timeout", "60"},
                          90);
  ASSERT_EQ(ev.exit_code, 0) << ev.err << "\nqueen log:\n" << ReadFile(up.dir + "/n0.log");
  EXPECT_NE(ev.err.find("tasks 1/1"), std::string::npos) << ev.err;

  const auto rot = Decrypt(keys, root + "/rot.ct");
  const auto s = Decrypt(keys, root + "/s.ct");
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
    auto [code, body] = HttpGet(queen_http, "/api/status");
    status = json::parse(body, nullptr, false);
    if (code == 200 && status.is_object() && status.contains("jobs")) {
      for (const auto& w : status["jobs"]["workers"]) {
        if (w["address"] == liar && w["excluded"] == true) excluded = true;
        if (w["address"] != liar) EXPECT_FALSE(w["excluded"].get<bool>()) << w.dump();
      }
    }
    if (!excluded) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(excluded) << status.dump();
  auto [mcode, metrics] = HttpGet(queen_http, "/metrics");
  EXPECT_EQ(mcode, 200);
  EXPECT_NE(metrics.find("swarm_jobs_worker_exclusions_total 1"), std::string::npos);
  EXPECT_NE(metrics.find("swarm_jobs_tasks_total{outcome=\"accepted\"} 1"), std::string::npos);

  // The queen's scout probes the workers (RunTask{probe}); workers report it.
  // A probe sent before a worker listened fails, so poll across a few periods.
  uint64_t probes = 0;
  for (int attempt = 0; attempt < 200 && probes == 0; ++attempt) {
    for (int i = 1; i <= 3; ++i) {
      auto [code, body] = HttpGet(up.nodes[i]["http"], "/api/status");
      json st = json::parse(body, nullptr, false);
      if (code == 200 && st.is_object() && st.contains("jobs")) probes += st["jobs"]["probes_run"].get<uint64_t>();
    }
    if (probes == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GE(probes, 1u);

  // Refused before any work: a rotation without its Galois key.
  std::string bad = kCircuit;
  bad.replace(bad.find("steps = 1"), 9, "steps = 5");
  Write(root + "/bad.toml", bad);
  RunResult refused = RunSwarm({SwarmBinary(), "fhe", "eval", "--peer", queen, "--circuit", root + "/bad.toml", "--keys",
                                keys, "--in", root + "/x.ct", "--in", root + "/y.ct", "--out", "rot=" + root + "/r2.ct",
                                "--out", "s=" + root + "/s2.ct"},
                               60);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("Galois key for a rotation by 5"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace swarm::e2e
