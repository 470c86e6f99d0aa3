// End-to-end: a real Prometheus server (Debian's `prometheus`) scrapes a local
// swarm from the prometheus.yml that `swarm up` writes, with the rules shipped
// in deploy/prometheus; a SIGKILLed peer makes SwarmPeerDown and
// SwarmMembersDead fire, seen through Prometheus's HTTP API.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"
#include "support/test_inputs.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kPromtool[] = "/usr/bin/promtool";
// Rules: for 30 s; scrape and evaluation every 5 s; start-up on a loaded machine.
constexpr double kReadyBoundS = 90;
constexpr double kFireBoundS = 150;

// Alerts in state "firing", as "Name/peer" strings.
std::set<std::string> Firing(const std::string& prom) {
  auto [code, body] = HttpGet(prom, "/api/v1/alerts");
  std::set<std::string> out;
  if (code != 200) return out;
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("data")) return out;
  for (const auto& a : j["data"]["alerts"]) {
    if (a.value("state", "") != "firing") continue;
    out.insert(a["labels"].value("alertname", "") + "/" + a["labels"].value("peer", ""));
  }
  return out;
}

TEST(E2ePrometheus, AKilledPeerFiresPeerDownAndMembersDeadThroughPrometheus) {
  SWARM_REQUIRE_INPUT(kPrometheus, "scripts/setup installs Debian's prometheus package");
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
  RunResult check = RunSwarm({kPromtool, "check", "config", dir + "/prometheus.yml"}, 60);
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;

  const std::string prom = "127.0.0.1:" + std::to_string(FreePort());
  const pid_t server = Spawn({kPrometheus, "--config.file=" + dir + "/prometheus.yml",
                              "--storage.tsdb.path=" + dir + "/prometheus-data", "--web.listen-address=" + prom,
                              "--log.level=warn"},
                             dir + "/prometheus.log");
  Stop stop_server{server};
  // Every peer scraped and up.
  const bool scraped = Eventually(kReadyBoundS, [&] {
    auto [code, body] = HttpGet(prom, "/api/v1/query?query=sum(up%7Bjob%3D%22swarm%22%7D)");
    if (code != 200) return false;
    const json j = json::parse(body, nullptr, false);
    return j.is_object() && !j["data"]["result"].empty() && j["data"]["result"][0]["value"][1] == "4";
  });
  ASSERT_TRUE(scraped) << "Prometheus did not scrape 4 peers up; its log:\n" << ReadFile(dir + "/prometheus.log");
  EXPECT_TRUE(Firing(prom).empty());

  const json victim = nodes[2];
  const std::string victim_id = victim["id"];
  ASSERT_EQ(kill(victim["pid"].get<int>(), SIGKILL), 0);
  std::set<std::string> firing;
  const bool fired = Eventually(kFireBoundS, [&] {
    firing = Firing(prom);
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
