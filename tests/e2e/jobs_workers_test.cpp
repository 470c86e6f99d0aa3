// The queen's workers come from jobs.workers or admission grants, never from
// membership alone (issue 14: four Sybils that merely joined became workers).
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/fhe_fixtures.h"
#include "e2e/process.h"

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
  // the fixture's list), so no admitted-worker source either.
  c.Start(root, 3, "queen", {"--node-set", "0:jobs.workers=[]"});
  ASSERT_EQ(c.nodes.size(), 3u);
  // Wait (bounded) until the queen sees all three members alive...
  nlohmann::json st;
  for (int i = 0; i < 300 && AliveMembers(st) < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    st = PeerStatus(c.http(0));
  }
  ASSERT_EQ(AliveMembers(st), 3) << st.dump();
  // ...then through 20 more rounds of the queen's 50 ms worker refresh: the
  // alive members (workers by role, but neither listed nor admitted) are not
  // taken as workers.
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    st = PeerStatus(c.http(0));
    ASSERT_TRUE(st.is_object() && st.contains("jobs")) << st.dump();
    EXPECT_TRUE(st["jobs"]["workers"].empty()) << st["jobs"]["workers"].dump();
  }
  EXPECT_NE(c.log(0).find("the queen has no workers: set jobs.workers, or admit peers with the jobs_worker role"),
            std::string::npos)
      << c.log(0);
}

}  // namespace
}  // namespace swarm::e2e
