// End-to-end: the PBFT committee orders the swarm's membership epochs.
// `swarm up --nodes 5` with consensus on every peer (a committee of 4 named
// in config, the fifth peer an observer). Once the committee runs, its members commit
// an epoch.membership record listing all five peers; after SIGKILL of a peer
// outside the committee, every live member's ledger ends with an
// epoch.membership record without it, all members report the same ledger
// head, and `swarm ledger show --peer` prints the member list.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

json ConsensusOf(const std::string& grpc) {
  RunResult r = RunSwarm({SwarmBinary(), "status", "--peer", grpc, "--json", "--retries", "0"}, 10);
  if (r.exit_code != 0) return json();
  json j = json::parse(r.out, nullptr, false);
  if (!j.is_object() || !j.contains("consensus")) return json();
  return j["consensus"];
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// Stops `swarm up` (and with it its peers) however the test ends, so a
// failed assertion does not leave a cluster running.
struct StopOnExit {
  pid_t& pid;
  ~StopOnExit() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      if (WaitFor(pid, 30) == -1) kill(pid, SIGKILL);
    }
  }
};


std::set<std::string> MemberAddresses(const json& c) {
  std::set<std::string> out;
  if (!c.is_object() || !c.contains("epochs")) return out;
  const json& m = c["epochs"]["membership"];
  if (!m.contains("members")) return out;
  for (const auto& e : m["members"]) out.insert(e.value("address", ""));
  return out;
}

const std::vector<std::string> kSettings = {
    "--set", "consensus.enabled=true",           "--set", "consensus.form_settle_ms=1500",
    "--set", "consensus.epoch_settle_ms=1500",   "--set", "consensus.request_timeout_ms=2000",
    "--set", "membership.probe_interval_ms=500", "--set", "membership.probe_timeout_ms=300"};

TEST(E2eConsensusEpoch, MembersCommitOneMembershipEpochPerChangeAndAgree) {
  const std::string dir = TempDir("pbft-epoch");
  json nodes;
  pid_t up = -1;
  StopOnExit stop_up{up};
  for (int attempt = 0; attempt < 3 && nodes.empty(); ++attempt) {
    if (up > 0) {  // an earlier attempt that never wrote cluster.json
      kill(up, SIGKILL);
      WaitFor(up, 10);
    }
    const int base = FreePort();
    UseRunCredentials(dir);  // the tools below sign with this run's operator grant
    std::vector<std::string> args = {SwarmBinary(), "up", "--nodes", "5", "--base-port",
                                     std::to_string(base), "--dir", dir, "--log-level", "info"};
    args.insert(args.end(), kSettings.begin(), kSettings.end());
    // A fixed committee (peers 0-3; peer 4 observes): a derived one could
    // differ between peers that started at different times on a loaded machine.
    std::string committee = "[";
    for (int i = 0; i < 4; ++i) committee += Quoted("127.0.0.1:" + std::to_string(base + i)) + (i < 3 ? "," : "]");
    args.push_back("--set");
    args.push_back("consensus.committee=" + committee);
    up = Spawn(args, dir + "/up.log");
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      std::ifstream in(dir + "/cluster.json");
      if (in) {
        nodes = json::parse(in)["nodes"];
        break;
      }
      if (WaitFor(up, 0.1) != -1) break;
    }
  }
  ASSERT_EQ(nodes.size(), 5u) << ReadFile(dir + "/up.log");
  std::set<std::string> all;
  for (const auto& n : nodes) all.insert(n["grpc"].get<std::string>());

  // The committee runs, and every member has committed the five-peer epoch.
  json committee;
  const bool formed = Eventually(90, [&] {
    committee = json();
    for (const auto& n : nodes) {
      json c = ConsensusOf(n["grpc"]);
      if (!c.is_object() || !c.contains("committee") || c["committee"].size() != 4) return false;
      if (committee.is_null()) committee = c["committee"];
      if (c["committee"] != committee) return false;
    }
    for (const auto& a : committee) {
      json c = ConsensusOf(a);
      if (c.value("state", "") != "running" || MemberAddresses(c) != all) return false;
    }
    return true;
  });
  ASSERT_TRUE(formed) << committee.dump() << "\n" << ReadFile(dir + "/n0/node.log");

  // SIGKILL the peer outside the committee.
  json victim;
  for (const auto& n : nodes) {
    bool member = false;
    for (const auto& a : committee) member |= (a == n["grpc"]);
    if (!member) victim = n;
  }
  ASSERT_TRUE(victim.is_object());
  const std::string gone = victim["grpc"];
  const uint64_t version_before = ConsensusOf(committee[0])["epochs"]["membership"].value("version", 0);
  ASSERT_GE(version_before, 1u);
  ASSERT_EQ(kill(victim["pid"].get<int>(), SIGKILL), 0);
  const auto killed_at = Clock::now();

  std::set<std::string> expected = all;
  expected.erase(gone);
  std::set<std::string> heads;
  json last;
  const bool moved = Eventually(90, [&] {
    heads.clear();
    for (const auto& a : committee) {
      last = ConsensusOf(a);
      if (MemberAddresses(last) != expected) return false;
      heads.insert(last.value("ledger_head", ""));
    }
    return heads.size() == 1;
  });
  const double epoch_s = std::chrono::duration<double>(Clock::now() - killed_at).count();
  std::cout << "[ figures ] SIGKILL of a peer to an epoch.membership without it on all 4 members: " << epoch_s
            << " s (epoch_settle_ms 1500, membership probe 500 ms)" << std::endl;
  json first;  // the node record of committee[0]
  for (const auto& n : nodes) {
    if (n["grpc"] == committee[0]) first = n;
  }
  ASSERT_TRUE(first.is_object());
  EXPECT_TRUE(moved) << last.dump() << "\n" << ReadFile(dir + "/" + first["id"].get<std::string>() + "/node.log");
  const json c0 = ConsensusOf(committee[0]);
  EXPECT_GT(c0["epochs"]["membership"].value("version", 0), version_before);
  EXPECT_GE(c0["epochs"]["membership"].value("version", 0), 2) << c0.dump();

  // The ledger: exactly one epoch.membership record per version (versions
  // 1, 2, ... in order: several members proposed each change, one was kept),
  // the last one without the killed peer, shown with its member list.
  RunResult show = RunSwarm({SwarmBinary(), "ledger", "show", "--peer", committee[1], "--json", "--count", "1000"}, 30);
  ASSERT_EQ(show.exit_code, 0) << show.err << show.out;
  json recs = json::parse(show.out)["records"];
  uint64_t expect_version = 1;
  json last_epoch;
  for (const auto& r : recs) {
    if (r["kind"] != "epoch.membership") continue;
    EXPECT_EQ(r["epoch"].get<uint64_t>(), expect_version) << show.out;
    ++expect_version;
    last_epoch = r;
  }
  ASSERT_TRUE(last_epoch.is_object()) << show.out;
  ASSERT_TRUE(last_epoch.contains("body")) << last_epoch.dump();
  EXPECT_EQ(last_epoch["body"].size(), 4u) << last_epoch.dump();
  for (const auto& line : last_epoch["body"]) EXPECT_EQ(line.get<std::string>().find(gone), std::string::npos);
  RunResult text = RunSwarm({SwarmBinary(), "ledger", "show", "--peer", committee[1]}, 30);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("epoch.membership"), std::string::npos) << text.out;

  // Every member's chain verifies and the heads agree.
  std::vector<std::string> verify = {SwarmBinary(), "ledger", "verify"};
  for (const auto& a : committee) {
    verify.push_back("--peer");
    verify.push_back(a);
  }
  RunResult v;
  EXPECT_TRUE(Eventually(30, [&] {
    v = RunSwarm(verify, 30);
    return v.exit_code == 0;
  })) << v.out << v.err;

  // The metric.
  auto [code, metrics] = HttpGet(first["http"].get<std::string>(), "/metrics");
  EXPECT_EQ(code, 200);
  EXPECT_NE(metrics.find("swarm_consensus_epoch{kind=\"membership\"}"), std::string::npos);

}

}  // namespace
}  // namespace swarm::e2e
