// End-to-end: SWIM membership over gRPC between real `swarm node` processes.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

// Protocol period 500 ms, direct-ack wait 200 ms, suspicion multiplier 4:
// the longest suspicion is 6·4·log10(10)·0.5 s = 12 s; one period to be
// probed and a few to disseminate give the 20 s bound checked here.
constexpr double kDeadBoundSeconds = 20.0;

json StatusOf(const std::string& grpc) {
  RunResult r = RunSwarm({SwarmBinary(), "status", "--peer", grpc, "--json", "--retries", "0"}, 10);
  if (r.exit_code != 0) return json();
  return json::parse(r.out, nullptr, false);
}

std::string StateIn(const json& status, const std::string& id) {
  if (!status.is_object() || !status.contains("members")) return "";
  for (const auto& m : status["members"]) {
    if (m["id"] == id) return m["state"];
  }
  return "";
}

TEST(E2eMembership, EightPeersSeeAKilledPeerDeadWithinTheBoundAndItRejoins) {
  const std::string dir = TempDir("members");
  json nodes;
  pid_t up = -1;
  for (int attempt = 0; attempt < 5 && nodes.empty(); ++attempt) {
    UseRunCredentials(dir);  // the tools below sign with this run's operator grant
    up = Spawn({SwarmBinary(), "up", "--nodes", "8", "--base-port", std::to_string(FreePort()),
                "--dir", dir, "--log-level", "warn", "--set", "membership.probe_interval_ms=500",
                "--set", "membership.probe_timeout_ms=200"},
               dir + "/up.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(dir + "/cluster.json");
      if (in) {
        nodes = json::parse(in)["nodes"];
        break;
      }
      if (WaitFor(up, 0.1) != -1) break;
    }
  }
  ASSERT_EQ(nodes.size(), 8u) << ReadFile(dir + "/up.log");

  // Everyone converges on 8 alive members.
  const auto converge_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool converged = false;
  while (!converged && std::chrono::steady_clock::now() < converge_deadline) {
    converged = true;
    for (const auto& n : nodes) {
      json s = StatusOf(n["grpc"]);
      int alive = 0;
      if (s.contains("members")) {
        for (const auto& m : s["members"]) alive += m["state"] == "alive";
      }
      converged &= alive == 8;
    }
    if (!converged) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ASSERT_TRUE(converged) << "8 peers did not all see each other alive";

  const json victim = nodes[3];
  const std::string victim_id = victim["id"];
  ASSERT_EQ(kill(victim["pid"].get<int>(), SIGKILL), 0);
  const auto t0 = std::chrono::steady_clock::now();
  std::set<std::string> seen_dead;
  while (seen_dead.size() < 7 &&
         std::chrono::steady_clock::now() < t0 + std::chrono::duration<double>(kDeadBoundSeconds)) {
    for (const auto& n : nodes) {
      if (n["id"] == victim_id || seen_dead.count(n["id"])) continue;
      if (StateIn(StatusOf(n["grpc"]), victim_id) == "dead") seen_dead.insert(n["id"]);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ figures ] " << seen_dead.size() << " of 7 peers saw the SIGKILLed peer dead after "
            << took << " s (bound " << kDeadBoundSeconds << " s)" << std::endl;
  EXPECT_EQ(seen_dead.size(), 7u);

  // Its experts moved: no ring owner list names it any more.
  json s0 = StatusOf(nodes[0]["grpc"]);
  ASSERT_TRUE(s0.contains("ring"));
  for (const auto& [expert, owners] : s0["ring"]["owners"].items()) {
    for (const auto& o : owners) EXPECT_NE(o, victim_id) << "expert " << expert;
  }

  // Restart it with the same state directory and the admission keys `swarm up`
  // gave it (membership admits grant holders only): it rejoins with a higher incarnation.
  std::vector<std::string> args = {SwarmBinary(), "node", "--id", victim_id, "--grpc-listen", victim["grpc"],
                                   "--data-dir", dir + "/" + victim_id, "--seed", nodes[0]["grpc"],
                                   "--log-level", "warn", "--set", "membership.probe_interval_ms=500",
                                   "--set", "membership.probe_timeout_ms=200"};
  const json up_status = StatusOf(nodes[0]["grpc"]);
  if (up_status.contains("admission") && !up_status["admission"].value("swarm_id", "").empty()) {
    for (const std::string& kv :
         {"node.key_file=" + dir + "/" + victim_id + "/node.key",
          "admission.swarm_id=" + up_status["admission"].value("swarm_id", ""),
          "admission.issuer_key_files=[\"" + dir + "/admission/issuer.pub\"]",
          "admission.grant_file=" + dir + "/" + victim_id + "/admission.grant"}) {
      args.push_back("--set");
      args.push_back(kv);
    }
  }
  const pid_t again = Spawn(args, dir + "/restart.log");
  bool rejoined = false;
  const auto rejoin_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!rejoined && std::chrono::steady_clock::now() < rejoin_deadline) {
    json s = StatusOf(nodes[0]["grpc"]);
    if (s.contains("members")) {
      for (const auto& m : s["members"]) {
        if (m["id"] == victim_id && m["state"] == "alive" && m["incarnation"].get<int>() > 0) {
          rejoined = true;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(rejoined) << ReadFile(dir + "/restart.log");
  kill(again, SIGTERM);
  WaitFor(again, 10);
  kill(up, SIGTERM);
  WaitFor(up, 30);
}

}  // namespace
}  // namespace swarm::e2e
