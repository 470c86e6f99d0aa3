// Crash safety of the ledger: a child process appends in a loop and prints
// each acknowledged index; we SIGKILL it at a random moment, 50 times, on the
// same database. After every kill Verify() must pass and every acknowledged
// index must be present.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include "common/rng.h"
#include "store/signers.h"

namespace swarm::store {
namespace {

constexpr int kKills = 50;
constexpr const char* kSeedHex = "1111111111111111111111111111111111111111111111111111111111111111";

// Runs the helper for `run_ms` milliseconds, SIGKILLs it, returns the indices
// it acknowledged (complete lines on its stdout).
std::set<uint64_t> RunAndKill(const std::string& db, int run_ms) {
  int fds[2];
  SWARM_ASSERT(pipe(fds) == 0);
  const pid_t pid = fork();
  SWARM_ASSERT(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(SWARM_LEDGER_APPEND_LOOP, SWARM_LEDGER_APPEND_LOOP, db.c_str(), kSeedHex,
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms);
  bool killed = false;
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (!killed && now >= deadline) {
      kill(pid, SIGKILL);
      killed = true;
    }
    const int wait_ms =
        killed ? 1000
               : static_cast<int>(
                     std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()) +
                     1;
    pollfd p{fds[0], POLLIN, 0};
    const int pr = poll(&p, 1, wait_ms);
    if (pr > 0) {
      const ssize_t n = read(fds[0], buf, sizeof(buf));
      if (n <= 0) break;  // EOF: the child is gone and the pipe drained
      out.append(buf, static_cast<size_t>(n));
    } else if (killed && pr == 0) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "helper exited on its own, status " << status;
  std::set<uint64_t> acked;
  size_t start = 0;
  while (true) {
    const size_t nl = out.find('\n', start);
    if (nl == std::string::npos) break;  // a partial last line was not acknowledged
    acked.insert(std::stoull(out.substr(start, nl - start)));
    start = nl + 1;
  }
  return acked;
}

TEST(LedgerCrash, SigkillDuringAppendsLosesNoAcknowledgedRecord) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("swarm_ledger_crash_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "ledger.db").string();
  Rng rng(20261121);
  std::set<uint64_t> all_acked;
  for (int k = 0; k < kKills; ++k) {
    // Random moments: sometimes during Open, mostly in the middle of appends.
    const int run_ms = static_cast<int>(rng.Range(5, 250));
    const auto acked = RunAndKill(db, run_ms);
    all_acked.insert(acked.begin(), acked.end());
    auto ledger = Ledger::Open(db);
    ASSERT_TRUE(ledger.ok()) << "kill " << k << ": " << ledger.status();
    auto report = (*ledger)->Verify();
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_TRUE(report->ok) << "kill " << k << ": " << report->ToString();
    for (uint64_t i : all_acked) {
      ASSERT_TRUE((*ledger)->Get(i).ok()) << "kill " << k << ": acknowledged record " << i
                                          << " lost";
    }
    if (!all_acked.empty()) {
      ASSERT_GT(report->records_checked, *all_acked.rbegin());
    }
  }
  // The test must have exercised appends, not only kills during start-up.
  EXPECT_GT(all_acked.size(), static_cast<size_t>(kKills));
  std::printf("ledger crash test: %zu acknowledged appends over %d kills\n", all_acked.size(),
              kKills);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace swarm::store
