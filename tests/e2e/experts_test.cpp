// End-to-end: experts hosted by 3 real `swarm` peers (ring.replicas = 2),
// driven through the remote Forward/Backward path by `swarm experts drive`;
// one host is SIGKILLed, calls fail over to the replicas, and the replicas of
// each expert keep agreeing (swarm_replica_agreement).
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"
#include "support/test_inputs.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

json StatusOf(const std::string& grpc) {
  RunResult r = RunSwarm({SwarmBinary(), "status", "--peer", grpc, "--json", "--retries", "0"}, 10);
  if (r.exit_code != 0) return json();
  return json::parse(r.out, nullptr, false);
}

// The driver: `swarm experts drive` when the CLI registers it, else the
// equivalent test tool built by tests/nn (same library function).
std::vector<std::string> DriverCommand() {
  if (RunSwarm({SwarmBinary(), "experts", "drive", "--help"}, 10).exit_code == 0) {
    return {SwarmBinary(), "experts", "drive"};
  }
  const std::string tool = std::string(SWARM_BINARY_DIR) + "/tests/nn/nn_experts_drive";
  if (std::ifstream(tool).good()) return {tool};
  return {};
}

json Drive(const std::vector<std::string>& driver, const std::vector<std::string>& peers,
           const std::vector<std::string>& extra) {
  std::vector<std::string> args = driver;
  for (const auto& p : peers) {
    args.push_back("--peer");
    args.push_back(p);
  }
  for (const char* a : {"--experts", "0,1,2,3", "--d-model", "16", "--batch", "16", "--deadline-ms",
                        "500", "--refresh-ms", "300", "--json"}) {
    args.push_back(a);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  const auto t0 = Clock::now();
  RunResult r = RunSwarm(args, 40);
  std::cout << "[ drive ] " << std::chrono::duration<double>(Clock::now() - t0).count() << " s"
            << std::endl;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The report is the last line of stdout.
  std::istringstream in(r.out);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '{') last = line;
  }
  json j = json::parse(last, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "no JSON report in: " << r.out << r.err;
  return j;
}

// swarm_replica_agreement{expert="N"} values on one peer.
std::map<std::string, double> Agreement(const std::string& http) {
  std::map<std::string, double> out;
  auto [code, body] = HttpGet(http, "/metrics");
  if (code != 200) return out;
  static const std::regex line(R"re(^swarm_replica_agreement\{expert="(\d+)"\} ([-0-9.eE+]+))re");
  std::istringstream in(body);
  std::string l;
  while (std::getline(in, l)) {
    std::smatch m;
    if (std::regex_search(l, m, line)) out[m[1]] = std::stod(m[2]);
  }
  return out;
}

TEST(E2eExperts, FailOverAfterSigkillAndReplicasAgree) {
  const std::vector<std::string> driver = DriverCommand();
  SWARM_REQUIRE_INPUT_IF(!driver.empty(), "an expert driver",
                         "`swarm experts drive` is not registered (cli/main.cpp) and "
                         "tests/nn/nn_experts_drive is not built");
  const std::string dir = TempDir("experts");
  json nodes;
  pid_t up = -1;
  for (int attempt = 0; attempt < 3 && nodes.empty(); ++attempt) {
    UseRunCredentials(dir);  // the tools below sign with this run's operator grant
    up = Spawn({SwarmBinary(), "up", "--nodes", "3", "--base-port", std::to_string(FreePort()), "--dir",
                dir, "--log-level", "info", "--set", "membership.probe_interval_ms=300", "--set",
                "membership.probe_timeout_ms=150", "--set", "experts.host=true", "--set",
                "ring.replicas=2", "--set", "ring.experts=4", "--set", "experts.d_model=16", "--set",
                "experts.hidden=16", "--set", "experts.optimizer=sgd", "--set", "experts.lr=0.05", "--set",
                "experts.agreement_interval_ms=300"},
               dir + "/up.log");
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      std::ifstream in(dir + "/cluster.json");
      if (in) {
        nodes = json::parse(in)["nodes"];
        break;
      }
      if (WaitFor(up, 0.1) != -1) break;
    }
  }
  ASSERT_EQ(nodes.size(), 3u) << ReadFile(dir + "/up.log");
  std::vector<std::string> grpc;
  for (const auto& n : nodes) grpc.push_back(n["grpc"]);

  // Wait until peer 0's ring gives every expert 2 owners.
  bool ready = false;
  for (auto until = Clock::now() + std::chrono::seconds(15); !ready && Clock::now() < until;) {
    json s = StatusOf(grpc[0]);
    ready = s.contains("ring") && s["ring"]["owners"].size() == 4;
    if (ready) {
      for (const auto& [e, o] : s["ring"]["owners"].items()) ready &= o.size() == 2;
    }
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(ready) << "ring never gave 4 experts 2 owners each";

  const json before = Drive(driver, grpc, {"--steps", "30"});
  ASSERT_TRUE(before.is_object());
  EXPECT_EQ(before["masked"], 0) << before.dump();
  EXPECT_LT(before["loss_last"].get<double>(), before["loss_first"].get<double>()) << before.dump();

  // Drive while a host is SIGKILLed: the driver's ring still names it until
  // membership declares it dead, so calls to it fail over to its replicas.
  std::vector<std::string> args = driver;
  for (const auto& p : grpc) {
    args.push_back("--peer");
    args.push_back(p);
  }
  for (const char* a : {"--experts", "0,1,2,3", "--d-model", "16", "--batch", "16", "--deadline-ms",
                        "500", "--refresh-ms", "300", "--steps", "0", "--seconds", "10", "--json"}) {
    args.push_back(a);
  }
  // The victim: the peer that does not hold expert 0, whose two replicas thus
  // both survive and must stay identical.
  json ring0 = StatusOf(grpc[0])["ring"]["owners"]["0"];
  ASSERT_EQ(ring0.size(), 2u);
  int victim_index = -1;
  std::vector<int> survivor_index;
  for (int i = 0; i < 3; ++i) {
    const std::string id = nodes[i]["id"];
    if (id != ring0[0] && id != ring0[1]) {
      victim_index = i;
    } else {
      survivor_index.push_back(i);
    }
  }
  ASSERT_GE(victim_index, 0);
  ASSERT_EQ(survivor_index.size(), 2u);
  const std::string log = dir + "/drive.log";
  const pid_t drive = Spawn(args, log);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const json victim = nodes[victim_index];
  ASSERT_EQ(kill(victim["pid"].get<int>(), SIGKILL), 0);
  const int status = WaitFor(drive, 40);
  ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(log);
  json after;
  {
    std::istringstream in(ReadFile(log));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '{') after = json::parse(line, nullptr, false);
    }
  }
  ASSERT_TRUE(after.is_object()) << ReadFile(log);
  std::cout << "[ figures ] drive across the SIGKILL: " << after.dump() << std::endl;
  EXPECT_GT(after["failovers"].get<int>(), 0) << "no call failed over";
  EXPECT_GT(after["failures"]["unavailable"].get<int>() + after["failures"]["deadline"].get<int>(), 0);
  // Fail-over, not masking: an expert is masked for at most a step or two.
  EXPECT_LE(after["max_consecutive_masked"].get<int>(), 2) << after.dump();
  EXPECT_LE(after["masked"].get<int>(), 4) << after.dump();
  EXPECT_EQ(after["backward_failed"], 0) << after.dump();
  EXPECT_LT(after["loss_last"].get<double>(), before["loss_first"].get<double>());

  // Replica agreement on the survivors: measured, and high.
  // Replica agreement on the survivors, polled (the gauges refresh every
  // agreement_interval_ms). Expert 0's replicas saw every step: identical.
  // Experts that moved to a new replica are held to a bound, not to 1: the new
  // replica copies parameters and step count but not the momentum buffer,
  // and Backward drives both replicas with the primary's output gradient
  // (open loop), so a small difference is not corrected and may grow
  // (measured 0.46-1.0 after ~250 steps; see docs/moe.md). A replica that
  // never copied its co-replica (independent initialisation) would sit near
  // 0 (cosine of unrelated vectors of this size), so > 0.25 is asserted.
  std::map<std::string, double> agreement;
  bool expert0_identical = false;
  for (auto until = Clock::now() + std::chrono::seconds(10); Clock::now() < until;) {
    agreement.clear();
    expert0_identical = true;
    int seen0 = 0;
    for (int i : survivor_index) {
      for (const auto& [e, v] : Agreement(nodes[i]["http"])) {
        agreement[nodes[i]["id"].get<std::string>() + "/expert " + e] = v;
        if (e == "0") {
          ++seen0;
          expert0_identical &= v > 0.9999;
        }
      }
    }
    expert0_identical &= seen0 == 2;
    if (expert0_identical && agreement.size() >= 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  for (const auto& [k, v] : agreement) {
    std::cout << "[ figures ] replica agreement " << k << " = " << v << std::endl;
    EXPECT_GT(v, 0.25) << k << ": the replicas are not copies of each other";
    EXPECT_LE(v, 1.0 + 1e-6) << k << ": not a cosine";
  }
  EXPECT_TRUE(expert0_identical) << "expert 0's surviving replicas diverged";
  EXPECT_GE(agreement.size(), 4u) << "agreement not measured for every hosted expert";
  kill(up, SIGTERM);
  WaitFor(up, 30);
}

}  // namespace
}  // namespace swarm::e2e
