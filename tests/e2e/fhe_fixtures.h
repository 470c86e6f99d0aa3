// Shared set-up of the end-to-end FHE job tests (fhe_test.cpp,
// jobs_kill_test.cpp): key directories and ciphertexts made with the real
// `swarm fhe keygen/encrypt` commands, decryption with `swarm fhe decrypt
// --json`, and a local swarm (`swarm up`) whose peer 0 is the jobs queen.
// The circuit texts are in jobs/fixtures.h. Header-only (every *_test.cpp in
// tests/e2e is its own binary, linked with process.h's helpers only).
#pragma once

#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"

namespace swarm::e2e {

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// `swarm fhe keygen --scheme ckks --n n --rotations rotations --out dir`.
inline void MakeCkksKeys(const std::string& dir, int n, const std::string& rotations) {
  RunResult kg = RunSwarm({SwarmBinary(), "fhe", "keygen", "--scheme", "ckks", "--n", std::to_string(n),
                           "--rotations", rotations, "--out", dir},
                          120);
  ASSERT_EQ(kg.exit_code, 0) << kg.err;
}

// Writes `values` one per line to root/name.csv and encrypts it to root/name.ct.
inline void EncryptValues(const std::string& keys, const std::string& root, const std::string& name,
                          const std::vector<double>& values) {
  std::string csv;
  for (double v : values) csv += std::to_string(v) + "\n";
  WriteText(root + "/" + name + ".csv", csv);
  RunResult en = RunSwarm({SwarmBinary(), "fhe", "encrypt", "--keys", keys, "--in", root + "/" + name + ".csv",
                           "--out", root + "/" + name + ".ct"},
                          60);
  ASSERT_EQ(en.exit_code, 0) << en.err;
}

// The first `count` slots of a ciphertext file (empty, with a test failure,
// if decryption fails).
inline std::vector<double> DecryptValues(const std::string& keys, const std::string& ct, int count = 8) {
  RunResult r = RunSwarm(
      {SwarmBinary(), "fhe", "decrypt", "--keys", keys, "--in", ct, "--json", "--count", std::to_string(count)}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_array()) {
    ADD_FAILURE() << "decrypt output is not a JSON array: " << r.out;
    return {};
  }
  return j.get<std::vector<double>>();
}

// GET /api/status of a peer as JSON (a non-object on failure).
inline nlohmann::json PeerStatus(const std::string& http) {
  auto [code, body] = HttpGet(http, "/api/status");
  if (code != 200) return nlohmann::json();
  return nlohmann::json::parse(body, nullptr, false);
}

// A `swarm up` cluster: peer 0 is the jobs queen (jobs.role=queen plus
// `queen_roles`, jobs.workers = every peer), peers 1.. are workers. `sets`
// are extra `swarm up` arguments (--set / --node-set pairs). Stopped (SIGTERM,
// then SIGKILL) when destroyed.
struct JobsCluster {
  std::string dir;
  pid_t pid = -1;
  nlohmann::json nodes;  // cluster.json "nodes": id, grpc, http, pid

  JobsCluster() = default;
  JobsCluster(const JobsCluster&) = delete;
  JobsCluster& operator=(const JobsCluster&) = delete;
  ~JobsCluster() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      if (WaitFor(pid, 20) == -1) kill(pid, SIGKILL);
    }
  }

  void Start(const std::string& root, int peers, const std::string& queen_roles, const std::vector<std::string>& sets) {
    for (int attempt = 0; attempt < 3 && nodes.empty(); ++attempt) {
      dir = root + "/up" + std::to_string(attempt);
      UseRunCredentials(dir);  // the tools below sign with this run's operator grant
      std::vector<std::string> args = {SwarmBinary(), "up", "--nodes", std::to_string(peers), "--base-port",
                                       std::to_string(FreePort()), "--dir", dir, "--log-level", "warn",
                                       "--set", "jobs.role=worker", "--node-set", "0:jobs.role=" + queen_roles,
                                       "--node-set", "0:jobs.workers={peers}"};
      args.insert(args.end(), sets.begin(), sets.end());
      pid = Spawn(args, dir + ".log");
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(dir + "/cluster.json");
        if (in) {
          nodes = nlohmann::json::parse(in, nullptr, false)["nodes"];
          break;
        }
        if (WaitFor(pid, 0.1) != -1) {
          pid = -1;
          break;  // exited (port clash): retry on other ports
        }
      }
      if (nodes.empty() && pid > 0) {  // not ready in time: stop it before retrying
        kill(pid, SIGTERM);
        if (WaitFor(pid, 20) == -1) {
          kill(pid, SIGKILL);
          WaitFor(pid, 5);
        }
        pid = -1;
      }
    }
    ASSERT_EQ(nodes.size(), static_cast<size_t>(peers)) << ReadFile(root + "/up0.log");
  }

  std::string grpc(int i) const { return nodes[i]["grpc"]; }
  std::string http(int i) const { return nodes[i]["http"]; }
  std::string log(int i) const { return ReadFile(dir + "/" + nodes[i]["id"].get<std::string>() + "/node.log"); }
};

}  // namespace swarm::e2e
