// The queen's workers come from jobs.workers or admission grants, never from
// membership alone (issue 14: four Sybils that merely joined became workers):
// with jobs.workers empty, the alive members whose grant holds jobs_worker.
#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fhe_fixtures.h"
#include "e2e/process.h"
#include "jobs/fixtures.h"

namespace swarm::e2e {
namespace {

int AliveMembers(const nlohmann::json& status) {
  int n = 0;
  if (!status.is_object() || !status.contains("members")) return 0;
  for (const auto& m : status["members"]) n += m.value("state", "") == "alive";
  return n;
}

TEST(E2eJobsWorkers, MembersThatAreNotListedOrAdmittedNeverBecomeWorkers) {
  const std::string root = TempDir("jobs-workers");
  JobsCluster c;
  // Peer 0 is the queen with no jobs.workers (the later --node-set wins over
  // the fixture's list); peer 2 runs no jobs role, so its grant has no
  // jobs_worker; peer 1 does (jobs.role=worker).
  c.Start(root, 3, "queen", {"--node-set", "0:jobs.workers=[]", "--node-set", "2:jobs.role=off"});
  ASSERT_EQ(c.nodes.size(), 3u);
  // Wait (bounded) until the queen sees all three members alive...
  nlohmann::json st;
  for (int i = 0; i < 300 && AliveMembers(st) < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    st = PeerStatus(c.http(0));
  }
  ASSERT_EQ(AliveMembers(st), 3) << st.dump();
  // ...then through 20 more rounds of the queen's 50 ms worker refresh: its
  // workers are exactly the members admitted as jobs workers (peer 1), never
  // peer 2, an alive member without the role.
  ASSERT_TRUE(Eventually(20, [&] {
    st = PeerStatus(c.http(0));
    return st.is_object() && st.contains("jobs") && st["jobs"]["workers"].size() == 1;
  })) << st.dump();
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    st = PeerStatus(c.http(0));
    ASSERT_TRUE(st.is_object() && st.contains("jobs")) << st.dump();
    ASSERT_EQ(st["jobs"]["workers"].size(), 1u) << st["jobs"]["workers"].dump();
    EXPECT_EQ(st["jobs"]["workers"][0]["address"], c.grpc(1)) << st["jobs"]["workers"].dump();
  }
}

// A peer that runs the worker code but whose grant lacks jobs_worker never
// gets a task: n4's grant is renewed without the role (no restart) before any
// job; the queen drops it and a replicated job runs on n1..n3 only.
TEST(E2eJobsWorkers, AWorkerWithoutTheRoleInItsGrantNeverGetsATask) {
  const std::string root = TempDir("jobs-roles");
  const std::string keys = root + "/keys";
  ASSERT_NO_FATAL_FAILURE(MakeCkksKeys(keys, 8192, "pow2"));
  const std::vector<double> x = {1, 2, 3, 4}, y = {0.5, -1, 2, 1.5};
  ASSERT_NO_FATAL_FAILURE(EncryptValues(keys, root, "x", x));
  ASSERT_NO_FATAL_FAILURE(EncryptValues(keys, root, "y", y));
  WriteText(root + "/c.toml", jobs::testing::TwoXYRotateSum());
  JobsCluster c;
  ASSERT_NO_FATAL_FAILURE(c.Start(root, 5, "queen", {"--node-set", "0:jobs.workers=[]", "--set", "jobs.quorum=3"}));
  const nlohmann::json s4 = PeerStatus(c.http(4));
  ASSERT_TRUE(s4.is_object() && s4.contains("admission")) << s4.dump();
  const std::string swarm_id = s4["admission"]["swarm_id"];
  RunResult issued = RunSwarm({SwarmBinary(), "admission", "issue", "--issuer", c.dir + "/admission/issuer.key",
                               "--peer-key", c.dir + "/n4/node.key", "--swarm", swarm_id, "--roles", "observer",
                               "--operator", "local-n4", "--address", c.grpc(4), "--ttl", "1h", "--out",
                               c.dir + "/n4/admission.grant"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  // The queen's workers become exactly n1..n3.
  const std::set<std::string> want = {c.grpc(1), c.grpc(2), c.grpc(3)};
  nlohmann::json st;
  auto workers = [&] {
    std::set<std::string> out;
    st = PeerStatus(c.http(0));
    if (st.is_object() && st.contains("jobs")) {
      for (const auto& w : st["jobs"]["workers"]) out.insert(w.value("address", ""));
    }
    return out;
  };
  ASSERT_TRUE(Eventually(60, [&] { return workers() == want; })) << st.dump() << c.log(4);
  RunResult ev = RunSwarm({SwarmBinary(), "fhe", "eval", "--peer", c.grpc(0), "--circuit", root + "/c.toml", "--keys",
                           keys, "--in", "x=" + root + "/x.ct", "--in", "y=" + root + "/y.ct", "--out",
                           "rot=" + root + "/rot.ct", "--out", "s=" + root + "/s.ct", "--timeout", "90"},
                          120);
  ASSERT_EQ(ev.exit_code, 0) << ev.err << "\nqueen log:\n" << c.log(0);
  EXPECT_EQ(workers(), want) << st.dump();
  int ran = 0;
  for (int i = 1; i <= 3; ++i) ran += PeerStatus(c.http(i))["jobs"].value("tasks_run", 0);
  EXPECT_GE(ran, 3);  // quorum 3: the task ran on three admitted workers
  EXPECT_EQ(PeerStatus(c.http(4))["jobs"].value("tasks_run", -1), 0) << PeerStatus(c.http(4)).dump();
}

}  // namespace
}  // namespace swarm::e2e
