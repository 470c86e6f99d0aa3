#include "fhe/secure_sum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fhe/keyset.h"

namespace swarm::fhe {
namespace {

// One group key for all tests (N = 8192 preset, scale 2^40).
const KeySet& Group() {
  static const KeySet* ks = [] {
    KeyGenOptions o;
    o.relin_key = false;
    o.galois_keys = false;
    auto k = GenerateKeySet(*CkksPreset(8192), o);
    EXPECT_TRUE(k.ok()) << k.status();
    return new KeySet(*k);
  }();
  return *ks;
}

std::vector<float> RandomVector(size_t n, uint32_t seed, float amp) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-amp, amp);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(SecureSum, SumOfContributionsMatchesPlainSumAcrossChunks) {
  const KeySet& g = Group();
  const size_t len = 10000;  // 3 chunks of 4096 slots
  const int contributors = 5;
  auto enc = SecureSumEncryptor::Create(g.eval.ctx, *g.eval.public_key, {.scale = 0, .value_abs_max = 10});
  ASSERT_TRUE(enc.ok()) << enc.status();
  SecureSumAggregator agg(g.eval.ctx, g.eval.key_id);
  std::vector<double> plain(len, 0.0);
  for (int c = 0; c < contributors; ++c) {
    auto v = RandomVector(len, 100 + c, 10);
    for (size_t i = 0; i < len; ++i) plain[i] += v[i];
    auto ev = enc->Encrypt(v);
    ASSERT_TRUE(ev.ok()) << ev.status();
    EXPECT_EQ(ev->chunks.size(), 3u);
    // Through the wire, as peers would send it.
    Bytes wire = SerializeEncryptedVector(*g.eval.ctx, *ev);
    EXPECT_EQ(wire.size(), SecureSumContributionBytes(*g.eval.ctx, len));
    ASSERT_TRUE(agg.AddSerialized(wire).ok());
  }
  EXPECT_EQ(agg.contributors(), 5u);
  auto dec = SecureSumDecryptor::Create(g.eval.ctx, g.secret_key);
  ASSERT_TRUE(dec.ok());
  auto sum = dec->DecryptSum(agg.sum());
  ASSERT_TRUE(sum.ok()) << sum.status();
  ASSERT_EQ(sum->size(), len);
  double max_err = 0;
  for (size_t i = 0; i < len; ++i) max_err = std::max(max_err, std::fabs((*sum)[i] - plain[i]));
  std::printf("secure sum: %d contributions x %zu values, max abs error %.3g, %zu bytes per contribution\n",
              contributors, len, max_err, SecureSumContributionBytes(*g.eval.ctx, len));
  // Documented bound (docs/fhe.md): 1e-6 per contribution at scale 2^40.
  EXPECT_LT(max_err, contributors * 1e-6);
  auto mean = dec->DecryptMean(agg.sum());
  ASSERT_TRUE(mean.ok());
  EXPECT_NEAR((*mean)[17], plain[17] / contributors, 1e-5);
}

TEST(SecureSum, DecryptorRefusesASingleContribution) {
  const KeySet& g = Group();
  auto enc = SecureSumEncryptor::Create(g.eval.ctx, *g.eval.public_key);
  auto ev = enc->Encrypt(std::vector<float>{1, 2, 3});
  ASSERT_TRUE(ev.ok());
  auto dec = SecureSumDecryptor::Create(g.eval.ctx, g.secret_key, 2);
  auto r = dec->DecryptSum(*ev);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("min_contributors"), std::string::npos);
}

TEST(SecureSum, BadInputsAreClearErrors) {
  const KeySet& g = Group();
  auto enc = SecureSumEncryptor::Create(g.eval.ctx, *g.eval.public_key, {.scale = 0, .value_abs_max = 1});
  ASSERT_TRUE(enc.ok());
  auto big = enc->Encrypt(std::vector<float>{0.5f, 2.0f});
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("value 1 = 2"), std::string::npos) << big.status();
  auto nan = enc->Encrypt(std::vector<float>{NAN});
  EXPECT_FALSE(nan.ok());
  EXPECT_FALSE(enc->Encrypt(std::vector<float>{}).ok());
  // A bound that cannot fit q_0 even once.
  EXPECT_FALSE(SecureSumEncryptor::Create(g.eval.ctx, *g.eval.public_key, {.scale = 0, .value_abs_max = 1e6}).ok());

  SecureSumAggregator agg(g.eval.ctx, g.eval.key_id);
  auto a = enc->Encrypt(std::vector<float>{0.5f, 0.25f});
  auto b = enc->Encrypt(std::vector<float>{0.5f, 0.25f, 0.125f});
  ASSERT_TRUE(agg.Add(*a).ok());
  auto mismatch = agg.Add(*b);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.message().find("length 3"), std::string::npos) << mismatch;
  EXPECT_EQ(agg.contributors(), 1u);  // unchanged on error

  // Contribution under another key.
  KeyGenOptions o;
  o.relin_key = false;
  o.galois_keys = false;
  auto other = GenerateKeySet(g.eval.ctx->spec(), o);
  ASSERT_TRUE(other.ok());
  auto enc2 = SecureSumEncryptor::Create(other->eval.ctx, *other->eval.public_key, {.scale = 0, .value_abs_max = 1});
  auto foreign = enc2->Encrypt(std::vector<float>{0.5f, 0.25f});
  ASSERT_TRUE(foreign.ok());
  auto fs = agg.Add(*foreign);
  ASSERT_FALSE(fs.ok());
  EXPECT_NE(fs.message().find("not the group key"), std::string::npos) << fs;
}

TEST(SecureSum, CapacityLimitRefusesASumThatCouldWrap) {
  const KeySet& g = Group();
  // 2^40 * 2^17 = 2^57 < q_0/4 ≈ 2^58: one fits, two would reach 2^58.
  auto enc = SecureSumEncryptor::Create(g.eval.ctx, *g.eval.public_key, {.scale = 0, .value_abs_max = 131072});
  ASSERT_TRUE(enc.ok()) << enc.status();
  SecureSumAggregator agg(g.eval.ctx, g.eval.key_id);
  ASSERT_TRUE(agg.Add(*enc->Encrypt(std::vector<float>{1})).ok());
  auto s = agg.Add(*enc->Encrypt(std::vector<float>{1}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
}

TEST(SecureSum, DeserializerRejectsTruncatedAndAlteredBlobs) {
  const KeySet& g = Group();
  auto enc = SecureSumEncryptor::Create(g.eval.ctx, *g.eval.public_key);
  auto ev = enc->Encrypt(std::vector<float>{1, 2, 3});
  Bytes wire = SerializeEncryptedVector(*g.eval.ctx, *ev);
  ASSERT_TRUE(DeserializeEncryptedVector(*g.eval.ctx, wire).ok());
  for (size_t cut : {size_t{0}, size_t{10}, size_t{36}, size_t{44}, wire.size() - 1}) {
    auto r = DeserializeEncryptedVector(*g.eval.ctx, ByteSpan(wire.data(), cut));
    EXPECT_FALSE(r.ok()) << cut;
  }
  Bytes longer = wire;
  longer.push_back(0);
  auto t = DeserializeEncryptedVector(*g.eval.ctx, longer);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("trailing"), std::string::npos) << t.status();
  Bytes len = wire;
  len[8] = 0;
  len[9] = 0x20;  // length 8192 -> 2 chunks expected, 1 present
  auto l = DeserializeEncryptedVector(*g.eval.ctx, len);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("chunk count"), std::string::npos) << l.status();
  Bytes contrib = wire;
  std::fill(contrib.begin() + 16, contrib.begin() + 24, 0);
  EXPECT_FALSE(DeserializeEncryptedVector(*g.eval.ctx, contrib).ok());
}

}  // namespace
}  // namespace swarm::fhe
