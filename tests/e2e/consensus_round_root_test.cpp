// End-to-end: trainer.require_committed_root. A PBFT committee of 4
// (`swarm up --nodes 4`, consensus on) and a `swarm train` run whose trainers
// commit every averaging round's result root (kind train.round, epoch =
// round) through the committee before applying it (or find the same root
// already committed by another trainer); and the same run against
// an unreachable committee fails with an error naming it, instead of hanging.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
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

const std::string kData = std::string(SWARM_SOURCE_DIR) + "/data/digits.csv.gz";

json ConsensusOf(const std::string& grpc) {
  RunResult r = RunSwarm({SwarmBinary(), "status", "--peer", grpc, "--json", "--retries", "0"}, 10);
  if (r.exit_code != 0) return json();
  json j = json::parse(r.out, nullptr, false);
  if (!j.is_object() || !j.contains("consensus")) return json();
  return j["consensus"];
}

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


// `join`: the committee's `swarm up --dir` (its issuer admits the trainers), "" for none.
std::vector<std::string> TrainArgs(const std::string& dir, int steps, const std::string& committee,
                                   int round_deadline_ms, const std::string& join = "") {
  std::vector<std::string> a = {SwarmBinary(), "train", "--dir", dir, "--set", "data.path=" + kData, "--set",
                                "train.trainers=4", "--set", "train.steps=" + std::to_string(steps),
                                "--expert-hosts", "0", "--round-deadline-ms", std::to_string(round_deadline_ms),
                                "--timeout", "150", "--node-set", "trainer.require_committed_root=true",
                                "--node-set", "trainer.consensus_peers=" + committee};
  if (!join.empty()) {
    a.push_back("--join");
    a.push_back(join);
  }
  return a;
}

TEST(E2eConsensusRoundRoot, TrainersApplyOnlyCommittedRoundRoots) {
  SWARM_REQUIRE_INPUT(kData, "the digits data set; run scripts/setup");
  const std::string dir = TempDir("pbft-round");
  json nodes;
  pid_t up = -1;
  StopOnExit stop_up{up};
  for (int attempt = 0; attempt < 3 && nodes.empty(); ++attempt) {
    if (up > 0) {  // an earlier attempt that never wrote cluster.json
      kill(up, SIGKILL);
      WaitFor(up, 10);
    }
    UseRunCredentials(dir);  // the tools below sign with this run's operator grant
    up = Spawn({SwarmBinary(), "up", "--nodes", "4", "--base-port", std::to_string(FreePort()), "--dir", dir,
                "--set", "consensus.enabled=true", "--set", "consensus.form_settle_ms=1000"},
               dir + "/up.log");
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
  json committee;
  ASSERT_TRUE(Eventually(60, [&] {
    for (const auto& n : nodes) {
      json c = ConsensusOf(n["grpc"]);
      if (c.value("state", "") != "running" || c.value("keys_known", 0) != 4) return false;
      committee = c["committee"];
    }
    return true;
  })) << ReadFile(dir + "/n0/node.log");

  const int steps = 5;
  RunResult r = RunSwarm(TrainArgs(dir + "/train", steps, committee.dump(), 1500, dir), 170);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // Every applied round's root is in the replicated ledger: per trainer
  // (author), train.round records with increasing rounds in 1..steps.
  RunResult show = RunSwarm({SwarmBinary(), "ledger", "show", "--peer", committee[2], "--json", "--count", "1000"}, 30);
  ASSERT_EQ(show.exit_code, 0) << show.err;
  std::map<std::string, std::vector<uint64_t>> rounds_by_author;
  const json shown = json::parse(show.out);
  for (const auto& rec : shown["records"]) {
    if (rec["kind"] == "train.round") rounds_by_author[rec["author"].get<std::string>()].push_back(rec["epoch"].get<uint64_t>());
  }
  // Trainers whose aggregates agree share one record per round (the first
  // committed; the others find it when their own append loses the race).
  EXPECT_GE(rounds_by_author.size(), 1u) << show.out;
  EXPECT_LE(rounds_by_author.size(), 4u) << show.out;
  std::set<uint64_t> distinct;
  size_t total = 0;
  for (const auto& [author, rounds] : rounds_by_author) {
    for (size_t i = 0; i < rounds.size(); ++i) {
      EXPECT_GE(rounds[i], 1u);
      EXPECT_LE(rounds[i], static_cast<uint64_t>(steps));
      if (i > 0) EXPECT_GT(rounds[i], rounds[i - 1]) << author;
      distinct.insert(rounds[i]);
    }
    total += rounds.size();
  }
  // Every round applied by some trainer has its root committed (a round all
  // trainers skipped for lack of quorum has none: allow one on a slow machine).
  EXPECT_GE(distinct.size(), static_cast<size_t>(steps - 1)) << show.out;
  EXPECT_GE(total, distinct.size());
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
}

TEST(E2eConsensusRoundRoot, AnUnreachableCommitteeFailsTheRunNamingIt) {
  SWARM_REQUIRE_INPUT(kData, "the digits data set; run scripts/setup");
  const std::string dir = TempDir("pbft-round-down");
  const std::string nobody = "127.0.0.1:" + std::to_string(FreePort());
  // Round deadline 300 ms: the committee gets 3 s per round.
  RunResult r = RunSwarm(TrainArgs(dir, 3, "[\"" + nobody + "\"]", 300), 170);
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  const std::string all = r.out + r.err;
  EXPECT_NE(all.find("result root not committed"), std::string::npos) << all;
  EXPECT_NE(all.find(nobody), std::string::npos) << all;
}

}  // namespace
}  // namespace swarm::e2e
