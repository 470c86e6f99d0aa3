#include <gtest/gtest.h>

#include <cmath>

#include "common/rng.h"
#include "train/async_step.h"
#include "train/momentum.h"

namespace swarm::train {
namespace {

TEST(WorkerMomentum, FirstUpdateIsTheGradientThenEma) {
  auto m = WorkerMomentum::Create(0.9);
  ASSERT_TRUE(m.ok());
  auto v = m->Update(std::vector<float>{1, 2});
  EXPECT_FLOAT_EQ(v[0], 1);
  v = m->Update(std::vector<float>{11, 2});
  EXPECT_FLOAT_EQ(v[0], 0.9f * 1 + 0.1f * 11);  // 2
  EXPECT_FLOAT_EQ(v[1], 2);
}

TEST(WorkerMomentum, ReducesVarianceOfNoisyGradients) {
  auto m = WorkerMomentum::Create(0.9);
  ASSERT_TRUE(m.ok());
  Rng rng(2);
  double s2 = 0;
  int count = 0;
  for (int t = 0; t < 5000; ++t) {
    const float g = static_cast<float>(rng.Normal());
    const float v = m->Update(std::vector<float>{g})[0];
    if (t > 100) {
      s2 += v * v;
      ++count;
    }
  }
  // Stationary variance of the EMA: (1-b)/(1+b) = 0.0526.
  EXPECT_NEAR(s2 / count, 0.1 / 1.9, 0.015);
}

TEST(WorkerMomentum, BetaOutOfRangeRejected) {
  EXPECT_FALSE(WorkerMomentum::Create(1.0).ok());
  EXPECT_FALSE(WorkerMomentum::Create(-0.1).ok());
  EXPECT_TRUE(WorkerMomentum::Create(0.0).ok());
}

TEST(StalenessStep, DecaysWithStaleness) {
  StalenessPolicy p{.lr = 0.4, .power = 1.0, .staleness_max = 3};
  EXPECT_DOUBLE_EQ(*StalenessAwareStep(p, 0), 0.4);
  EXPECT_DOUBLE_EQ(*StalenessAwareStep(p, 1), 0.2);
  EXPECT_DOUBLE_EQ(*StalenessAwareStep(p, 3), 0.1);
  EXPECT_EQ(StalenessAwareStep(p, 4).status().code(), absl::StatusCode::kFailedPrecondition);
  p.power = 0.5;
  EXPECT_NEAR(*StalenessAwareStep(p, 3), 0.2, 1e-12);
  p.power = -1;
  EXPECT_FALSE(StalenessAwareStep(p, 0).ok());
}

TEST(AsyncParameterServer, AppliesWithStalenessScaledStep) {
  AsyncParameterServer s({1.0f, 1.0f}, {.lr = 1.0, .power = 1.0, .staleness_max = 2});
  // Fresh update: full step.
  ASSERT_TRUE(s.ApplyUpdate(std::vector<float>{0.5f, 0.0f}, 0).ok());
  EXPECT_EQ(s.version(), 1u);
  EXPECT_FLOAT_EQ(s.params()[0], 0.5f);
  // Computed at version 0, applied at version 1: half step.
  auto lr = s.ApplyUpdate(std::vector<float>{0.0f, 1.0f}, 0);
  ASSERT_TRUE(lr.ok());
  EXPECT_DOUBLE_EQ(*lr, 0.5);
  EXPECT_FLOAT_EQ(s.params()[1], 0.5f);
  // Staleness 2 - 0 = 2 allowed, then 3 rejected and counted; nothing applied.
  ASSERT_TRUE(s.ApplyUpdate(std::vector<float>{0, 0}, 0).ok());
  auto stale = s.ApplyUpdate(std::vector<float>{100, 100}, 0);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.rejected_stale(), 1u);
  EXPECT_FLOAT_EQ(s.params()[0], 0.5f);
  EXPECT_EQ(s.version(), 3u);
  // Future base version, wrong size, NaN: rejected.
  EXPECT_FALSE(s.ApplyUpdate(std::vector<float>{0, 0}, 9).ok());
  EXPECT_FALSE(s.ApplyUpdate(std::vector<float>{0}, 3).ok());
  EXPECT_FALSE(s.ApplyUpdate(std::vector<float>{NAN, 0}, 3).ok());
  EXPECT_EQ(s.version(), 3u);
}

}  // namespace
}  // namespace swarm::train
