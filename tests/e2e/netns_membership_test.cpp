// Multi-host e2e (label netns): four peers in two regions, each on its own
// network namespace and address, 5 ms RTT inside a region and 80 ms between,
// started the way docs/operator.md "Across machines" says: an issuer, one key
// and grant per peer, one config file per peer with seeds, `swarm node
// --config`. Checks SWIM membership converges across the namespaces, that a
// partition between the regions makes each side see the other dead, and that
// healing brings every peer back alive everywhere.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <signal.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/netns.h"
#include "e2e/process.h"
#include "support/test_inputs.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

constexpr int kGrpcPort = 7000;
constexpr int kHttpPort = 9100;
constexpr char kToken[] = "netns-e2e-token-0123456789";
// Bounds (seconds) on a loaded 2-core machine. With default SWIM settings
// (T = 1 s, suspicion 4·log10(10)·T scaled by up to 1+health) a dead verdict
// takes ~5-30 s; healing needs a reconnect sync (every 5 s) plus refutation.
constexpr double kStartBoundS = 90;
constexpr double kConvergeBoundS = 90;
constexpr double kPartitionBoundS = 90;
constexpr double kHealBoundS = 120;

struct Peer {
  std::string name, region, address, dir;
  pid_t pid = -1;
};

// Runs `swarm ...` and fails the test with its output when it does not exit 0.
::testing::AssertionResult Swarm(const std::vector<std::string>& args) {
  std::vector<std::string> full = {SwarmBinary()};
  full.insert(full.end(), args.begin(), args.end());
  RunResult r = RunSwarm(full, 60);
  if (r.exit_code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "swarm " << args[0] << " exited " << r.exit_code << ": " << r.err;
}

// name -> state, as `peer` sees the swarm (empty when it does not answer).
std::map<std::string, std::string> View(const Peer& peer) {
  auto [code, body] = HttpGet(peer.address + ":" + std::to_string(kHttpPort), "/api/status", kToken);
  std::map<std::string, std::string> view;
  if (code != 200) return view;
  const json s = json::parse(body, nullptr, false);
  if (!s.is_object() || !s.contains("members")) return view;
  for (const auto& m : s["members"]) view[m.value("id", "")] = m.value("state", "");
  return view;
}

// Every peer in `observers` sees every peer in `subjects` in `state`.
bool AllSee(const std::vector<Peer*>& observers, const std::vector<Peer*>& subjects, const std::string& state,
            std::string* last) {
  for (const Peer* o : observers) {
    const auto view = View(*o);
    for (const Peer* s : subjects) {
      const auto it = view.find(s->name);
      const std::string got = it == view.end() ? "(absent)" : it->second;
      if (got != state) {
        *last = o->name + " sees " + s->name + " " + got + " (want " + state + ")";
        return false;
      }
    }
  }
  return true;
}

std::string Tail(const std::string& path) {
  const std::string all = ReadFile(path);
  return all.size() > 1500 ? all.substr(all.size() - 1500) : all;
}

TEST(E2eNetns, MembershipConvergesAcrossNamespacesAndAPartitionBetweenRegionsIsSeenAndHealed) {
  std::string why;
  SWARM_REQUIRE_INPUT_IF(NetnsRun::Available(&why), why, "run the netns tests as root");
  std::string error;
  auto run = NetnsRun::Create({"--peers", "eu:2,us:2", "--rtt", "eu=5", "--rtt", "us=5", "--rtt", "eu-us=80"},
                              &error);
  ASSERT_NE(run, nullptr) << error;

  // The operator's steps (docs/operator.md "Across machines").
  const std::string dir = TempDir("netns");
  ASSERT_TRUE(Swarm({"admission", "issuer-keygen", "--out", dir + "/issuer"}));
  std::vector<Peer> peers;
  for (const auto& p : run->peers()) peers.push_back({p.name, p.region, p.address, dir + "/" + p.name});
  const std::string seed = peers[0].address + ":" + std::to_string(kGrpcPort);
  for (Peer& p : peers) {
    std::filesystem::create_directories(p.dir);
    const std::string grpc = p.address + ":" + std::to_string(kGrpcPort);
    ASSERT_TRUE(Swarm({"keygen", "--out", p.dir + "/node.key"}));
    ASSERT_TRUE(Swarm({"admission", "issue", "--issuer", dir + "/issuer/issuer.key", "--peer-key",
                       p.dir + "/node.key", "--swarm", "netns-e2e", "--roles", "observer", "--operator", "e2e",
                       "--region", p.region, "--address", grpc, "--ttl", "2h", "--out", p.dir + "/admission.grant"}));
    std::ofstream toml(p.dir + "/node.toml");
    toml << "[node]\n"
         << "id = \"" << p.name << "\"\n"
         << "grpc_listen = \"" << grpc << "\"\n"
         << "http_listen = \"" << p.address << ":" << kHttpPort << "\"\n"
         << "data_dir = \"" << p.dir << "\"\n"
         << "key_file = \"" << p.dir << "/node.key\"\n"
         << "region = \"" << p.region << "\"\n"
         << "seeds = [" << (&p == &peers[0] ? "" : "\"" + seed + "\"") << "]\n"
         << "[http]\ntoken = \"" << kToken << "\"\n"
         << "[admission]\nswarm_id = \"netns-e2e\"\n"
         << "issuer_key_files = [\"" << dir << "/issuer/issuer.pub\"]\n"
         << "grant_file = \"" << p.dir << "/admission.grant\"\n"
         << "[log]\nlevel = \"info\"\n";
  }
  for (Peer& p : peers) {
    p.pid = Spawn(run->In(p.name, {SwarmBinary(), "node", "--config", p.dir + "/node.toml"}), p.dir + "/node.log");
  }
  struct StopPeers {
    std::vector<Peer>* peers;
    ~StopPeers() {
      for (Peer& p : *peers) {
        if (p.pid > 0) kill(p.pid, SIGTERM);
      }
      for (Peer& p : *peers) {
        if (p.pid > 0 && WaitFor(p.pid, 15) == -1) {
          kill(p.pid, SIGKILL);
          WaitFor(p.pid, 5);
        }
      }
    }
  } stop{&peers};

  for (const Peer& p : peers) {
    const bool healthy = Eventually(kStartBoundS, [&] {
      return HttpGet(p.address + ":" + std::to_string(kHttpPort), "/healthz").first == 200;
    });
    ASSERT_TRUE(healthy) << p.name << " not healthy; its log:\n" << Tail(p.dir + "/node.log");
  }

  std::vector<Peer*> all, eu, us;
  for (Peer& p : peers) {
    all.push_back(&p);
    (p.region == "eu" ? eu : us).push_back(&p);
  }
  std::string last;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually(kConvergeBoundS, [&] { return AllSee(all, all, "alive", &last); }))
      << "no convergence across namespaces: " << last << "\n" << Tail(peers[1].dir + "/node.log");
  auto seconds_since = [](auto t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  std::cout << "[ figures ] 4 peers in 4 namespaces (5 ms RTT in a region, 80 ms between) all alive everywhere "
            << seconds_since(t0) << " s after the last one was healthy" << std::endl;

  // The regions cannot reach each other: each side sees the other dead; within a side all stay alive.
  std::string out;
  ASSERT_TRUE(run->Do("partition", {"eu", "us"}, &out)) << out;
  t0 = std::chrono::steady_clock::now();
  const bool split = Eventually(kPartitionBoundS, [&] {
    return AllSee(eu, us, "dead", &last) && AllSee(us, eu, "dead", &last);
  });
  ASSERT_TRUE(split) << "partition not seen: " << last;
  std::cout << "[ figures ] partition eu|us: every peer saw the other region dead after " << seconds_since(t0)
            << " s" << std::endl;
  EXPECT_TRUE(AllSee(eu, eu, "alive", &last)) << last;
  EXPECT_TRUE(AllSee(us, us, "alive", &last)) << last;

  ASSERT_TRUE(run->Do("heal", {}, &out)) << out;
  t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually(kHealBoundS, [&] { return AllSee(all, all, "alive", &last); }))
      << "not healed: " << last;
  std::cout << "[ figures ] healed: every peer saw every peer alive again after " << seconds_since(t0) << " s"
            << std::endl;
  for (const Peer& p : peers) EXPECT_TRUE(ProcessExists(p.pid)) << p.name << " exited";
}

}  // namespace
}  // namespace swarm::e2e
