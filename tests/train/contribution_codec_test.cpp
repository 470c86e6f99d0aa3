// Round trips and rejections of the averaging contribution wire format.
#include "train/contribution_codec.h"

#include <gtest/gtest.h>

namespace swarm::train {
namespace {

ContributionHeader H() { return {.job = 42, .round = 7, .sender = "127.0.0.1:5000"}; }

TEST(ContributionCodec, F32RoundTrip) {
  const std::vector<float> v = {1.5f, -2.0f, 0.0f, 3.25f};
  auto d = DecodeContribution(EncodeContributionF32(H(), v));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->header.job, 42u);
  EXPECT_EQ(d->header.round, 7u);
  EXPECT_EQ(d->header.sender, "127.0.0.1:5000");
  EXPECT_EQ(d->values, v);
  EXPECT_EQ(d->encoding, WireEncoding::kF32);
}

TEST(ContributionCodec, Int8AndTopKRoundTrip) {
  std::vector<float> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 17) - 8.0f;
  auto q = QuantizeInt8(v, 64);
  ASSERT_TRUE(q.ok());
  auto d = DecodeContribution(EncodeContributionInt8(H(), *q));
  ASSERT_TRUE(d.ok()) << d.status();
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(d->values[i], v[i], 8.0 / 127 + 1e-6);
  auto c = TopKCompressor::Create(0.1);
  ASSERT_TRUE(c.ok());
  const SparseVector s = c->Compress(v);
  d = DecodeContribution(EncodeContributionTopK(H(), s));
  ASSERT_TRUE(d.ok()) << d.status();
  size_t nonzero = 0;
  for (float x : d->values) nonzero += x != 0;
  EXPECT_EQ(nonzero, s.indices.size());
}

TEST(ContributionCodec, RejectsMalformedInputNamingTheField) {
  Bytes w = EncodeContributionF32(H(), std::vector<float>{1, 2, 3});
  auto bad = [](Bytes b) { return DecodeContribution(b).status(); };
  Bytes t = w;
  t.pop_back();
  EXPECT_NE(bad(t).message().find("f32 body"), std::string::npos) << bad(t);
  t = w;
  t[0] = 'X';
  EXPECT_NE(bad(t).message().find("magic"), std::string::npos);
  t = w;
  t[5] = 9;
  EXPECT_NE(bad(t).message().find("encoding = 9"), std::string::npos);
  EXPECT_NE(bad(Bytes(w.begin(), w.begin() + 10)).message().find("truncated"), std::string::npos);
  ContributionLimits lim;
  lim.dim_max = 2;
  auto s = DecodeContribution(w, lim).status();
  EXPECT_NE(s.message().find("dim = 3"), std::string::npos) << s;
  SparseVector sv{.dim = 4, .indices = {2, 1}, .values = {1, 1}};
  EXPECT_NE(bad(EncodeContributionTopK(H(), sv)).message().find("not increasing"), std::string::npos);
}

}  // namespace
}  // namespace swarm::train
