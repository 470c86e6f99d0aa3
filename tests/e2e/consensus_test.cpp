// End-to-end: a PBFT committee of 4 real `swarm node` processes ordering the
// replicated ledger. Appends go through a backup; the primary is SIGKILLed
// and a view change lets appends go on; the killed peer restarts on its data
// directory and catches up by state transfer; every member then reports the
// same head hash (`swarm ledger verify --peer ...` on all four).
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
using Clock = std::chrono::steady_clock;

json ConsensusOf(const std::string& grpc) {
  RunResult r = RunSwarm({SwarmBinary(), "status", "--peer", grpc, "--json", "--retries", "0"}, 10);
  if (r.exit_code != 0) return json();
  json j = json::parse(r.out, nullptr, false);
  if (!j.is_object() || !j.contains("consensus")) return json();
  return j["consensus"];
}

template <typename Pred>
bool Eventually(double seconds, Pred pred) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return pred();
}

RunResult Append(const std::string& peer, const std::string& text) {
  return RunSwarm({SwarmBinary(), "ledger", "append", "--peer", peer, "--text", text, "--kind", "e2e",
                   "--timeout-ms", "30000", "--json"},
                  40);
}

const std::vector<std::string> kSettings = {
    "--set", "consensus.enabled=true",          "--set", "consensus.checkpoint_interval=4",
    "--set", "consensus.log_window=8",          "--set", "consensus.request_timeout_ms=1000",
    "--set", "consensus.view_change_timeout_ms=1000", "--set", "consensus.form_settle_ms=1000",
    "--set", "membership.probe_interval_ms=500",
    "--set", "membership.probe_timeout_ms=200",
    // Exact ledger indices below: no epoch records (consensus_epoch_test.cpp covers them).
    "--set", "consensus.epochs=false"};

TEST(E2eConsensus, AppendsSurviveKillingThePrimaryAndTheRestartedReplicaCatchesUp) {
  const auto t0 = Clock::now();
  const std::string dir = TempDir("pbft");
  json nodes;
  pid_t up = -1;
  for (int attempt = 0; attempt < 3 && nodes.empty(); ++attempt) {
    UseRunCredentials(dir);  // the tools below sign with this run's operator grant
    std::vector<std::string> args = {SwarmBinary(), "up", "--nodes", "4", "--base-port",
                                     std::to_string(FreePort()), "--dir", dir, "--log-level", "info"};
    args.insert(args.end(), kSettings.begin(), kSettings.end());
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
  ASSERT_EQ(nodes.size(), 4u) << ReadFile(dir + "/up.log");

  // The committee forms from the membership view and every member knows every key.
  json committee;
  ASSERT_TRUE(Eventually(30, [&] {
    for (const auto& n : nodes) {
      json c = ConsensusOf(n["grpc"]);
      if (!c.is_object() || c.value("state", "") != "running" || c.value("keys_known", 0) != 4) return false;
      committee = c["committee"];
    }
    return true;
  })) << ReadFile(dir + "/n0/node.log");
  ASSERT_EQ(committee.size(), 4u);
  const std::string primary = committee[0];
  const std::string backup = committee[1];
  const std::string backup2 = committee[2];

  for (int i = 0; i < 5; ++i) {
    RunResult r = Append(backup, "before-" + std::to_string(i));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(json::parse(r.out)["index"], i);
  }

  // SIGKILL the primary.
  json victim;
  for (const auto& n : nodes) {
    if (n["grpc"] == primary) victim = n;
  }
  ASSERT_TRUE(victim.is_object());
  ASSERT_EQ(kill(victim["pid"].get<int>(), SIGKILL), 0);
  const auto killed_at = Clock::now();
  for (int i = 0; i < 3; ++i) {
    RunResult r = Append(i % 2 ? backup : backup2, "after-" + std::to_string(i));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_EQ(json::parse(r.out)["index"], 5 + i);
    EXPECT_GE(json::parse(r.out)["view"].get<int>(), 1);
  }
  const double view_change_s = std::chrono::duration<double>(Clock::now() - killed_at).count();
  json c1 = ConsensusOf(backup);
  EXPECT_GE(c1.value("view", 0), 1);
  EXPECT_NE(c1.value("primary", ""), primary);

  // More appends while it is down push the stable checkpoint past its log.
  for (int i = 3; i < 10; ++i) {
    RunResult r = Append(backup, "after-" + std::to_string(i));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }

  // Restart the killed peer on the same data directory.
  const std::string id = victim["id"];
  std::vector<std::string> args = {SwarmBinary(), "node", "--id", id, "--grpc-listen", primary,
                                   "--data-dir", dir + "/" + id, "--seed", backup, "--log-level", "info"};
  args.insert(args.end(), kSettings.begin(), kSettings.end());
  // The admission keys `swarm up` gave it: the others admit grant holders only.
  std::string swarm_id = ReadFile(dir + "/admission/swarm_id");
  while (!swarm_id.empty() && (swarm_id.back() == '\n' || swarm_id.back() == '\r')) swarm_id.pop_back();
  ASSERT_FALSE(swarm_id.empty()) << "swarm up wrote no " << dir << "/admission/swarm_id";
  for (const std::string& kv : {"node.key_file=" + dir + "/" + id + "/node.key", "admission.swarm_id=" + swarm_id,
                                "admission.issuer_key_files=[\"" + dir + "/admission/issuer.pub\"]",
                                "admission.grant_file=" + dir + "/" + id + "/admission.grant"}) {
    args.push_back("--set");
    args.push_back(kv);
  }
  const pid_t again = Spawn(args, dir + "/restart.log");
  const auto restarted_at = Clock::now();
  json cr;
  const bool caught_up = Eventually(30, [&] {
    cr = ConsensusOf(primary);
    return cr.is_object() && cr.value("ledger_size", 0) == 15;
  });
  const double catch_up_s = std::chrono::duration<double>(Clock::now() - restarted_at).count();
  EXPECT_TRUE(caught_up) << cr.dump() << "\n" << ReadFile(dir + "/restart.log");
  ASSERT_TRUE(cr.is_object());
  // Its durable log ended at view 0; the stable checkpoint moved past it while
  // it was down, so it must have installed a snapshot fetched from peers.
  EXPECT_GE(cr["counters"].value("state_transfers", 0), 1) << cr.dump();

  // One more append through the restarted peer, then all four heads agree.
  RunResult last = Append(primary, "after-restart");
  EXPECT_EQ(last.exit_code, 0) << last.err << last.out;
  std::vector<std::string> verify = {SwarmBinary(), "ledger", "verify"};
  for (const auto& a : committee) {
    verify.push_back("--peer");
    verify.push_back(a);
  }
  RunResult v;
  EXPECT_TRUE(Eventually(15, [&] {
    v = RunSwarm(verify, 20);
    return v.exit_code == 0;
  })) << v.out << v.err;
  EXPECT_NE(v.out.find("all 4 members agree on head"), std::string::npos) << v.out;
  RunResult vc = RunSwarm({SwarmBinary(), "ledger", "verify", "--cluster", dir, "--json"}, 20);
  EXPECT_EQ(vc.exit_code, 0) << vc.out << vc.err;
  json vj = json::parse(vc.out, nullptr, false);
  ASSERT_TRUE(vj.is_object()) << vc.out;
  EXPECT_TRUE(vj["agree"].get<bool>());
  for (const auto& m : vj["members"]) EXPECT_EQ(m["size"], 16) << m.dump();
  std::cout << "[ figures ] view change after SIGKILL of the primary: 3 appends in " << view_change_s
            << " s; restarted replica caught up in " << catch_up_s << " s ("
            << cr["counters"].value("state_transfers", 0) << " snapshot(s) installed, "
            << cr["counters"].value("entries_fetched", 0) << " batches fetched); whole test "
            << std::chrono::duration<double>(Clock::now() - t0).count() << " s" << std::endl;

  kill(again, SIGTERM);
  WaitFor(again, 10);
  kill(up, SIGTERM);
  WaitFor(up, 30);
}

TEST(E2eConsensus, AppendWithoutQuorumExitsOneNamingTheDeadline) {
  const std::string dir = TempDir("pbft-noquorum");
  // A committee naming three addresses nobody listens on: no quorum ever.
  const int base = FreePort();
  std::string committee = "[\"127.0.0.1:" + std::to_string(base) + "\"";
  for (int i = 1; i < 4; ++i) committee += ",\"127.0.0.1:" + std::to_string(FreePort()) + "\"";
  committee += "]";
  const pid_t node = Spawn({SwarmBinary(), "node", "--id", "solo", "--grpc-listen", "127.0.0.1:" + std::to_string(base),
                            "--data-dir", dir + "/solo", "--set", "consensus.enabled=true", "--set",
                            "consensus.committee=" + committee, "--set", "membership.enabled=false", "--set",
                            "admission.open=true"},
                           dir + "/solo.log");
  ASSERT_TRUE(Eventually(20, [&] { return ConsensusOf("127.0.0.1:" + std::to_string(base)).is_object(); }))
      << ReadFile(dir + "/solo.log");
  RunResult r = RunSwarm({SwarmBinary(), "ledger", "append", "--peer", "127.0.0.1:" + std::to_string(base),
                          "--text", "x", "--timeout-ms", "3000"},
                         30);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("no committed append within 3000 ms"), std::string::npos) << r.err;
  kill(node, SIGTERM);
  WaitFor(node, 10);
}

}  // namespace
}  // namespace swarm::e2e
