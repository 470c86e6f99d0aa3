// End-to-end: a real Prometheus server (Debian's `prometheus`) scrapes a local
// swarm from the prometheus.yml that `swarm up` writes, with the rules shipped
// in deploy/prometheus; a SIGKILLed peer makes SwarmPeerDown and
// SwarmMembersDead fire, seen through Prometheus's HTTP API.
#include <signal.h>

#include <filesystem>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"
#include "e2e/prometheus_server.h"
#include "support/test_inputs.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

// Rules: for 30 s; scrape and evaluation every 5 s; start-up on a loaded machine.
constexpr double kReadyBoundS = 90;
constexpr double kFireBoundS = 150;

TEST(E2ePrometheus, AKilledPeerFiresPeerDownAndMembersDeadThroughPrometheus) {
  SWARM_REQUIRE_INPUT(PrometheusServer::kBinary, "scripts/setup installs Debian's prometheus package");
  const std::string rules = std::string(SWARM_SOURCE_DIR) + "/deploy/prometheus/swarm_rules.yml";
  const std::string dir = TempDir("prom");
  UseRunCredentials(dir);
  const pid_t up = Spawn({SwarmBinary(), "up", "--nodes", "4", "--base-port", std::to_string(FreePort()), "--dir",
                          dir, "--log-level", "warn", "--prometheus-rules", rules, "--set",
                          "membership.probe_interval_ms=500", "--set", "membership.probe_timeout_ms=200"},
                         dir + "/up.log");
  struct Stop {
    pid_t pid;
    ~Stop() {
      if (pid > 0) {
        kill(pid, SIGTERM);
        if (WaitFor(pid, 20) == -1) {
          kill(pid, SIGKILL);
          WaitFor(pid, 5);
        }
      }
    }
  } stop_up{up};
  ASSERT_TRUE(Eventually(kReadyBoundS, [&] { return std::filesystem::exists(dir + "/prometheus.yml"); }))
      << ReadFile(dir + "/up.log");
  const json nodes = json::parse(ReadFile(dir + "/cluster.json"))["nodes"];
  ASSERT_EQ(nodes.size(), 4u);
  const std::string config = ReadFile(dir + "/prometheus.yml");
  for (const auto& n : nodes) {
    EXPECT_NE(config.find("\"" + n["http"].get<std::string>() + "\""), std::string::npos) << config;
  }
  // The written config is valid for Prometheus itself (and loads the rules).
  RunResult check = RunSwarm({PrometheusServer::kPromtool, "check", "config", dir + "/prometheus.yml"}, 60);
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;

  PrometheusServer prom(dir + "/prometheus.yml", dir);
  // Every peer scraped and up.
  ASSERT_TRUE(Eventually(kReadyBoundS, [&] { return prom.QueryValue("sum(up{job=\"swarm\"})") == "4"; }))
      << "Prometheus did not scrape 4 peers up; its log:\n" << prom.log();
  EXPECT_TRUE(prom.Firing().empty());

  const json victim = nodes[2];
  const std::string victim_id = victim["id"];
  ASSERT_EQ(kill(victim["pid"].get<int>(), SIGKILL), 0);
  std::set<std::string> firing;
  const bool fired = Eventually(kFireBoundS, [&] {
    firing = prom.Firing();
    return firing.count("SwarmPeerDown/" + victim_id) && firing.count("SwarmMembersDead/" + nodes[0]["id"].get<std::string>());
  });
  std::string seen;
  for (const auto& f : firing) seen += f + " ";
  ASSERT_TRUE(fired) << "alerts firing: " << seen;
  // The victim is down for Prometheus too: not a partition.
  EXPECT_EQ(firing.count("SwarmPartition/"), 0u) << seen;
}

}  // namespace
}  // namespace swarm::e2e
