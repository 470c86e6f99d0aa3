// Helpers for end-to-end tests that run the real `swarm` binary.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace swarm::e2e {

// Path of build/swarm.
std::string SwarmBinary();
// A fresh empty directory under $TMPDIR.
std::string TempDir(const std::string& tag);
// A TCP port in [30000, 60000) that is free right now (bind-and-release).
int FreePort();

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out, err;
};
// Runs to completion with a timeout (then SIGKILL, exit_code -1).
RunResult RunSwarm(const std::vector<std::string>& args, double timeout_s = 60);
// `swarm up --dir DIR` and `swarm train --dir DIR` swarms enforce admission:
// the `swarm` tools this test runs afterwards sign with that run's operator
// grant (sets SWARM_CREDENTIALS=DIR/admission for every later child process).
void UseRunCredentials(const std::string& run_dir);
// Starts in the background with stdout+stderr to `log_path`.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log_path);
// Waits for `pid` (a child) up to timeout; returns the raw wait status or -1.
int WaitFor(pid_t pid, double timeout_s);
bool ProcessExists(pid_t pid);  // alive and not a zombie
std::string ReadFile(const std::string& path);
// GET http://host:port/path; returns status (0 if unreachable) and body.
std::pair<int, std::string> HttpGet(const std::string& host_port, const std::string& path);
// The same with "Authorization: Bearer <token>" (peers whose HTTP is not on loopback).
std::pair<int, std::string> HttpGet(const std::string& host_port, const std::string& path,
                                    const std::string& bearer_token);

// Polls `pred` every 300 ms until it holds or `seconds` passed; the last
// answer after the deadline decides (the one bounded wait of e2e tests).
template <typename Pred>
bool Eventually(double seconds, Pred pred) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return pred();
}

}  // namespace swarm::e2e
