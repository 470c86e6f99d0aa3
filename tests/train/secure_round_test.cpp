// The aggregating peer's encrypted-sum round (train/secure_round.h) and the
// train_ct / train_sum codec, with real CKKS ciphertexts (N = 4096 preset).
#include "train/secure_round.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fhe/keyset.h"
#include "train/secure_codec.h"

namespace swarm::train {
namespace {

constexpr size_t kDim = 3000;  // 2 chunks of 2048 slots at N = 4096

const fhe::KeySet& Group() {
  static const fhe::KeySet* ks = [] {
    auto spec = SecureAggParams(4, 4.0);
    EXPECT_TRUE(spec.ok()) << spec.status();
    auto k = fhe::GenerateKeySet(*spec, {.relin_key = false, .galois_keys = false});
    EXPECT_TRUE(k.ok()) << k.status();
    return new fhe::KeySet(*k);
  }();
  return *ks;
}

std::vector<float> Vec(int who, float base = 0) {
  std::vector<float> v(kDim);
  for (size_t i = 0; i < kDim; ++i) v[i] = base + 0.001f * static_cast<float>(who) * static_cast<float>(i % 97) - 0.05f;
  return v;
}

Bytes Encrypt(const std::vector<float>& v, const fhe::KeySet& keys = Group()) {
  auto enc = fhe::SecureSumEncryptor::Create(keys.eval.ctx, *keys.eval.public_key, {.scale = 0, .value_abs_max = 4});
  EXPECT_TRUE(enc.ok()) << enc.status();
  auto ev = enc->Encrypt(v);
  EXPECT_TRUE(ev.ok()) << ev.status();
  return fhe::SerializeEncryptedVector(*keys.eval.ctx, *ev);
}

SecureRoundConfig Config() {
  SecureRoundConfig c;
  c.trainers = {"a", "b", "c"};
  c.dim = kDim;
  c.round_deadline = Millis(100);
  c.first_round_deadline = Millis(500);
  c.give_up_after = Millis(1000);
  c.quorum = 2;
  c.rounds = 10;
  return c;
}

std::unique_ptr<SecureSumRound> Make(SecureRoundConfig c = Config()) {
  auto r = SecureSumRound::Create(std::move(c), Group().eval.ctx, Group().eval.key_id);
  EXPECT_TRUE(r.ok()) << r.status();
  return std::move(r).value();
}

std::vector<double> Decrypt(const fhe::EncryptedVector& v) {
  auto dec = fhe::SecureSumDecryptor::Create(Group().eval.ctx, Group().secret_key, 1);
  EXPECT_TRUE(dec.ok());
  auto s = dec->DecryptSum(v);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : std::vector<double>{};
}

std::string Reason(const Status& st) { return std::string(st.message().substr(0, st.message().find(':'))); }

TEST(SecureAggParams, PicksTheSmallestPresetThatFits) {
  auto small = SecureAggParams(3, 4.0);
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->poly_degree, 4096u);  // 12 * 2^29 < 2^38
  auto big = SecureAggParams(200, 4.0);  // 800 * 2^29 > 2^38: needs q_0 = 60 bits
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->poly_degree, 8192u);
  auto none = SecureAggParams(1000000, 1000.0);
  EXPECT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("clip = 1000"), std::string::npos) << none.status();
  EXPECT_FALSE(SecureAggParams(3, -1).ok());
}

TEST(SecureSumRound, SumsEveryTrainerAndDecryptsToThePlainSum) {
  auto r = Make();
  ASSERT_TRUE(r->OnContribution("a", 1, Encrypt(Vec(1)), 0).ok());
  ASSERT_TRUE(r->OnContribution("b", 1, Encrypt(Vec(2)), Millis(1)).ok());
  EXPECT_FALSE(r->TakeOutbox());
  ASSERT_TRUE(r->OnContribution("c", 1, Encrypt(Vec(3)), Millis(2)).ok());
  auto out = r->TakeOutbox();
  ASSERT_TRUE(out);
  ASSERT_TRUE(out->status.ok()) << out->status;
  EXPECT_EQ(out->round, 1u);
  EXPECT_EQ(out->sum.contributors, 3u);
  EXPECT_EQ(out->used, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(out->closed_by_deadline);
  auto sum = Decrypt(out->sum);
  ASSERT_EQ(sum.size(), kDim);
  double err = 0;
  for (size_t i = 0; i < kDim; ++i) err = std::max(err, std::fabs(sum[i] - (Vec(1)[i] + Vec(2)[i] + Vec(3)[i])));
  EXPECT_LT(err, 1e-3);
  EXPECT_EQ(r->round(), 2u);
  EXPECT_EQ(r->contributions_summed(), 3);
}

TEST(SecureSumRound, DeadlineClosesWithQuorumAndTheLateOneIsCounted) {
  auto r = Make();
  ASSERT_TRUE(r->OnContribution("a", 1, Encrypt(Vec(1)), 0).ok());
  ASSERT_TRUE(r->OnContribution("b", 1, Encrypt(Vec(2)), Millis(10)).ok());
  r->OnTick(Millis(400));
  EXPECT_FALSE(r->TakeOutbox());  // first round: 500 ms
  r->OnTick(Millis(500));
  auto out = r->TakeOutbox();
  ASSERT_TRUE(out);
  ASSERT_TRUE(out->status.ok());
  EXPECT_TRUE(out->closed_by_deadline);
  EXPECT_EQ(out->missing, (std::vector<std::string>{"c"}));
  Status late = r->OnContribution("c", 1, Encrypt(Vec(3)), Millis(600));
  EXPECT_EQ(Reason(late), "late") << late;
  EXPECT_EQ(r->excluded(SecureExclusion::kLate), 1);
  // Round 2 uses the normal deadline, counted from its first contribution.
  ASSERT_TRUE(r->OnContribution("a", 2, Encrypt(Vec(1)), Millis(2000)).ok());
  ASSERT_TRUE(r->OnContribution("b", 2, Encrypt(Vec(2)), Millis(2010)).ok());
  r->OnTick(Millis(2099));
  EXPECT_FALSE(r->TakeOutbox());
  r->OnTick(Millis(2100));
  ASSERT_TRUE(r->TakeOutbox());
}

TEST(SecureSumRound, BelowQuorumGivesUpAsFailed) {
  auto r = Make();
  ASSERT_TRUE(r->OnContribution("a", 1, Encrypt(Vec(1)), 0).ok());
  r->OnTick(Millis(999));
  EXPECT_FALSE(r->TakeOutbox());
  r->OnTick(Millis(1000));
  auto out = r->TakeOutbox();
  ASSERT_TRUE(out);
  EXPECT_TRUE(absl::IsUnavailable(out->status)) << out->status;
  EXPECT_EQ(r->rounds_failed(), 1);
  EXPECT_EQ(r->round(), 2u);
}

TEST(SecureSumRound, ExclusionsAreNamedAndCounted) {
  auto r = Make();
  EXPECT_EQ(Reason(r->OnContribution("mallory", 1, Encrypt(Vec(1)), 0)), "not_a_trainer");
  EXPECT_EQ(Reason(r->OnContribution("a", 9, Encrypt(Vec(1)), 0)), "wrong_round");
  EXPECT_EQ(Reason(r->OnContribution("a", 11, Encrypt(Vec(1)), 0)), "wrong_round");
  Bytes good = Encrypt(Vec(1));
  Bytes truncated(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  Status st = r->OnContribution("a", 1, truncated, 0);
  EXPECT_EQ(Reason(st), "bad_ciphertext") << st;
  Bytes garbage(500, 0x41);
  EXPECT_EQ(Reason(r->OnContribution("a", 1, garbage, 0)), "bad_ciphertext");
  // Another length than dim.
  std::vector<float> shorter(kDim - 1, 0.1f);
  EXPECT_EQ(Reason(r->OnContribution("a", 1, Encrypt(shorter), 0)), "bad_ciphertext");
  // Another key (a ciphertext the group could not decrypt).
  auto other = fhe::GenerateKeySet(*SecureAggParams(4, 4.0), {.relin_key = false, .galois_keys = false});
  ASSERT_TRUE(other.ok());
  st = r->OnContribution("a", 1, Encrypt(Vec(1), *other), 0);
  EXPECT_EQ(Reason(st), "bad_ciphertext") << st;
  EXPECT_NE(st.message().find("group key"), std::string::npos) << st;
  // None of these opened the round; a good one does, a second one is a duplicate.
  ASSERT_TRUE(r->OnContribution("a", 1, good, 0).ok());
  EXPECT_EQ(Reason(r->OnContribution("a", 1, good, 0)), "duplicate");
  EXPECT_EQ(r->excluded(SecureExclusion::kNotATrainer), 1);
  EXPECT_EQ(r->excluded(SecureExclusion::kWrongRound), 2);
  EXPECT_EQ(r->excluded(SecureExclusion::kBadCiphertext), 4);
  EXPECT_EQ(r->excluded(SecureExclusion::kDuplicate), 1);
  EXPECT_EQ(r->accepted(), 1u);
}

TEST(SecureSumRound, KeptFutureContributionsCloseTheNextRound) {
  auto r = Make();
  // b and c gave up on round 1 and moved on; a is still in round 1.
  ASSERT_TRUE(r->OnContribution("b", 2, Encrypt(Vec(2)), 0).ok());
  ASSERT_TRUE(r->OnContribution("c", 2, Encrypt(Vec(3)), 0).ok());
  EXPECT_EQ(Reason(r->OnContribution("c", 2, Encrypt(Vec(3)), 0)), "duplicate");
  ASSERT_TRUE(r->OnContribution("a", 1, Encrypt(Vec(1)), Millis(5)).ok());
  // Round 1 (only a) fails at give_up, counted from the first kept contribution.
  r->OnTick(Millis(1000));
  auto first = r->TakeOutbox();
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->status.ok());
  EXPECT_EQ(r->round(), 2u);
  ASSERT_TRUE(r->OnContribution("a", 2, Encrypt(Vec(1)), Millis(1001)).ok());
  auto second = r->TakeOutbox();
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->status.ok()) << second->status;
  EXPECT_EQ(second->sum.contributors, 3u);
}

TEST(SecureSumRound, ADeadTrainerIsNoLongerWaitedFor) {
  auto c = Config();
  c.rounds = 0;
  auto r = Make(c);
  Nanos t = 0;
  for (uint64_t round = 1; round <= 4; ++round) {
    t += Seconds(1);
    ASSERT_TRUE(r->OnContribution("a", round, Encrypt(Vec(1)), t).ok());
    ASSERT_TRUE(r->OnContribution("b", round, Encrypt(Vec(2)), t).ok());
    r->OnTick(t + Seconds(0.6));
    auto out = r->TakeOutbox();
    ASSERT_TRUE(out) << round;
    // Rounds 1 and 2 wait for c's deadline; from round 3 on c is not waited for.
    EXPECT_EQ(out->closed_by_deadline, round <= 2) << round;
  }
  EXPECT_EQ(r->expected_alive(), 2u);
}

TEST(SecureCodec, RoundTripsAndRefusesBadInput) {
  Bytes blob = {1, 2, 3, 4, 5};
  Bytes ct = EncodeSecureCiphertext({.job = 7, .round = 3, .sender = "127.0.0.1:5"}, blob);
  auto d = DecodeSecureCiphertext(ct);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->header.job, 7u);
  EXPECT_EQ(d->header.round, 3u);
  EXPECT_EQ(d->header.sender, "127.0.0.1:5");
  EXPECT_EQ(d->blob, blob);
  Bytes sum = EncodeSecureSum({.job = 7, .round = 3, .sender = "agg"}, {"a", "b"}, blob);
  auto s = DecodeSecureSum(sum);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->used, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s->blob, blob);
  // Every truncation of the header is an error, never a crash; the blob is
  // the rest (its own deserializer checks it), so a cut blob only shortens it.
  for (size_t n = 0; n <= sum.size() - blob.size(); ++n) {
    EXPECT_FALSE(DecodeSecureSum(ByteSpan(sum.data(), n)).ok()) << n;
  }
  for (size_t n = 0; n <= ct.size() - blob.size(); ++n) {
    EXPECT_FALSE(DecodeSecureCiphertext(ByteSpan(ct.data(), n)).ok()) << n;
  }
  auto cut = DecodeSecureCiphertext(ByteSpan(ct.data(), ct.size() - 2));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->blob.size(), blob.size() - 2);
  EXPECT_FALSE(DecodeSecureSum(ct).ok());  // wrong magic
  auto big = DecodeSecureSum(sum, {.sender_bytes_max = 256, .used_max = 1});
  EXPECT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("used_count 2"), std::string::npos) << big.status();
}

}  // namespace
}  // namespace swarm::train
