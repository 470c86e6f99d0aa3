#include "net/backoff.h"

#include <gtest/gtest.h>

namespace swarm::net {
namespace {

TEST(Backoff, CapGrowsGeometricallyUpToMax) {
  BackoffConfig c{Millis(50), Millis(1000), 2.0};
  EXPECT_EQ(BackoffCap(c, 0), Millis(50));
  EXPECT_EQ(BackoffCap(c, 1), Millis(100));
  EXPECT_EQ(BackoffCap(c, 4), Millis(800));
  EXPECT_EQ(BackoffCap(c, 5), Millis(1000));
  EXPECT_EQ(BackoffCap(c, 60), Millis(1000));  // no overflow far out
}

TEST(Backoff, DelaysStayWithinZeroAndCapAndUseTheRange) {
  BackoffConfig c{Millis(50), Millis(2000), 2.0};
  Rng rng(3);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const Nanos cap = BackoffCap(c, attempt);
    Nanos lo = cap, hi = 0;
    for (int i = 0; i < 2000; ++i) {
      const Nanos d = BackoffDelay(c, attempt, rng);
      ASSERT_GE(d, 0);
      ASSERT_LE(d, cap);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Full jitter: the draws spread over the whole interval.
    EXPECT_LT(lo, cap / 10) << "attempt " << attempt;
    EXPECT_GT(hi, cap * 9 / 10) << "attempt " << attempt;
  }
}

}  // namespace
}  // namespace swarm::net
