// Crash safety of CheckpointDir: a child process writes durable checkpoints
// (and garbage-collects) in a loop; we SIGKILL it at a random moment, 50
// times, on the same directory. After every kill, every listed checkpoint
// must decode and verify (all its chunks present and intact), and the
// newest acknowledged checkpoint must be listed (gc keeps the newest 4).
// The writer rewrites 1 MiB of optimizer state per step, so many chunks are
// written per checkpoint: with the manifest written before the chunks (the
// bug this guards against) this test failed within its first kills.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "chunks/store.h"
#include "common/rng.h"

namespace swarm::chunks {
namespace {

constexpr int kKills = 50;
constexpr uint64_t kSeed = 20261208;

// How long to wait for a writer's first acknowledgement (a durable write on a
// loaded disk) before killing it anyway.
constexpr int kFirstAckWaitMs = 60000;

// Runs the helper and SIGKILLs it `run_ms` after it starts or, with
// `after_first_ack`, `run_ms` after it acknowledged its first checkpoint (so
// kills land mid-write whatever the disk's speed). Returns the labels it
// acknowledged (complete lines on its stdout).
std::vector<std::string> RunAndKill(const std::string& dir, int run_ms, bool after_first_ack,
                                    uint64_t seed) {
  int fds[2];
  SWARM_ASSERT(pipe(fds) == 0);
  const pid_t pid = fork();
  SWARM_ASSERT(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    const std::string s = std::to_string(seed);
    execl(SWARM_CHECKPOINT_WRITE_LOOP, SWARM_CHECKPOINT_WRITE_LOOP, dir.c_str(), s.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(after_first_ack ? kFirstAckWaitMs : run_ms);
  bool killed = false;
  bool armed = !after_first_ack;
  while (true) {
    if (!armed && out.find('\n') != std::string::npos) {
      armed = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms);
    }
    const auto now = std::chrono::steady_clock::now();
    if (!killed && now >= deadline) {
      kill(pid, SIGKILL);
      killed = true;
    }
    const int wait_ms =
        killed ? 1000
               : static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) + 1;
    pollfd p{fds[0], POLLIN, 0};
    const int pr = poll(&p, 1, wait_ms);
    if (pr > 0) {
      const ssize_t n = read(fds[0], buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    } else if (killed && pr == 0) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "writer exited on its own, status " << status << " (seed " << seed << ")";
  std::vector<std::string> acked;
  size_t start = 0;
  while (true) {
    const size_t nl = out.find('\n', start);
    if (nl == std::string::npos) break;  // a partial last line was not acknowledged
    acked.push_back(out.substr(start, nl - start));
    start = nl + 1;
  }
  return acked;
}

TEST(CheckpointCrash, SigkilledWriterNeverLeavesABadListedCheckpoint) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("swarm_checkpoint_crash_" + std::to_string(getpid()));
  fs::remove_all(dir);
  Rng rng(kSeed);
  size_t acked_total = 0, verified_total = 0, kills_after_ack = 0;
  for (int k = 0; k < kKills; ++k) {
    // Odd kills: random moments from start-up (directory creation, open,
    // the first write); even kills: random moments after a first
    // acknowledged write (later writes, gc).
    const bool after_ack = k % 2 == 0;
    const int run_ms = static_cast<int>(rng.Range(1, 600));
    const auto acked = RunAndKill(dir.string(), run_ms, after_ack, kSeed + static_cast<uint64_t>(k));
    acked_total += acked.size();
    if (after_ack) {
      ++kills_after_ack;
      EXPECT_FALSE(acked.empty()) << "kill " << k << ": no checkpoint acknowledged within "
                                  << kFirstAckWaitMs << " ms";
    }
    auto store = CheckpointDir::OpenExisting(dir.string());
    if (!store.ok()) {
      // Killed before it created the directory: nothing can be listed.
      ASSERT_TRUE(acked.empty()) << "kill " << k << ": " << store.status();
      continue;
    }
    auto list = (*store)->List();
    ASSERT_TRUE(list.ok()) << list.status();
    for (const auto& l : *list) {
      ASSERT_TRUE(l.manifest.has_value()) << "kill " << k << " (seed " << kSeed << "): listed "
                                          << l.path << " does not decode: " << l.error;
      auto v = (*store)->Verify(l.label);
      ASSERT_TRUE(v.ok()) << v.status();
      ASSERT_TRUE(v->ok) << "kill " << k << " (seed " << kSeed << "), checkpoint " << l.label << ": "
                         << v->ToString();
      ++verified_total;
    }
    if (!acked.empty()) {
      bool listed = false;
      for (const auto& l : *list) listed |= l.label == acked.back();
      EXPECT_TRUE(listed) << "kill " << k << ": acknowledged " << acked.back() << " not listed";
    }
  }
  // The test must have exercised writes, not only kills during start-up.
  EXPECT_GE(acked_total, kills_after_ack);
  std::printf("checkpoint crash test: %zu acknowledged checkpoints, %zu verifications over %d kills\n",
              acked_total, verified_total, kKills);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace swarm::chunks
