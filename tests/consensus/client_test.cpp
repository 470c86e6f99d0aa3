// The committee client (client/consensus_client.h) against 4 ConsensusDrivers
// over loopback gRPC (consensus/local_committee.h): appends through any member
// with f+1 confirmation, concurrent appends resolved by re-signing on the new
// head, round roots shared by agreeing trainers, an unreachable committee
// named in the error, epoch kinds refused from non-members.
#include <thread>

#include <gtest/gtest.h>

#include "client/consensus_client.h"
#include "consensus/epoch.h"
#include "consensus/local_committee.h"

namespace swarm::node {
namespace {

std::unique_ptr<LocalCommittee> MakeCommittee() {
  LocalCommitteeOptions o;
  o.n = 4;
  o.replica.request_timeout = Millis(1000);
  o.replica.view_change_timeout = Millis(1000);
  o.replica.resend_interval = Millis(50);
  const auto keys = consensus::KeyedHashAuthenticator::DeriveKeys(4, 7);
  o.make_auth = [keys](uint32_t i) {
    return std::make_unique<consensus::KeyedHashAuthenticator>(consensus::ReplicaId(i), keys);
  };
  return std::move(LocalCommittee::Start(std::move(o))).value();
}

crypto::Identity NewIdentity() { return std::move(crypto::Identity::Generate()).value(); }

TEST(CommitteeClient, AppendsThroughAnyMemberAndFPlusOneConfirm) {
  auto c = MakeCommittee();
  const crypto::Identity id = NewIdentity();
  CommitteeClientOptions o;
  o.members = {c->addresses()[2]};
  o.timeout = Seconds(20);
  LedgerAppendSpec spec;
  spec.kind = "note";
  spec.payload_root.fill(1);
  auto r = AppendToCommittee(id, spec, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->reply.applied());
  EXPECT_EQ(r->reply.index(), 0u);
  EXPECT_EQ(r->committee.size(), 4u);
  auto agree = ConfirmRecord(*r, o);
  ASSERT_TRUE(agree.ok()) << agree.status();
  EXPECT_GE(agree->size(), 2u);
  // A bad spec is InvalidArgument, before anything is sent.
  spec.kind = "has space";
  EXPECT_EQ(AppendToCommittee(id, spec, o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CommitteeClient, ConcurrentAppendsReSignOnTheNewHead) {
  auto c = MakeCommittee();
  std::vector<StatusOr<LedgerAppendResult>> results(4, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const crypto::Identity id = NewIdentity();
      CommitteeClientOptions o;
      o.members = {c->addresses()[static_cast<size_t>(i)]};
      o.timeout = Seconds(30);
      LedgerAppendSpec spec;
      spec.kind = "note";
      spec.payload_root.fill(static_cast<uint8_t>(i));
      results[static_cast<size_t>(i)] = AppendToCommittee(id, spec, o);
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> indices;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    indices.insert(r->reply.index());
  }
  EXPECT_EQ(indices, (std::set<uint64_t>{0, 1, 2, 3}));
}

TEST(CommitteeClient, AgreeingTrainersShareOneCommittedRoundRoot) {
  auto c = MakeCommittee();
  const std::vector<float> aggregate = {0.5f, -1.25f, 3.0f};
  EXPECT_NE(RoundResultRoot(1, aggregate), RoundResultRoot(2, aggregate));
  EXPECT_NE(RoundResultRoot(1, aggregate), RoundResultRoot(1, std::vector<float>{0.5f, -1.25f, 3.5f}));
  std::vector<StatusOr<LedgerAppendResult>> results(4, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const crypto::Identity id = NewIdentity();
      CommitteeClientOptions o;
      o.members = {c->addresses()[static_cast<size_t>(i)]};
      o.timeout = Seconds(30);
      results[static_cast<size_t>(i)] = CommitRoundRoot(id, 1, aggregate, o);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.status();
  // Every record in the ledger is a train.round of round 1 with that root.
  ASSERT_TRUE(c->ledger(0));
  const auto recs = c->ledger(0)->Records(0, 100);
  ASSERT_GE(recs.size(), 1u);
  EXPECT_LE(recs.size(), 4u);
  for (const auto& [bytes, body] : recs) {
    auto r = store::ParseLedgerRecord(bytes).value();
    EXPECT_EQ(r.kind, kRoundRecordKind);
    EXPECT_EQ(r.epoch, 1u);
    EXPECT_EQ(r.payload_root, RoundResultRoot(1, aggregate));
  }
}

TEST(CommitteeClient, AnUnreachableCommitteeIsNamedInTheDeadlineError) {
  const crypto::Identity id = NewIdentity();
  CommitteeClientOptions o;
  o.members = {"127.0.0.1:9"};
  o.timeout = Millis(800);
  auto r = CommitRoundRoot(id, 3, std::vector<float>{1.0f}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  EXPECT_NE(r.status().message().find("127.0.0.1:9"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("800 ms"), std::string::npos) << r.status();
  // Cancellation ends it early.
  o.timeout = Seconds(60);
  o.cancelled = [] { return true; };
  EXPECT_EQ(CommitRoundRoot(id, 3, std::vector<float>{1.0f}, o).status().code(), absl::StatusCode::kCancelled);
}

TEST(CommitteeClient, EpochKindsAreRefusedFromOutsideTheCommittee) {
  auto c = MakeCommittee();
  const crypto::Identity id = NewIdentity();
  CommitteeClientOptions o;
  o.members = {c->addresses()[1]};
  o.timeout = Seconds(10);
  LedgerAppendSpec spec;
  spec.kind = kEpochMembershipKind;
  spec.epoch = 1;
  spec.body = EncodeMembershipEpoch({{"a:1", "x"}}).value();
  spec.payload_root = EpochRoot(spec.body);
  auto r = AppendToCommittee(id, spec, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("reserved to committee members"), std::string::npos) << r.status();
  EXPECT_EQ(c->ledger(1)->Head().size, 0u);
}

}  // namespace
}  // namespace swarm::node
