#include "train/compression.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/rng.h"

namespace swarm::train {
namespace {

TEST(TopK, KeepsLargestMagnitudes) {
  auto c = TopKCompressor::Create(0.4);  // k = ceil(0.4 * 5) = 2
  ASSERT_TRUE(c.ok());
  SparseVector s = c->Compress(std::vector<float>{0.1f, -5, 2, 0.3f, 4});
  EXPECT_EQ(s.indices, (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(s.values, (std::vector<float>{-5, 4}));
  EXPECT_EQ(c->residual(), (std::vector<float>{0.1f, 0, 2, 0.3f, 0}));
}

TEST(TopK, ErrorFeedbackEventuallySendsEverything) {
  // The sum of what was sent plus the residual equals the sum of inputs.
  auto c = TopKCompressor::Create(0.1);
  ASSERT_TRUE(c.ok());
  Rng rng(3);
  const size_t d = 100;
  std::vector<float> total_in(d, 0), total_sent(d, 0), g(d);
  for (int round = 0; round < 30; ++round) {
    for (size_t j = 0; j < d; ++j) {
      g[j] = static_cast<float>(rng.Normal());
      total_in[j] += g[j];
    }
    ASSERT_TRUE(AddSparse(c->Compress(g), total_sent).ok());
  }
  for (size_t j = 0; j < d; ++j) {
    EXPECT_NEAR(total_sent[j] + c->residual()[j], total_in[j], 1e-4) << j;
  }
}

TEST(TopK, WithoutErrorFeedbackResidualStaysEmpty) {
  auto c = TopKCompressor::Create(0.5, false);
  ASSERT_TRUE(c.ok());
  c->Compress(std::vector<float>{1, 2, 3, 4});
  for (float r : c->residual()) EXPECT_EQ(r, 0.0f);
}

TEST(TopK, BadFractionRejected) {
  EXPECT_FALSE(TopKCompressor::Create(0).ok());
  EXPECT_FALSE(TopKCompressor::Create(1.5).ok());
  EXPECT_FALSE(TopKCompressor::Create(NAN).ok());
}

TEST(Sparse, AddChecksIndices) {
  std::vector<float> out(3, 0);
  EXPECT_FALSE(AddSparse({.dim = 4, .indices = {0}, .values = {1}}, out).ok());
  EXPECT_FALSE(AddSparse({.dim = 3, .indices = {3}, .values = {1}}, out).ok());
  EXPECT_FALSE(AddSparse({.dim = 3, .indices = {1, 1}, .values = {1, 1}}, out).ok());
  EXPECT_FALSE(AddSparse({.dim = 3, .indices = {1}, .values = {}}, out).ok());
  EXPECT_TRUE(AddSparse({.dim = 3, .indices = {0, 2}, .values = {1, 2}}, out).ok());
  EXPECT_EQ(out, (std::vector<float>{1, 0, 2}));
}

TEST(Int8, RoundTripWithinHalfAStep) {
  Rng rng(11);
  std::vector<float> x(1000);
  for (auto& v : x) v = static_cast<float>(rng.Normal(0, 3));
  auto q = QuantizeInt8(x, 128);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->scales.size(), 8u);  // ceil(1000 / 128)
  std::vector<float> y(x.size());
  ASSERT_TRUE(DequantizeInt8(*q, y).ok());
  for (size_t j = 0; j < x.size(); ++j) {
    EXPECT_LE(std::fabs(x[j] - y[j]), 0.5f * q->scales[j / 128] + 1e-6f) << j;
  }
}

TEST(Int8, ZeroChunkAndNonFiniteRejected) {
  EXPECT_FALSE(QuantizeInt8(std::vector<float>{1}, 0).ok());
  EXPECT_FALSE(QuantizeInt8(std::vector<float>{1, NAN}).ok());
  auto q = QuantizeInt8(std::vector<float>{0, 0, 0}, 2);
  ASSERT_TRUE(q.ok());
  std::vector<float> out(3, 9);
  ASSERT_TRUE(DequantizeInt8(*q, out).ok());
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0}));
  QuantizedInt8 bad = *q;
  bad.scales.pop_back();
  EXPECT_FALSE(DequantizeInt8(bad, out).ok());
  bad = *q;
  bad.scales[0] = -1;
  EXPECT_FALSE(DequantizeInt8(bad, out).ok());
  std::vector<float> wrong(2);
  EXPECT_FALSE(DequantizeInt8(*q, wrong).ok());
}

}  // namespace
}  // namespace swarm::train
