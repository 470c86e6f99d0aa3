#include "common/rng.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

namespace swarm {
namespace {

TEST(Rng, SameSeedSameStream) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, UniformStaysInBoundAndCoversIt) {
  Rng r(7);
  std::vector<int> hits(10);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = r.Uniform(10);
    ASSERT_LT(v, 10u);
    hits[v]++;
  }
  for (int h : hits) EXPECT_GT(h, 800);  // expected 1000 each
}

TEST(Rng, NormalHasUnitVariance) {
  Rng r(1);
  double sum = 0, sq = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double x = r.Normal();
    sum += x;
    sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.02);
  EXPECT_NEAR(sq / n, 1.0, 0.02);
}

TEST(Bytes, HexRoundTripAndErrors) {
  const Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ(ToHex(b), "00abff");
  auto back = FromHex("00ABff");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, b);
  EXPECT_EQ(FromHex("abc").status().message(), "hex string has odd length 3");
  EXPECT_EQ(FromHex("zz").status().message(), "non-hex character 'z' at position 0");
}

}  // namespace
}  // namespace swarm
