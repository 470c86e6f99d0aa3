// PlacementView::AliveWithRoles: what the jobs queen takes as its workers when
// jobs.workers is empty (node/jobs/extension.cpp): alive members whose grant
// holds jobs_worker, with their grant's operator — never other members.
#include "node/view.h"

#include <gtest/gtest.h>

#include "admission/grant.h"

namespace swarm::node {
namespace {

constexpr uint32_t kWorker = static_cast<uint32_t>(admission::Role::kJobsWorker);
constexpr uint32_t kObserver = static_cast<uint32_t>(admission::Role::kObserver);
constexpr uint32_t kTrainer = static_cast<uint32_t>(admission::Role::kTrainer);

MemberInfo M(std::string address, std::string state, uint32_t roles, std::string op) {
  MemberInfo m;
  m.id = address;
  m.address = std::move(address);
  m.state = std::move(state);
  m.roles = roles;
  m.operator_name = std::move(op);
  return m;
}

TEST(PlacementView, OnlyAliveMembersWithTheRoleAreJobsWorkers) {
  PlacementView v;
  v.members = {M("127.0.0.1:7003", "alive", kWorker | kObserver, "op-c"),
               M("127.0.0.1:7001", "alive", kTrainer | kObserver, "op-a"),   // a member, not a worker
               M("127.0.0.1:7002", "suspect", kWorker | kObserver, "op-b"),  // not alive now
               M("127.0.0.1:7004", "dead", kWorker, "op-d"),
               M("127.0.0.1:7000", "alive", kWorker, "op-a"),
               M("", "alive", kWorker, "op-e")};  // no address: cannot be called
  const auto w = v.AliveWithRoles(kWorker);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0], (std::pair<std::string, std::string>{"127.0.0.1:7000", "op-a"}));
  EXPECT_EQ(w[1], (std::pair<std::string, std::string>{"127.0.0.1:7003", "op-c"}));
  EXPECT_TRUE(v.AliveWithRoles(static_cast<uint32_t>(admission::Role::kQueen)).empty());
  // Every bit asked for must be held.
  EXPECT_EQ(v.AliveWithRoles(kWorker | kObserver).size(), 1u);
}

}  // namespace
}  // namespace swarm::node
