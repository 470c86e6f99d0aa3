#include "cli/spawn.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace swarm::cli {
namespace {

namespace fs = std::filesystem;

std::string LogPath(const std::string& name) {
  return (fs::temp_directory_path() / ("swarm_spawn_test_" + std::to_string(getpid()) + "_" + name + ".log")).string();
}

std::vector<std::string> Sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

bool Exists(pid_t pid) { return kill(pid, 0) == 0; }

// Reaps until `pred` holds or ~10 s pass.
template <class G, class P>
bool ReapUntil(G& g, P pred) {
  for (int i = 0; i < 1000; ++i) {
    g.Reap();
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(ChildGroup, AnUnbiddenExitIsReportedOnceWithItsStatus) {
  std::ostringstream out;
  ChildGroup<> g(ChildReport{"test: ", &out});
  ChildProcess& c = g.Add({.id = "n0", .log_path = LogPath("exit3")});
  ASSERT_TRUE(g.Spawn(c, Sh("exit 3")));
  const pid_t pid = c.pid;
  ASSERT_TRUE(ReapUntil(g, [&] { return c.reaped; }));
  EXPECT_FALSE(c.alive);
  EXPECT_TRUE(WIFEXITED(c.exit_status));
  EXPECT_EQ(WEXITSTATUS(c.exit_status), 3);
  EXPECT_EQ(out.str(), "test: peer n0 (pid " + std::to_string(pid) + ") exited with status 3; see " + c.log_path + "\n");
  g.Reap();
  EXPECT_EQ(out.str().find("peer n0", 10), std::string::npos) << "reported twice: " << out.str();
  fs::remove(c.log_path);
}

TEST(ChildGroup, AKilledChildIsNamedWithTheSignal) {
  std::ostringstream out;
  ChildGroup<> g(ChildReport{"", &out});
  ChildProcess& c = g.Add({.id = "victim", .log_path = LogPath("victim")});
  ASSERT_TRUE(g.Spawn(c, Sh("exec sleep 100")));
  ASSERT_EQ(kill(c.pid, SIGKILL), 0);  // not through the group: unbidden
  ASSERT_TRUE(ReapUntil(g, [&] { return c.reaped; }));
  EXPECT_NE(out.str().find(") killed by signal 9"), std::string::npos) << out.str();
  fs::remove(c.log_path);
}

TEST(ChildGroup, StopAllEscalatesToSigkillAfterTheBoundAndReportsNoExpectedExit) {
  std::ostringstream out;
  ChildGroup<> g(ChildReport{"", &out});
  ChildProcess& polite = g.Add({.id = "polite", .log_path = LogPath("polite")});
  ChildProcess& stubborn = g.Add({.id = "stubborn", .log_path = LogPath("stubborn")});
  ASSERT_TRUE(g.Spawn(polite, Sh("exec sleep 100")));
  // Ignores SIGTERM; says so once the trap is set, so the test does not race it.
  ASSERT_TRUE(g.Spawn(stubborn, Sh("trap '' TERM; echo ready; while :; do sleep 1; done")));
  for (int i = 0; i < 1000; ++i) {
    std::ifstream in(stubborn.log_path);
    std::string line;
    if (std::getline(in, line) && line == "ready") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const pid_t p1 = polite.pid, p2 = stubborn.pid;
  g.StopAll(std::chrono::milliseconds(300));
  EXPECT_TRUE(polite.reaped);
  EXPECT_TRUE(stubborn.reaped);
  EXPECT_TRUE(WIFSIGNALED(polite.exit_status) && WTERMSIG(polite.exit_status) == SIGTERM);
  EXPECT_TRUE(WIFSIGNALED(stubborn.exit_status) && WTERMSIG(stubborn.exit_status) == SIGKILL);
  EXPECT_FALSE(Exists(p1));
  EXPECT_FALSE(Exists(p2));
  EXPECT_EQ(out.str().find("polite"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("peer stubborn (pid " + std::to_string(p2) + ") did not stop within 0.3 s; sending SIGKILL"),
            std::string::npos)
      << out.str();
  fs::remove(polite.log_path);
  fs::remove(stubborn.log_path);
}

TEST(ChildGroup, TwoGroupsNeverReapEachOthersChildren) {
  std::ostringstream out_a, out_b;
  ChildGroup<> a(ChildReport{"", &out_a});
  ChildGroup<> b(ChildReport{"", &out_b});
  ChildProcess& ca = a.Add({.id = "a0", .log_path = LogPath("a0")});
  ChildProcess& cb = b.Add({.id = "b0", .log_path = LogPath("b0")});
  ASSERT_TRUE(a.Spawn(ca, Sh("exec sleep 100")));
  ASSERT_TRUE(b.Spawn(cb, Sh("exit 7")));
  // Group a reaps many times while b's child has long exited: it must stay b's.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 20; ++i) a.Reap();
  EXPECT_FALSE(cb.reaped);
  EXPECT_TRUE(out_a.str().empty()) << out_a.str();
  ASSERT_TRUE(ReapUntil(b, [&] { return cb.reaped; }));
  EXPECT_EQ(WEXITSTATUS(cb.exit_status), 7);
  EXPECT_NE(out_b.str().find("peer b0"), std::string::npos);
  EXPECT_TRUE(ca.alive);
  a.StopAll(std::chrono::milliseconds(2000));
  EXPECT_TRUE(ca.reaped);
  fs::remove(ca.log_path);
  fs::remove(cb.log_path);
}

TEST(ChildGroup, DestructorStopsWhatIsStillRunningAndWatchedEntriesAreIgnored) {
  pid_t pid = -1;
  {
    ChildGroup<> g;
    ChildProcess& watched = g.Add({.id = "watched"});  // pid -1: never spawned
    ChildProcess& c = g.Add({.id = "n0", .log_path = LogPath("dtor")});
    ASSERT_TRUE(g.Spawn(c, Sh("exec sleep 100")));
    pid = c.pid;
    EXPECT_EQ(g.Reap(), 0u);
    EXPECT_FALSE(watched.reaped);
  }
  EXPECT_FALSE(Exists(pid));
  fs::remove(LogPath("dtor"));
}

}  // namespace
}  // namespace swarm::cli
