#include "train/attack.h"

#include <gtest/gtest.h>

#include <cmath>

namespace swarm::train {
namespace {

using Vec = std::vector<float>;

Vec Craft(const AttackSpec& spec, const std::vector<Vec>& honest, const Vec& own, uint64_t seed = 1) {
  auto a = MakeAttack(spec);
  EXPECT_TRUE(a.ok()) << a.status();
  std::vector<Contribution> views(honest.begin(), honest.end());
  Vec out(own.size());
  Rng rng(seed);
  EXPECT_TRUE((*a)->Craft(views, own, out, rng).ok());
  return out;
}

TEST(Attack, NoneSendsOwn) {
  EXPECT_EQ(Craft({.name = "none"}, {}, {1, -2}), (Vec{1, -2}));
}

TEST(Attack, SignFlipNegatesAndScales) {
  EXPECT_EQ(Craft({.name = "sign_flip"}, {}, {1, -2}), (Vec{-1, 2}));
  EXPECT_EQ(Craft({.name = "sign_flip", .sign_flip_scale = 3}, {}, {1, -2}), (Vec{-3, 6}));
}

TEST(Attack, NoiseHasTheRequestedSpread) {
  Vec own(20000, 5.0f);
  Vec out = Craft({.name = "noise", .noise_std = 2.0}, {}, own, 7);
  double s = 0, s2 = 0;
  for (float v : out) {
    s += v - 5.0;
    s2 += (v - 5.0) * (v - 5.0);
  }
  const double mean = s / out.size(), var = s2 / out.size() - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.05);
  EXPECT_NEAR(std::sqrt(var), 2.0, 0.05);
}

TEST(Attack, AlieZFromThePaperFormula) {
  // n = 50, f = 24 (Baruch et al.'s example): s = 26 - 24 = 2, z = Phi^-1(48/50) ≈ 1.75.
  EXPECT_NEAR(AlieZ(50, 24), 1.7507, 1e-3);
  // n = 7, f = 2: s = 4 - 2 = 2 → Phi^-1(5/7) ≈ 0.5659.
  EXPECT_NEAR(AlieZ(7, 2), 0.5659, 1e-3);
  // n = 4, f = 1: s = 2 → Phi^-1(0.5) = 0: the formula gives no room for small n.
  EXPECT_NEAR(AlieZ(4, 1), 0.0, 1e-9);
  EXPECT_NEAR(InverseNormalCdf(0.975), 1.95996, 1e-4);
}

TEST(Attack, AlieIsMeanMinusZStd) {
  // Honest per coordinate: {0, 2} → mu 1, sigma 1 (population); {4, 4} → 4, 0.
  Vec out = Craft({.name = "alie", .alie_z = 1.5}, {{0, 4}, {2, 4}}, {9, 9});
  EXPECT_NEAR(out[0], 1.0 - 1.5, 1e-6);
  EXPECT_NEAR(out[1], 4.0, 1e-6);
  // z from n, f when not overridden.
  Vec paper = Craft({.name = "alie", .trainers = 7, .byzantine = 2}, {{0, 4}, {2, 4}}, {9, 9});
  EXPECT_NEAR(paper[0], 1.0 - AlieZ(7, 2), 1e-5);
}

TEST(Attack, IpmIsScaledNegativeHonestMean) {
  Vec out = Craft({.name = "ipm", .ipm_epsilon = 0.5}, {{2, -4}, {4, 0}}, {0, 0});
  EXPECT_NEAR(out[0], -1.5, 1e-6);
  EXPECT_NEAR(out[1], 1.0, 1e-6);
}

TEST(Attack, LabelFlipPoisonsLabelsAndSendsOwn) {
  auto a = MakeAttack({.name = "label_flip"});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE((*a)->poisons_labels());
  EXPECT_EQ((*a)->FlipLabel(0, 10), 9);
  EXPECT_EQ((*a)->FlipLabel(7, 10), 2);
  EXPECT_EQ(Craft({.name = "label_flip"}, {}, {3}), (Vec{3}));
  auto none = MakeAttack({.name = "none"});
  EXPECT_EQ((*none)->FlipLabel(7, 10), 7);
}

TEST(Attack, ErrorsAreClear) {
  auto unknown = MakeAttack({.name = "gradient_ascent"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find(
                "valid: none, sign_flip, noise, alie, ipm, label_flip"),
            std::string::npos)
      << unknown.status();
  // ALIE without n/f and without an override cannot pick z.
  EXPECT_FALSE(MakeAttack({.name = "alie"}).ok());
  EXPECT_FALSE(MakeAttack({.name = "noise", .noise_std = -1}).ok());
  // ALIE/IPM need honest vectors; sizes must agree.
  auto ipm = MakeAttack({.name = "ipm"});
  Rng rng(1);
  Vec own = {1, 2}, out(2);
  EXPECT_EQ((*ipm)->Craft({}, own, out, rng).code(), absl::StatusCode::kFailedPrecondition);
  Vec wrong = {1};
  std::vector<Contribution> honest = {wrong};
  EXPECT_EQ((*ipm)->Craft(honest, own, out, rng).code(), absl::StatusCode::kInvalidArgument);
}

TEST(Attack, AlieSlipsThroughMedianButStaysNearHonest) {
  // The ALIE vector lies within the honest spread, so the median cannot
  // exclude it — what makes it dangerous without worker momentum.
  std::vector<Vec> honest = {{0.0f}, {1.0f}, {2.0f}, {3.0f}, {4.0f}};
  Vec alie = Craft({.name = "alie", .alie_z = 1.0}, honest, {0});
  EXPECT_GT(alie[0], 0.0f);
  EXPECT_LT(alie[0], 2.0f);
}

}  // namespace
}  // namespace swarm::train
