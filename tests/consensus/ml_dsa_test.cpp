// The PBFT committee with real ML-DSA-65 signatures: a normal-case round, a
// view change with certificates verified under ML-DSA, and forgery rejection.
#include "consensus/ml_dsa_authenticator.h"

#include <gtest/gtest.h>

#include "consensus/canonical.h"
#include "consensus/cluster.h"
#include "consensus/codec.h"

namespace swarm::consensus {
namespace {

struct MlDsaCommittee {
  explicit MlDsaCommittee(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      auto s = crypto::GenerateSigner(crypto::SignatureScheme::kMlDsa65);
      SWARM_ASSERT(s.ok());
      keys.push_back((*s)->public_key());
      signers.push_back(std::move(s).value());
    }
    for (uint32_t i = 0; i < n; ++i) {
      auto a = MlDsaAuthenticator::Create(signers[i].get(), keys);
      SWARM_ASSERT(a.ok());
      auths.push_back(std::move(a).value());
    }
  }
  std::vector<std::unique_ptr<crypto::Signer>> signers;
  std::vector<Bytes> keys;
  std::vector<std::unique_ptr<MlDsaAuthenticator>> auths;
};

TEST(MlDsaAuthenticatorTest, SignVerifyAndRejections) {
  MlDsaCommittee c(4);
  const Bytes msg = CanonicalBytes(Prepare{1, 2, {}});
  const Bytes sig = c.auths[1]->Sign(msg);
  EXPECT_EQ(sig.size(), crypto::SchemeSizesOf(crypto::SignatureScheme::kMlDsa65).signature);
  EXPECT_TRUE(c.auths[3]->Verify(ReplicaId(1), msg, sig));
  EXPECT_FALSE(c.auths[3]->Verify(ReplicaId(2), msg, sig)) << "attributed to another replica";
  EXPECT_FALSE(c.auths[3]->Verify(ReplicaId(9), msg, sig)) << "unknown signer";
  Bytes bad = sig;
  bad[10] ^= 1;
  EXPECT_FALSE(c.auths[3]->Verify(ReplicaId(1), msg, bad));
  EXPECT_FALSE(c.auths[3]->Verify(ReplicaId(1), CanonicalBytes(Commit{1, 2, {}}), sig)) << "domain separation";
  // Construction errors name the problem.
  auto wrong = c.keys;
  wrong[2].pop_back();
  auto r = MlDsaAuthenticator::Create(c.signers[0].get(), wrong);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("replica 2"), std::string::npos);
}

TEST(MlDsaAuthenticatorTest, CommitteeOrdersAndChangesViewUnderMlDsa) {
  MlDsaCommittee keys(4);
  ReplicaConfig cfg;
  cfg.checkpoint_interval = 2;
  cfg.log_window = 4;
  cfg.batch_delay = 0;
  cfg.n = 4;
  std::vector<std::unique_ptr<testing::CounterMachine>> machines;
  std::vector<std::unique_ptr<Replica>> replicas;
  for (uint32_t i = 0; i < 4; ++i) {
    machines.push_back(std::make_unique<testing::CounterMachine>());
    cfg.self = ReplicaId(i);
    replicas.push_back(*Replica::Create(cfg, keys.auths[i].get(), machines[i].get()));
  }
  bool primary_up = true;
  auto run = [&] {
    for (bool busy = true; busy;) {
      busy = false;
      for (uint32_t i = 0; i < 4; ++i) {
        Ready rd = replicas[i]->TakeOutbox();
        for (auto& out : rd.messages) {
          for (uint32_t j = 0; j < 4; ++j) {
            if (j == i || (out.to && out.to->value() != j)) continue;
            if (!primary_up && (i == 0 || j == 0)) continue;
            // Through the wire codec as well.
            auto m = DecodeMessage(*EncodeMessage(out.message));
            ASSERT_TRUE(m.ok());
            replicas[j]->OnMessage(ReplicaId(i), *m);
            busy = true;
          }
        }
      }
    }
  };
  for (uint64_t k = 1; k <= 3; ++k) {
    ASSERT_TRUE(replicas[1]->Propose(Request{1, k, Bytes{static_cast<uint8_t>(k)}}).ok());
    run();
  }
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(machines[i]->log.size(), 3u);
  // Primary 0 goes silent: view change to 1, new view verified with ML-DSA certificates.
  primary_up = false;
  ASSERT_TRUE(replicas[2]->Propose(Request{2, 1, Bytes{42}}).ok());
  run();
  Nanos now = 0;
  for (int t = 0; t < 300 && machines[2]->log.size() < 4; ++t) {
    now += Millis(10);
    for (auto& r : replicas) r->OnTick(now);
    run();
  }
  for (uint32_t i = 1; i < 4; ++i) {
    EXPECT_EQ(replicas[i]->view(), 1u);
    EXPECT_EQ(machines[i]->log, machines[1]->log);
    EXPECT_EQ(machines[i]->log.size(), 4u);
    EXPECT_EQ(replicas[i]->counters().dropped[static_cast<size_t>(DropReason::kBadSignature)], 0u);
    EXPECT_EQ(replicas[i]->counters().dropped[static_cast<size_t>(DropReason::kInvalidCertificate)], 0u);
  }
  // A message signed under another replica's name is rejected.
  const Prepare p{1, replicas[1]->last_executed() + 1, {}};
  Signed<Prepare> forged{ReplicaId(3), p, keys.auths[2]->Sign(CanonicalBytes(p))};
  replicas[1]->OnMessage(ReplicaId(2), forged);
  EXPECT_EQ(replicas[1]->counters().dropped[static_cast<size_t>(DropReason::kBadSignature)], 1u);
}

}  // namespace
}  // namespace swarm::consensus
