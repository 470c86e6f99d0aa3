// train/trainer_peer.h, one peer at a time: what its outbox says for an
// honest round, a Byzantine one, a committed root, bad local steps, and a
// secure round against a real train::SecureSumRound with CKKS keys.
#include "train/trainer_peer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fhe/keyset.h"
#include "train/contribution_codec.h"
#include "train/secure_round.h"

namespace swarm::train {
namespace {

constexpr size_t kDim = 4;

TrainerPeerConfig Config(const std::string& self = "a") {
  TrainerPeerConfig c;
  c.self = self;
  c.trainers = {"a", "b", "c"};
  c.job = 9;
  c.dim = kDim;
  c.round_deadline = Millis(100);
  c.first_round_deadline = Millis(100);
  c.give_up_after = Millis(1000);
  c.quorum = 2;
  return c;
}

std::unique_ptr<TrainerPeer> Make(TrainerPeerConfig c = Config(), std::unique_ptr<Attack> attack = nullptr) {
  auto p = TrainerPeer::Create(std::move(c), std::move(*MakeAggregator({.name = "mean"})), std::move(attack));
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(p).value();
}

TEST(TrainerPeer, HonestRoundSendsToTheOthersAndAppliesTheMean) {
  auto p = Make();
  ASSERT_TRUE(p->OnLocalStep(1, {1, 2, 3, 4}, 0).ok());
  auto out = p->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, TrainerAction::kSend);
  EXPECT_EQ(out[0].envelope_kind, kTrainKind);
  EXPECT_EQ(out[0].to, (std::vector<std::string>{"b", "c"}));
  auto d = DecodeContribution(*out[0].payload);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->header.job, 9u);
  EXPECT_EQ(d->header.round, 1u);
  EXPECT_EQ(d->header.sender, "a");
  EXPECT_EQ(d->values, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_TRUE(p->busy());
  ASSERT_TRUE(p->OnContribution("b", 1, {3, 4, 5, 6}, Millis(10)).ok());
  ASSERT_TRUE(p->OnContribution("c", 1, {5, 6, 7, 8}, Millis(20)).ok());
  p->OnTick(Millis(30));
  out = p->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, TrainerAction::kApply);
  EXPECT_EQ(out[0].aggregate, (std::vector<float>{3, 4, 5, 6}));
  EXPECT_EQ(out[0].used, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(p->busy());
}

TEST(TrainerPeer, ASilentTrainerIsNotWaitedOnPastTheDeadline) {
  auto p = Make();
  ASSERT_TRUE(p->OnLocalStep(1, {1, 1, 1, 1}, 0).ok());
  (void)p->TakeOutbox();
  ASSERT_TRUE(p->OnContribution("b", 1, {3, 3, 3, 3}, Millis(10)).ok());
  p->OnTick(Millis(99));
  EXPECT_TRUE(p->TakeOutbox().empty());  // c may still come
  p->OnTick(Millis(100));
  auto out = p->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, TrainerAction::kApply);
  EXPECT_EQ(out[0].duration, Millis(100));
  EXPECT_EQ(out[0].aggregate, (std::vector<float>{2, 2, 2, 2}));
}

TEST(TrainerPeer, BelowQuorumTheStepIsSkippedAtGiveUp) {
  auto p = Make();
  ASSERT_TRUE(p->OnLocalStep(1, {1, 1, 1, 1}, 0).ok());
  (void)p->TakeOutbox();
  p->OnTick(Millis(999));
  EXPECT_TRUE(p->TakeOutbox().empty());
  p->OnTick(Millis(1000));
  auto out = p->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, TrainerAction::kSkip);
  EXPECT_NE(out[0].status.message().find("below quorum"), absl::string_view::npos) << out[0].status;
  // The next round opens normally.
  EXPECT_TRUE(p->OnLocalStep(2, {1, 1, 1, 1}, Millis(1001)).ok());
}

TEST(TrainerPeer, ByzantinePeerCraftsFromTheOthersBeforeSending) {
  AttackSpec as{.name = "ipm", .trainers = 3, .byzantine = 1};
  as.ipm_epsilon = 0.5;
  auto attack = MakeAttack(as);
  ASSERT_TRUE(attack.ok());
  TrainerPeerConfig c = Config();
  c.byzantine = true;
  auto p = Make(c, std::move(attack).value());
  ASSERT_TRUE(p->OnLocalStep(1, {1, 1, 1, 1}, 0).ok());
  EXPECT_TRUE(p->TakeOutbox().empty());  // waits for the honest vectors
  EXPECT_STREQ(p->state_name(), "crafting");
  ASSERT_TRUE(p->OnContribution("b", 1, {2, 2, 2, 2}, Millis(1)).ok());
  ASSERT_TRUE(p->OnContribution("c", 1, {4, 4, 4, 4}, Millis(2)).ok());
  auto out = p->TakeOutbox();
  ASSERT_GE(out.size(), 1u);
  ASSERT_EQ(out[0].kind, TrainerAction::kSend);
  auto d = DecodeContribution(*out[0].payload);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->values, (std::vector<float>{-1.5f, -1.5f, -1.5f, -1.5f}));  // -0.5 * mean(2, 4)
}

TEST(TrainerPeer, ByzantineCraftingWaitsAtMostHalfTheDeadline) {
  auto attack = MakeAttack({.name = "sign_flip", .trainers = 3, .byzantine = 1});
  TrainerPeerConfig c = Config();
  c.byzantine = true;
  auto p = Make(c, std::move(attack).value());
  ASSERT_TRUE(p->OnLocalStep(1, {1, 1, 1, 1}, 0).ok());
  ASSERT_TRUE(p->OnContribution("b", 1, {2, 2, 2, 2}, Millis(1)).ok());
  p->OnTick(Millis(50));
  EXPECT_TRUE(p->TakeOutbox().empty());
  p->OnTick(Millis(51));
  auto out = p->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  auto d = DecodeContribution(*out[0].payload);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->values, (std::vector<float>{-1, -1, -1, -1}));
}

TEST(TrainerPeer, CommittedRootComesBeforeTheApplyAndARefusalFails) {
  TrainerPeerConfig c = Config();
  c.require_committed_root = true;
  auto p = Make(c);
  for (uint64_t r : {1, 2}) {
    const Nanos t = Seconds(static_cast<double>(r));
    ASSERT_TRUE(p->OnLocalStep(r, {1, 1, 1, 1}, t).ok());
    (void)p->TakeOutbox();
    ASSERT_TRUE(p->OnContribution("b", r, {1, 1, 1, 1}, t).ok());
    ASSERT_TRUE(p->OnContribution("c", r, {1, 1, 1, 1}, t).ok());
    p->OnTick(t);
    auto out = p->TakeOutbox();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, TrainerAction::kCommitRoot);
    EXPECT_EQ(out[0].aggregate, (std::vector<float>{1, 1, 1, 1}));
    EXPECT_STREQ(p->state_name(), "committing");
    p->OnRootCommitted(r, r == 1 ? absl::OkStatus() : absl::DeadlineExceededError("no committee answer"));
    out = p->TakeOutbox();
    ASSERT_EQ(out.size(), 1u);
    if (r == 1) {
      EXPECT_EQ(out[0].kind, TrainerAction::kApply);
      EXPECT_EQ(out[0].aggregate, (std::vector<float>{1, 1, 1, 1}));
    } else {
      EXPECT_EQ(out[0].kind, TrainerAction::kFail);
      EXPECT_NE(out[0].status.message().find("round 2: result root not committed"), absl::string_view::npos)
          << out[0].status;
    }
  }
}

TEST(TrainerPeer, BadLocalStepsAreRefusedNamingTheValues) {
  auto p = Make();
  Status st = p->OnLocalStep(1, {1, 2}, 0);
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_NE(st.message().find("2 values, expected dim = 4"), absl::string_view::npos) << st;
  ASSERT_TRUE(p->OnLocalStep(1, {1, 1, 1, 1}, 0).ok());
  st = p->OnLocalStep(2, {1, 1, 1, 1}, 0);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;  // round 1 is still open
  p->OnTick(Millis(1000));
  (void)p->TakeOutbox();
  st = p->OnLocalStep(1, {1, 1, 1, 1}, Millis(1001));
  EXPECT_TRUE(absl::IsFailedPrecondition(st));
  EXPECT_NE(st.message().find("not after the previous round 1"), absl::string_view::npos) << st;
}

TEST(TrainerPeer, BadConfigIsRefusedNamingTheField) {
  TrainerPeerConfig c = Config();
  c.self = "z";
  auto p = TrainerPeer::Create(c, std::move(*MakeAggregator({.name = "mean"})), nullptr);
  EXPECT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("self 'z'"), absl::string_view::npos) << p.status();
  c = Config();
  c.aggregator = "agg";  // secure mode without keys
  p = TrainerPeer::Create(c, std::move(*MakeAggregator({.name = "mean"})), nullptr);
  EXPECT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("secure"), absl::string_view::npos) << p.status();
}

// Secure mode end to end in memory: three peers encrypt, a SecureSumRound
// adds, each peer decrypts the mean. Real CKKS (N = 4096).
TEST(TrainerPeer, SecureRoundAppliesTheDecryptedMeanAndSkipsWhenTheAggregatorMovesOn) {
  auto spec = SecureAggParams(3, 4.0);
  ASSERT_TRUE(spec.ok());
  auto keys = fhe::GenerateKeySet(*spec, {.relin_key = false, .galois_keys = false});
  ASSERT_TRUE(keys.ok()) << keys.status();
  std::vector<std::unique_ptr<TrainerPeer>> peers;
  for (const char* self : {"a", "b", "c"}) {
    TrainerPeerConfig c = Config(self);
    c.aggregator = "agg";
    c.secure_clip = 4;
    SecureTrainerKeys k;
    k.ctx = keys->eval.ctx;
    auto enc = fhe::SecureSumEncryptor::Create(keys->eval.ctx, *keys->eval.public_key, {.scale = 0, .value_abs_max = 4});
    auto dec = fhe::SecureSumDecryptor::Create(keys->eval.ctx, keys->secret_key, 2);
    ASSERT_TRUE(enc.ok() && dec.ok());
    k.encryptor = std::make_unique<fhe::SecureSumEncryptor>(std::move(enc).value());
    k.decryptor = std::make_unique<fhe::SecureSumDecryptor>(std::move(dec).value());
    auto p = TrainerPeer::Create(c, std::move(*MakeAggregator({.name = "mean"})), nullptr, std::move(k));
    ASSERT_TRUE(p.ok()) << p.status();
    peers.push_back(std::move(p).value());
  }
  SecureRoundConfig rc;
  rc.trainers = {"a", "b", "c"};
  rc.dim = kDim;
  rc.round_deadline = Millis(100);
  rc.first_round_deadline = Millis(100);
  rc.give_up_after = Millis(1000);
  rc.quorum = 2;
  auto agg = SecureSumRound::Create(rc, keys->eval.ctx, keys->eval.key_id);
  ASSERT_TRUE(agg.ok());
  // Round 1: a and b contribute (b's 9 is clipped to 4), c is silent.
  const std::vector<std::vector<float>> v = {{1, 2, 3, 4}, {3, 2, 1, 9}, {0, 0, 0, 0}};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(peers[i]->OnLocalStep(1, v[i], 0).ok());
    auto out = peers[i]->TakeOutbox();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].envelope_kind, kTrainCtKind);
    EXPECT_EQ(out[0].to, std::vector<std::string>{"agg"});
    auto ct = DecodeSecureCiphertext(*out[0].payload);
    ASSERT_TRUE(ct.ok()) << ct.status();
    ASSERT_TRUE((*agg)->OnContribution(ct->header.sender, ct->header.round, ct->blob, Millis(1)).ok());
  }
  EXPECT_EQ(peers[1]->values_clipped(), 1);
  ASSERT_TRUE(peers[2]->OnLocalStep(1, v[2], Millis(150)).ok());  // c starts late: its ciphertext is not sent on
  (void)peers[2]->TakeOutbox();
  (*agg)->OnTick(Millis(101));
  auto sum = (*agg)->TakeOutbox();
  ASSERT_TRUE(sum.has_value());
  ASSERT_TRUE(sum->status.ok()) << sum->status;
  const Bytes wire = EncodeSecureSum({.job = 9, .round = 1, .sender = "agg"}, sum->used,
                                     fhe::SerializeEncryptedVector(*keys->eval.ctx, sum->sum));
  for (int i = 0; i < 3; ++i) {
    auto msg = DecodeSecureSum(wire);
    ASSERT_TRUE(msg.ok());
    ASSERT_TRUE(peers[i]->OnSum(std::move(msg).value(), Millis(200)).ok());
    auto out = peers[i]->TakeOutbox();
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].kind, TrainerAction::kApply) << out[0].status;
    const std::vector<float> want = {2, 2, 2, 4};  // mean of (1,2,3,4) and (3,2,1,4)
    for (size_t k = 0; k < kDim; ++k) EXPECT_NEAR(out[0].aggregate[k], want[k], 1e-3) << k;
    EXPECT_EQ(out[0].included, i < 2);
    EXPECT_EQ(out[0].count_reason, i < 2 ? "" : "late");
  }
  EXPECT_EQ(peers[2]->rounds_not_included(), 1);
  // A duplicate or stale sum is refused.
  auto again = DecodeSecureSum(wire);
  EXPECT_EQ(std::string(peers[0]->OnSum(std::move(again).value(), Millis(201)).message()).substr(0, 5), "stale");
  // Round 2: the aggregator's round-3 sum arrives first: round 2 is skipped.
  ASSERT_TRUE(peers[0]->OnLocalStep(2, v[0], Millis(300)).ok());
  (void)peers[0]->TakeOutbox();
  auto r3 = DecodeSecureSum(EncodeSecureSum({.job = 9, .round = 3, .sender = "agg"}, sum->used,
                                            fhe::SerializeEncryptedVector(*keys->eval.ctx, sum->sum)));
  ASSERT_TRUE(peers[0]->OnSum(std::move(r3).value(), Millis(310)).ok());
  auto out = peers[0]->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, TrainerAction::kSkip);
  EXPECT_NE(out[0].status.message().find("aggregator is at round 3"), absl::string_view::npos) << out[0].status;
}

}  // namespace
}  // namespace swarm::train
