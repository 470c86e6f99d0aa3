// Multi-host e2e (label netns): four peers in two regions, each on its own
// network namespace and address, 5 ms RTT inside a region and 80 ms between,
// started the way docs/operator.md "Across machines" says: an issuer, one key
// and grant per peer, one config file per peer with seeds, `swarm node
// --config`. Checks SWIM membership converges across the namespaces, that a
// partition between the regions makes each side see the other dead (and
// each side's own peers alive), and that a real Prometheus on the host
// (bearer token, deploy/prometheus rules) fires SwarmPartition. Healing is
// the second test: it failed until a peer refuted claims about itself from
// accusers it holds dead (membership/swim_state.cpp ApplyClaim).
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include <gtest/gtest.h>

#include "e2e/netns.h"
#include "e2e/process.h"
#include "e2e/prometheus_server.h"
#include "support/test_inputs.h"

namespace swarm::e2e {
namespace {

// Bounds (seconds) on a loaded 2-core machine. With default SWIM settings
// (T = 1 s, suspicion 4·log10(10)·T scaled by up to 1+health) a dead verdict
// takes ~5-30 s; healing needs a reconnect sync (every 5 s) plus refutation.
constexpr double kStartBoundS = 90;
constexpr double kConvergeBoundS = 90;
constexpr double kPartitionBoundS = 90;
constexpr double kHealBoundS = 120;
// SwarmPartition: `for: 30s`, scrape and evaluation every 5 s.
constexpr double kAlertBoundS = 120;

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Four peers (eu0 eu1 us0 us1) in their namespaces, converged, scraped by Prometheus.
class E2eNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    SWARM_REQUIRE_INPUT_IF(NetnsRun::Available(&why), why, "run the netns tests as root");
    SWARM_REQUIRE_INPUT(PrometheusServer::kBinary, "scripts/setup installs Debian's prometheus package");
    std::string error;
    run = NetnsRun::Create({"--peers", "eu:2,us:2", "--rtt", "eu=5", "--rtt", "us=5", "--rtt", "eu-us=80"},
                           &error);
    ASSERT_NE(run, nullptr) << error;
    dir = TempDir("netns");
    swarm = NetnsSwarm::Start(*run, dir, "[log]\nlevel = \"info\"\n", kStartBoundS, &error);
    ASSERT_NE(swarm, nullptr) << error;

    // Prometheus on the host (the bridge reaches every namespace; partitions are between peers only).
    std::ofstream(dir + "/prometheus.yml")
        << swarm->PrometheusConfig(std::string(SWARM_SOURCE_DIR) + "/deploy/prometheus/swarm_rules.yml");
    prom = std::make_unique<PrometheusServer>(dir + "/prometheus.yml", dir);
    ASSERT_TRUE(Eventually(kStartBoundS, [&] { return prom->QueryValue("sum(up{job=\"swarm\"})") == "4"; }))
        << "Prometheus did not scrape the 4 peers; its log:\n" << prom->log();

    for (const auto& p : swarm->peers()) {
      all.push_back(&p);
      (p.region == "eu" ? eu : us).push_back(&p);
    }
    std::string last;
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(Eventually(kConvergeBoundS, [&] { return swarm->AllSee(all, all, "alive", &last); }))
        << "no convergence across namespaces: " << last << "\n" << swarm->LogTail(*all[1]);
    std::cout << "[ figures ] 4 peers in 4 namespaces (5 ms RTT in a region, 80 ms between) all alive everywhere "
              << SecondsSince(t0) << " s after the last one was healthy" << std::endl;
  }

  void TearDown() override {
    prom.reset();
    swarm.reset();
    run.reset();
  }

  // Partitions eu from us and waits until each side holds the other dead.
  void PartitionUntilDead() {
    std::string out, last;
    ASSERT_TRUE(run->Do("partition", {"eu", "us"}, &out)) << out;
    const auto t0 = std::chrono::steady_clock::now();
    const bool split = Eventually(kPartitionBoundS, [&] {
      return swarm->AllSee(eu, us, "dead", &last) && swarm->AllSee(us, eu, "dead", &last);
    });
    ASSERT_TRUE(split) << "partition not seen: " << last;
    std::cout << "[ figures ] partition eu|us: every peer saw the other region dead after " << SecondsSince(t0)
              << " s" << std::endl;
    EXPECT_TRUE(swarm->AllSee(eu, eu, "alive", &last)) << last;
    EXPECT_TRUE(swarm->AllSee(us, us, "alive", &last)) << last;
  }

  void HealUntilAlive() {
    std::string out, last;
    ASSERT_TRUE(run->Do("heal", {}, &out)) << out;
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(Eventually(kHealBoundS, [&] { return swarm->AllSee(all, all, "alive", &last); }))
        << "not healed: " << last;
    std::cout << "[ figures ] healed: every peer saw every peer alive again after " << SecondsSince(t0) << " s"
              << std::endl;
  }

  void AlertFires() {
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(Eventually(kAlertBoundS, [&] { return prom->Firing().count("SwarmPartition/") == 1; }))
        << "SwarmPartition did not fire through Prometheus";
    std::cout << "[ figures ] SwarmPartition firing in Prometheus " << SecondsSince(t0)
              << " s after both sides held the other dead" << std::endl;
  }

  std::unique_ptr<NetnsRun> run;
  std::string dir;
  std::unique_ptr<NetnsSwarm> swarm;
  std::vector<const NetnsSwarm::Peer*> all, eu, us;
  std::unique_ptr<PrometheusServer> prom;
};

TEST_F(E2eNetns, APartitionBetweenRegionsIsSeenDeadOnBothSidesAndAlertedByPrometheus) {
  PartitionUntilDead();
  AlertFires();
  for (const auto& p : swarm->peers()) EXPECT_TRUE(ProcessExists(p.pid)) << p.name << " exited";
}

// FOUND BY THIS HARNESS, NOT FIXED HERE (membership/ is another engineer's
// area): once both sides of a partition hold each other dead, healing the
// network does not bring them back. In 2 of 3 runs (one healed after a 19 s
// partition in 10 s) every peer still held the other region dead 2-3 min
// after the heal, with 0 refutations, although TCP between them worked again.
// Scenario and commands: docs/reliability.md "Partition heal". Run with
// --gtest_also_run_disabled_tests once membership heals it.
TEST_F(E2eNetns, APartitionHealsOnceBothSidesHoldTheOtherDead) {
  PartitionUntilDead();
  HealUntilAlive();
  std::string last;
  EXPECT_TRUE(Eventually(kAlertBoundS, [&] { return prom->Firing().count("SwarmPartition/") == 0; }))
      << "SwarmPartition firing after the heal";
}

}  // namespace
}  // namespace swarm::e2e
