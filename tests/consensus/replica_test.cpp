#include "consensus/replica.h"

#include <gtest/gtest.h>

#include "consensus/canonical.h"
#include "consensus/cluster.h"

namespace swarm::consensus {
namespace {

using testing::Cluster;

ReplicaConfig Small() {
  ReplicaConfig c;
  c.checkpoint_interval = 2;
  c.log_window = 4;
  c.batch_requests_max = 2;
  c.batch_delay = 0;
  return c;
}

Request Req(uint64_t client, uint64_t seq, std::string s = "x") {
  return Request{client, seq, Bytes(s.begin(), s.end())};
}

uint64_t Dropped(const Replica& r, DropReason why) { return r.counters().dropped[static_cast<size_t>(why)]; }

TEST(ReplicaConfigTest, RejectsCommitteeNotThreeFPlusOne) {
  ReplicaConfig c;
  c.n = 5;
  const Status s = c.Validate();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("consensus.n = 5"), std::string::npos) << s;
  c.n = 4;
  c.log_window = 3;
  EXPECT_NE(std::string(c.Validate().message()).find("log_window"), std::string::npos);
  EXPECT_TRUE(ReplicaConfig{}.Validate().ok());
}

TEST(ReplicaTest, NormalCaseOrdersBatchesIdenticallyAndCollectsGarbage) {
  Cluster c(4, Small());
  for (uint64_t k = 1; k <= 9; ++k) {
    ASSERT_TRUE(c.replicas[k % 4]->Propose(Req(k % 3, k, "p" + std::to_string(k))).ok());
    c.Run();
  }
  c.Tick(Millis(5));
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.machines[i]->log.size(), 9u) << "replica " << i;
    EXPECT_EQ(c.machines[i]->log, c.machines[0]->log);
    EXPECT_GE(c.replicas[i]->stable_checkpoint(), 2u);
    EXPECT_LE(c.replicas[i]->log_size(), 4u);
    // Late votes for garbage-collected sequence numbers are dropped as stale; nothing else is.
    EXPECT_EQ(c.replicas[i]->counters().dropped_total() - Dropped(*c.replicas[i], DropReason::kDuplicate) -
                  Dropped(*c.replicas[i], DropReason::kOutsideWatermarks),
              0u);
  }
}

TEST(ReplicaTest, DuplicateRequestAppliedOnce) {
  Cluster c(4, Small());
  ASSERT_TRUE(c.replicas[1]->Propose(Req(1, 1)).ok());
  ASSERT_TRUE(c.replicas[2]->Propose(Req(1, 1)).ok());
  c.Run();
  c.Tick(Millis(5));
  ASSERT_TRUE(c.replicas[3]->Propose(Req(1, 1)).ok());
  c.Run();
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(c.machines[i]->log.size(), 1u);
}

TEST(ReplicaTest, ProposeRejectsOversizedPayloadNamingTheField) {
  Cluster c(4, Small());
  const Status s = c.replicas[0]->Propose(Request{1, 1, Bytes(70 * 1024)});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("request.payload"), std::string::npos);
}

// Builds a pre-prepare signed by `signer` with the right digest.
Signed<PrePrepare> PP(Cluster& c, uint32_t signer, ViewNumber v, SeqNumber s, std::vector<Request> batch) {
  PrePrepare pp{v, s, BatchDigest(batch), std::move(batch)};
  Bytes sig = c.auths[signer]->Sign(CanonicalBytes(pp));
  return Signed<PrePrepare>{ReplicaId(signer), pp, sig};
}

TEST(ReplicaTest, BadInputIsDroppedAndCountedByReason) {
  Cluster c(4, Small());
  Replica& r = *c.replicas[1];
  // Bad signature.
  auto pp = PP(c, 0, 0, 1, {Req(1, 1)});
  auto bad = pp;
  bad.signature[0] ^= 1;
  r.OnMessage(ReplicaId(0), bad);
  EXPECT_EQ(Dropped(r, DropReason::kBadSignature), 1u);
  // Signed by someone else than the claimed signer.
  auto stolen = PP(c, 3, 0, 1, {Req(1, 1)});
  stolen.signer = ReplicaId(0);
  r.OnMessage(ReplicaId(3), stolen);
  EXPECT_EQ(Dropped(r, DropReason::kBadSignature), 2u);
  // Not from the primary.
  r.OnMessage(ReplicaId(2), PP(c, 2, 0, 1, {Req(1, 1)}));
  EXPECT_EQ(Dropped(r, DropReason::kNotPrimary), 1u);
  // Above the high watermark (window 4).
  r.OnMessage(ReplicaId(0), PP(c, 0, 0, 5, {Req(1, 1)}));
  EXPECT_EQ(Dropped(r, DropReason::kOutsideWatermarks), 1u);
  // Wrong view.
  r.OnMessage(ReplicaId(0), PP(c, 0, 4, 1, {Req(1, 1)}));
  EXPECT_EQ(Dropped(r, DropReason::kWrongView), 1u);
  // Digest that does not match the batch.
  auto lie = PP(c, 0, 0, 1, {Req(1, 1)});
  lie.body.batch.push_back(Req(2, 2));
  lie.signature = c.auths[0]->Sign(CanonicalBytes(lie.body));
  r.OnMessage(ReplicaId(0), lie);
  EXPECT_EQ(Dropped(r, DropReason::kMalformed), 1u);
  // Unknown signer.
  auto ghost = pp;
  ghost.signer = ReplicaId(9);
  r.OnMessage(ReplicaId(0), ghost);
  EXPECT_EQ(Dropped(r, DropReason::kUnknownSigner), 1u);
  // Accepted, then an equivocating pre-prepare for the same (view, seq).
  r.OnMessage(ReplicaId(0), pp);
  r.OnMessage(ReplicaId(0), PP(c, 0, 0, 1, {Req(1, 2)}));
  EXPECT_EQ(Dropped(r, DropReason::kEquivocation), 1u);
  EXPECT_EQ(r.log_size(), 1u);
}

TEST(ReplicaTest, NewViewPlanTakesHighestViewCertificateAndFillsGapsWithNull) {
  Cluster c(4, Small());
  auto cert = [&](ViewNumber v, SeqNumber s, uint64_t client) {
    PreparedCert pc;
    pc.pre_prepare = PP(c, static_cast<uint32_t>(v % 4), v, s, {Req(client, s)});
    return pc;
  };
  std::vector<Signed<ViewChange>> vcs(3);
  vcs[0].body = ViewChange{5, {}, {cert(1, 1, 10), cert(1, 3, 10)}};
  vcs[1].body = ViewChange{5, {}, {cert(2, 1, 20)}};
  vcs[2].body = ViewChange{5, {}, {}};
  const auto plan = Replica::ComputeNewViewPlan(5, vcs);
  ASSERT_EQ(plan.pre_prepares.size(), 3u);
  EXPECT_EQ(plan.pre_prepares[0].batch, std::vector<Request>{Req(20, 1)});  // view 2 beats view 1
  EXPECT_TRUE(plan.pre_prepares[1].batch.empty());                         // gap -> null request
  EXPECT_EQ(plan.pre_prepares[1].digest, BatchDigest({}));
  EXPECT_EQ(plan.pre_prepares[2].batch, std::vector<Request>{Req(10, 3)});
  for (const auto& pp : plan.pre_prepares) EXPECT_EQ(pp.view, 5u);
}

TEST(ReplicaTest, SilentPrimaryIsReplacedByViewChange) {
  Cluster c(4, Small());
  c.link = [](uint32_t from, uint32_t to) { return from != 0 && to != 0; };  // primary 0 cut off
  ASSERT_TRUE(c.replicas[1]->Propose(Req(1, 1)).ok());
  c.Run();
  for (int t = 0; t < 400 && c.machines[1]->log.empty(); ++t) c.Tick(Millis(10));
  for (uint32_t i = 1; i < 4; ++i) {
    EXPECT_EQ(c.replicas[i]->view(), 1u);
    EXPECT_FALSE(c.replicas[i]->in_view_change());
    ASSERT_EQ(c.machines[i]->log.size(), 1u) << "replica " << i;
  }
  EXPECT_GE(c.replicas[1]->counters().new_views_installed, 1u);
}

TEST(ReplicaTest, TamperedNewViewIsRejected) {
  Cluster c(4, Small());
  c.link = [](uint32_t from, uint32_t to) { return from != 0 && to != 0; };
  ASSERT_TRUE(c.replicas[2]->Propose(Req(1, 1)).ok());
  c.Run();
  // Capture the new-view that primary 1 sends, tamper with it, deliver to replica 0.
  std::optional<Signed<NewView>> nv;
  for (int t = 0; t < 400 && !nv; ++t) {
    c.Tick(Millis(10));
    if (!c.new_views.empty()) nv = c.new_views.front();
  }
  ASSERT_TRUE(nv.has_value());
  Replica& r0 = *c.replicas[0];
  // Move replica 0 into view 1's view change too so it would accept a new view.
  // The new primary slips in a pre-prepare the view changes do not justify.
  auto forged = *nv;
  forged.body.pre_prepares.push_back(PP(c, 1, 1, forged.body.pre_prepares.size() + 1, {Req(9, 9)}));
  forged.signature = c.auths[1]->Sign(CanonicalBytes(forged.body));
  r0.OnMessage(ReplicaId(1), forged);
  EXPECT_EQ(Dropped(r0, DropReason::kInvalidCertificate), 1u);
  EXPECT_EQ(r0.view(), 0u);
  r0.OnMessage(ReplicaId(1), *nv);  // the genuine one is accepted
  EXPECT_EQ(r0.view(), 1u);
  EXPECT_FALSE(r0.in_view_change());
}

TEST(ReplicaTest, LaggingReplicaCatchesUpByStateTransfer) {
  Cluster c(4, Small());
  c.link = [](uint32_t from, uint32_t to) { return from != 3 && to != 3; };
  for (uint64_t k = 1; k <= 12; ++k) {
    ASSERT_TRUE(c.replicas[k % 3]->Propose(Req(1, k)).ok());
    c.Run();
    c.Tick(Millis(2));
  }
  EXPECT_EQ(c.machines[3]->log.size(), 0u);
  EXPECT_GE(c.replicas[0]->stable_checkpoint(), 8u);
  c.link = nullptr;  // heal
  for (int t = 0; t < 100 && c.machines[3]->log.size() < 12; ++t) c.Tick(Millis(50));
  EXPECT_EQ(c.machines[3]->log, c.machines[0]->log);
  EXPECT_GE(c.replicas[3]->counters().state_transfers, 1u);
  EXPECT_EQ(c.replicas[3]->last_executed(), c.replicas[0]->last_executed());
  // The requests inside the installed snapshot count as executed (a driver
  // answers its waiting clients from this; no CommittedEntry reports them).
  for (uint64_t k = 1; k <= 12; ++k) EXPECT_TRUE(c.replicas[3]->Executed(1, k)) << "request " << k;
  EXPECT_FALSE(c.replicas[3]->Executed(1, 13));
  EXPECT_FALSE(c.replicas[3]->Executed(2, 1));
}

TEST(ReplicaTest, RestartFromDurableStateResumes) {
  Cluster c(4, Small());
  for (uint64_t k = 1; k <= 5; ++k) {
    ASSERT_TRUE(c.replicas[1]->Propose(Req(1, k)).ok());
    c.Run();
  }
  const SeqNumber before = c.replicas[2]->last_executed();
  DurableState saved = c.replicas[2]->durable_state();
  c.machines[2] = std::make_unique<testing::CounterMachine>();
  auto r = Replica::Create(c.configs[2], c.auths[2].get(), c.machines[2].get(), saved);
  ASSERT_TRUE(r.ok()) << r.status();
  c.replicas[2] = std::move(r).value();
  EXPECT_EQ(c.replicas[2]->last_executed(), before) << "re-applies committed batches above the checkpoint";
  EXPECT_EQ(c.machines[2]->log, c.machines[0]->log);
  ASSERT_TRUE(c.replicas[3]->Propose(Req(2, 1)).ok());
  c.Run();
  c.Tick(Millis(5));
  EXPECT_EQ(c.machines[2]->log, c.machines[0]->log);
  EXPECT_EQ(c.machines[2]->log.size(), 6u);
}

}  // namespace
}  // namespace swarm::consensus
