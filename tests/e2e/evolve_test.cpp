// End-to-end: `swarm evolve` with three `swarm node` evaluator peers
// (evo.evaluator=true) on loopback.
//  1. One evaluator is SIGKILLed mid-run: the run completes and solves XOR
//     (its evaluations are retried elsewhere or fall back locally).
//  2. One evaluator lies (evo.lie=true): spot checks catch it, it is excluded
//     and counted, and the run still solves XOR.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"
#include "e2e/prometheus_text.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

struct Evaluator {
  std::string grpc, http, dir;
  pid_t pid = -1;
};

// Starts one evaluator peer and waits for its node.json (written once serving).
Evaluator StartEvaluator(const std::string& root, int i, const std::vector<std::string>& extra) {
  Evaluator e;
  e.dir = root + "/e" + std::to_string(i);
  e.grpc = "127.0.0.1:" + std::to_string(FreePort());
  std::vector<std::string> args = {SwarmBinary(), "node", "--id", "e" + std::to_string(i),
                                   "--grpc-listen", e.grpc, "--data-dir", e.dir, "--log-level", "warn",
                                   "--set", "membership.enabled=false", "--set", "evo.evaluator=true",
                                   // bare peers without grants: dev mode, or they refuse every call (closed)
                                   "--set", "admission.open=true"};
  for (const auto& x : extra) {
    args.push_back("--set");
    args.push_back(x);
  }
  e.pid = Spawn(args, root + "/e" + std::to_string(i) + ".log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(e.dir + "/node.json");
    if (in) {
      json j = json::parse(in, nullptr, false);
      if (j.is_object()) {
        e.http = j["http"];
        return e;
      }
    }
    if (!ProcessExists(e.pid)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "evaluator " << i << " did not start: " << ReadFile(root + "/e" + std::to_string(i) + ".log");
  return e;
}

void StopAll(std::vector<Evaluator>& es) {
  for (auto& e : es) {
    if (e.pid > 0 && ProcessExists(e.pid)) {
      kill(e.pid, SIGTERM);
      if (WaitFor(e.pid, 10) == -1) kill(e.pid, SIGKILL);
    }
  }
}

// Stops the evaluators (and the evolve process, if any) on every exit path.
struct Cleanup {
  std::vector<Evaluator>& es;
  pid_t evolve = -1;
  ~Cleanup() {
    if (evolve > 0 && ProcessExists(evolve)) {
      kill(evolve, SIGKILL);
      WaitFor(evolve, 5);
    }
    StopAll(es);
  }
};

// The last line of `log` that parses as a JSON object.
json LastJson(const std::string& log) {
  json out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_object()) out = j;
  }
  return out;
}

std::vector<std::string> EvolveArgs(const std::vector<Evaluator>& es, const std::string& seed) {
  std::vector<std::string> args = {SwarmBinary(), "evolve", "--task", "xor", "--json", "--seed", seed,
                                   "--generations", "300", "--timeout-ms", "3000", "--islands", "2"};
  for (const auto& e : es) {
    args.push_back("--peer");
    args.push_back(e.grpc);
  }
  return args;
}

TEST(E2eEvolve, RunCompletesAndSolvesXorWhenAnEvaluatorIsKilledMidRun) {
  const std::string root = TempDir("evolve-kill");
  std::vector<Evaluator> es;
  Cleanup cleanup{es};
  // 20 ms of simulated latency per request keeps the run long enough
  // (several seconds) to kill a peer in the middle of it.
  for (int i = 0; i < 3; ++i)
    es.push_back(StartEvaluator(root, i, {"evo.capacity=2", "evo.latency_ms=20"}));
  const std::string log = root + "/evolve.log";
  const std::string metrics_addr = "127.0.0.1:" + std::to_string(FreePort());
  auto args = EvolveArgs(es, "3");
  args.push_back("--metrics-listen");
  args.push_back(metrics_addr);
  const pid_t evolve = Spawn(args, log);
  cleanup.evolve = evolve;

  // Kill evaluator 1 once generation 3 has been reported.
  bool killed_mid_run = false;
  std::string coordinator_metrics;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(log).find(" gen 3 ") != std::string::npos) {
      coordinator_metrics = HttpGet(metrics_addr, "/metrics").second;
      killed_mid_run = ProcessExists(evolve);
      ASSERT_EQ(kill(es[1].pid, SIGKILL), 0);
      WaitFor(es[1].pid, 5);
      break;
    }
    if (!ProcessExists(evolve)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int status = WaitFor(evolve, 50);
  const std::string out = ReadFile(log);
  StopAll(es);
  ASSERT_NE(status, -1) << "swarm evolve did not finish:\n" << out;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  ASSERT_TRUE(killed_mid_run) << "the run ended before the kill; make it longer\n" << out;
  const json r = LastJson(out);
  ASSERT_TRUE(r.is_object()) << out;
  for (const char* k : {"task", "solved", "generations", "evaluations", "best_fitness"})
    EXPECT_TRUE(r.contains(k)) << k;
  EXPECT_EQ(r["task"], "xor");
  EXPECT_TRUE(r["solved"].get<bool>()) << out;
  EXPECT_GT(r["failed_evaluations"].get<uint64_t>(), 0u) << "the killed peer's requests must fail";
  EXPECT_GT(r["remote_evaluations"].get<uint64_t>(), 0u);
  // The coordinator's metrics, scraped mid-run.
  EXPECT_EQ(CheckPrometheusText(coordinator_metrics), "");
  for (const char* m : {"swarm_evo_evaluations_total{", "swarm_evo_best_fitness{island=\"0\"}",
                        "swarm_evo_best_fitness{island=\"1\"}", "swarm_evo_species{island=\"0\"}",
                        "swarm_evo_migrations_total", "swarm_evo_evaluator_exclusions_total",
                        "swarm_crdt_sync_bytes_total", "swarm_evo_evaluators_alive 3"}) {
    EXPECT_NE(coordinator_metrics.find(m), std::string::npos) << m << "\n" << coordinator_metrics;
  }
  std::cout << "[ figures ] killed 1 of 3 evaluators at generation 3: solved after "
            << r["generations"] << " generations, " << r["evaluations"] << " evaluations, "
            << r["failed_evaluations"] << " failed attempts, " << r["fallback_local"]
            << " local fall-backs" << std::endl;
}

TEST(E2eEvolve, ALyingEvaluatorIsExcludedAndCounted) {
  const std::string root = TempDir("evolve-liar");
  std::vector<Evaluator> es;
  Cleanup cleanup{es};
  es.push_back(StartEvaluator(root, 0, {"evo.capacity=2"}));
  es.push_back(StartEvaluator(root, 1, {"evo.capacity=2", "evo.lie=true"}));
  es.push_back(StartEvaluator(root, 2, {"evo.capacity=2"}));
  auto args = EvolveArgs(es, "5");
  args.push_back("--spot-check");
  args.push_back("0.1");
  const RunResult run = RunSwarm(args, 50);
  // The liar served requests and says so on its /metrics.
  auto [code, metrics] = HttpGet(es[1].http, "/metrics");
  StopAll(es);
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const json r = LastJson(run.out);
  ASSERT_TRUE(r.is_object()) << run.out;
  EXPECT_TRUE(r["solved"].get<bool>()) << run.out;
  EXPECT_EQ(r["evaluator_exclusions"].get<uint64_t>(), 1u) << run.out;
  bool liar_excluded = false;
  for (const auto& e : r["evaluators"]) {
    if (e["address"] == es[1].grpc) liar_excluded = e["excluded"].get<bool>();
    else EXPECT_FALSE(e["excluded"].get<bool>()) << e;
  }
  EXPECT_TRUE(liar_excluded) << r.dump();
  EXPECT_EQ(code, 200);
  EXPECT_NE(metrics.find("swarm_evo_evaluations_total"), std::string::npos);
  std::cout << "[ figures ] lying evaluator excluded after " << r["spot_checks"]
            << " spot checks in total; run solved in " << r["generations"] << " generations" << std::endl;
}

TEST(E2eEvolve, CheckpointAndResumeContinueTheRun) {
  const std::string root = TempDir("evolve-resume");
  std::vector<Evaluator> es;
  Cleanup cleanup{es};
  es.push_back(StartEvaluator(root, 0, {"evo.capacity=2"}));
  const std::string ck = root + "/run.ckpt";
  auto first = EvolveArgs(es, "9");
  first[std::find(first.begin(), first.end(), "300") - first.begin()] = "2";
  first.insert(first.end(), {"--checkpoint", ck});
  const RunResult a = RunSwarm(first, 30);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const json ra = LastJson(a.out);
  ASSERT_TRUE(ra.is_object()) << a.out;
  ASSERT_EQ(ra["generations"].get<int>(), 2);

  auto second = EvolveArgs(es, "9");
  second.insert(second.end(), {"--checkpoint", ck, "--resume"});
  const RunResult b = RunSwarm(second, 40);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const json rb = LastJson(b.out);
  EXPECT_TRUE(rb["solved"].get<bool>()) << b.out;
  EXPECT_EQ(rb["generations"].get<int>(), 2 + rb["generations_this_run"].get<int>());
  EXPECT_EQ(rb["evaluations"].get<int>(), ra["evaluations"].get<int>() + 300 * rb["generations_this_run"].get<int>());

  // A different seed, or a damaged file, is refused with exit code 2 and a reason.
  auto wrong = EvolveArgs(es, "10");
  wrong.insert(wrong.end(), {"--checkpoint", ck, "--resume"});
  const RunResult c = RunSwarm(wrong, 20);
  EXPECT_EQ(c.exit_code, 2);
  EXPECT_NE(c.err.find("seed 9"), std::string::npos) << c.err;
  {
    std::string text = ReadFile(ck);
    text[text.size() / 2] ^= 1;
    std::ofstream(ck) << text;
  }
  const RunResult d = RunSwarm(second, 20);
  EXPECT_EQ(d.exit_code, 2);
  EXPECT_NE(d.err.find(ck), std::string::npos) << d.err;
  StopAll(es);
}

TEST(E2eEvolve, IslandsOnPeersSurviveAKilledHostAndALyingHost) {
  const std::string root = TempDir("evolve-islands");
  std::vector<Evaluator> es;
  Cleanup cleanup{es};
  for (int i = 0; i < 3; ++i) es.push_back(StartEvaluator(root, i, {"evo.capacity=2", "evo.latency_ms=150"}));
  es.push_back(StartEvaluator(root, 3, {"evo.capacity=2", "evo.lie=true"}));
  auto args = EvolveArgs(es, "4");
  args[std::find(args.begin(), args.end(), "--islands") - args.begin() + 1] = "4";
  args.push_back("--remote-islands");
  const std::string log = root + "/evolve.log";
  const pid_t evolve = Spawn(args, log);
  cleanup.evolve = evolve;
  bool killed_mid_run = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReadFile(log).find(" gen 2 ") != std::string::npos) {
      killed_mid_run = ProcessExists(evolve);
      ASSERT_EQ(kill(es[2].pid, SIGKILL), 0);
      WaitFor(es[2].pid, 5);
      break;
    }
    if (!ProcessExists(evolve)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int status = WaitFor(evolve, 50);
  const std::string out = ReadFile(log);
  StopAll(es);
  ASSERT_NE(status, -1) << out;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  ASSERT_TRUE(killed_mid_run) << out;
  const json r = LastJson(out);
  ASSERT_TRUE(r.is_object()) << out;
  EXPECT_TRUE(r["solved"].get<bool>()) << out;
  EXPECT_TRUE(r["islands_on_peers"].get<bool>());
  EXPECT_GE(r["rejected_solution_claims"].get<int>(), 1) << out;
  EXPECT_GE(r["island_moves"].get<int>(), 2) << out;
  for (const auto& v : r["island_hosts"]) {
    EXPECT_NE(v["host"], es[2].grpc);
    EXPECT_NE(v["host"], es[3].grpc);
  }
  std::cout << "[ figures ] 4 islands on 4 peers (1 lying, 1 SIGKILLed at generation 2): solved after "
            << r["generations"] << " generations, " << r["island_moves"] << " island moves" << std::endl;
}

}  // namespace
}  // namespace swarm::e2e
