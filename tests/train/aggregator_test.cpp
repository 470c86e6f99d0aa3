#include "train/aggregator.h"

#include <gtest/gtest.h>

#include <cmath>

namespace swarm::train {
namespace {

using Vec = std::vector<float>;

StatusOr<Vec> Agg(Aggregator& a, const std::vector<Vec>& in, AggregationReport* r = nullptr) {
  std::vector<Contribution> views(in.begin(), in.end());
  Vec out(in.empty() ? 0 : in[0].size());
  SWARM_RETURN_IF_ERROR(a.Aggregate(views, out, r));
  return out;
}

StatusOr<Vec> RunSpec(const AggregatorSpec& s, const std::vector<Vec>& in,
                      AggregationReport* r = nullptr) {
  SWARM_ASSIGN_OR_RETURN(auto a, MakeAggregator(s));
  return Agg(*a, in, r);
}

TEST(Aggregator, MeanOfHandValues) {
  MeanAggregator a;
  auto out = Agg(a, {{1, 2}, {3, 4}, {5, 9}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FLOAT_EQ((*out)[0], 3);
  EXPECT_FLOAT_EQ((*out)[1], 5);
}

TEST(Aggregator, MedianOddAndEven) {
  MedianAggregator a;
  auto odd = Agg(a, {{1, 10}, {100, -5}, {3, 0}});
  ASSERT_TRUE(odd.ok());
  EXPECT_FLOAT_EQ((*odd)[0], 3);
  EXPECT_FLOAT_EQ((*odd)[1], 0);
  auto even = Agg(a, {{1}, {2}, {10}, {4}});
  ASSERT_TRUE(even.ok());
  EXPECT_FLOAT_EQ((*even)[0], 3);  // (2 + 4) / 2
}

TEST(Aggregator, TrimmedMeanDropsExtremes) {
  TrimmedMeanAggregator a(1);
  auto out = Agg(a, {{1}, {2}, {3}, {4}, {1000}});
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ((*out)[0], 3);  // mean of 2, 3, 4
  TrimmedMeanAggregator too_much(2);
  auto err = Agg(too_much, {{1}, {2}, {3}, {4}});
  EXPECT_EQ(err.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(err.status().message().find("2*trim"), std::string::npos);
}

TEST(Aggregator, MultiKrumSelectsTheCluster) {
  // Four points near 0, one far away: Krum scores (f = 1, n-f-2 = 2 neighbours).
  MultiKrumAggregator a(1, 3);
  AggregationReport r;
  auto out = Agg(a, {{0, 0}, {100, 100}, {1, 0}, {0, 1}, {1, 1}}, &r);
  ASSERT_TRUE(out.ok()) << out.status();
  // Scores: (0,0): 1+1=2; (1,0): 1+1; (0,1): 1+1; (1,1): 1+1; far: huge.
  // Ties broken by index: the three lowest are 0, 2, 3.
  EXPECT_EQ(r.selected, (std::vector<size_t>{0, 2, 3}));
  EXPECT_FLOAT_EQ((*out)[0], 1.0f / 3);
  EXPECT_FLOAT_EQ((*out)[1], 1.0f / 3);
}

TEST(Aggregator, MultiKrumNeedsEnoughContributions) {
  MultiKrumAggregator a(2, -1);
  auto err = Agg(a, {{0}, {1}, {2}, {3}});  // n = 4 < f + 3 = 5
  EXPECT_EQ(err.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Aggregator, CenteredClipWithLargeTauIsMean) {
  // With tau larger than every distance, one iteration from v moves to the mean.
  CenteredClipAggregator a(1e9, 1, false);
  auto out = Agg(a, {{0, 0}, {2, 0}, {4, 6}});
  ASSERT_TRUE(out.ok());
  EXPECT_NEAR((*out)[0], 2, 1e-5);
  EXPECT_NEAR((*out)[1], 2, 1e-5);
}

TEST(Aggregator, CenteredClipHandComputedStep) {
  // Start = median = (1); tau = 1. x = 0, 1, 11 → diffs -1, 0, 10 clipped to
  // -1, 0, 1 → v = 1 + (0)/3 = 1.
  CenteredClipAggregator a(1.0, 1, false);
  AggregationReport r;
  auto out = Agg(a, {{0}, {1}, {11}}, &r);
  ASSERT_TRUE(out.ok());
  EXPECT_NEAR((*out)[0], 1.0, 1e-6);
  EXPECT_EQ(r.clip_iterations, 1);
  EXPECT_DOUBLE_EQ(r.clip_tau, 1.0);
  // tau = 0.5: diffs clipped to -0.5, 0, 0.5 → v = 1.
  // Asymmetric: x = 0, 1, 1, 11 → median 1, diffs -1, 0, 0, 10 with tau 2 →
  // -1, 0, 0, 2 → v = 1 + 1/4.
  CenteredClipAggregator b(2.0, 1, false);
  auto out2 = Agg(b, {{0}, {1}, {1}, {11}});
  ASSERT_TRUE(out2.ok());
  EXPECT_NEAR((*out2)[0], 1.25, 1e-6);
}

TEST(Aggregator, CenteredClipAutoTauIsMedianDistance) {
  CenteredClipAggregator a(0, 1, false);
  AggregationReport r;
  auto out = Agg(a, {{0}, {1}, {3}}, &r);  // start 1; distances 1, 0, 2 → tau 1
  ASSERT_TRUE(out.ok());
  EXPECT_DOUBLE_EQ(r.clip_tau, 1.0);
  EXPECT_NEAR((*out)[0], 1.0, 1e-6);  // diffs -1, 0, 1 (clipped from 2)
}

TEST(Aggregator, CenteredClipFromPreviousUsesState) {
  CenteredClipAggregator a(1e9, 1, true);
  auto first = Agg(a, {{10}, {10}, {10}});
  ASSERT_TRUE(first.ok());
  EXPECT_FLOAT_EQ((*first)[0], 10);
  // Large tau: one step from the previous value 10 lands on the mean 2.
  auto second = Agg(a, {{1}, {2}, {3}});
  ASSERT_TRUE(second.ok());
  EXPECT_NEAR((*second)[0], 2, 1e-5);
}

TEST(Aggregator, BucketingOfOneIsTheInnerRule) {
  auto a = MakeAggregator({.name = "median", .bucket_size = 2, .seed = 3});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->name(), "bucketing+median");
  // All contributions equal: any bucketing gives that value.
  auto out = Agg(**a, {{5, -1}, {5, -1}, {5, -1}, {5, -1}, {5, -1}});
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ((*out)[0], 5);
  EXPECT_FLOAT_EQ((*out)[1], -1);
}

TEST(Aggregator, BucketingMeanOfMeansEqualsMeanForEqualBuckets) {
  auto a = MakeAggregator({.name = "mean", .bucket_size = 2, .seed = 9});
  ASSERT_TRUE(a.ok());
  auto out = Agg(**a, {{1}, {2}, {3}, {6}});
  ASSERT_TRUE(out.ok());
  EXPECT_NEAR((*out)[0], 3, 1e-6);
}

TEST(Aggregator, NonFiniteContributionIsExcludedAndCounted) {
  MeanAggregator a;
  AggregationReport r;
  auto out = Agg(a, {{1, 1}, {NAN, 0}, {3, 3}, {0, INFINITY}}, &r);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(r.received, 4u);
  EXPECT_EQ(r.used, 2u);
  EXPECT_EQ(r.excluded_nonfinite, 2u);
  EXPECT_FLOAT_EQ((*out)[0], 2);
}

TEST(Aggregator, MultiKrumSelectedIndicesMapBackAfterExclusion) {
  MultiKrumAggregator a(0, 1);
  AggregationReport r;
  auto out = Agg(a, {{NAN}, {0}, {0.1f}, {50}}, &r);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_TRUE(r.selected[0] == 1 || r.selected[0] == 2);
}

TEST(Aggregator, AllNonFiniteIsAnError) {
  MedianAggregator a;
  EXPECT_EQ(Agg(a, {{NAN}, {INFINITY}}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Aggregator, SizeMismatchNamesTheContribution) {
  MeanAggregator a;
  std::vector<Vec> in = {{1, 2}, {1}};
  std::vector<Contribution> views(in.begin(), in.end());
  Vec out(2);
  Status s = a.Aggregate(views, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("contribution 1 has 1 elements, expected 2"), std::string::npos) << s;
  EXPECT_FALSE(a.Aggregate({}, out).ok());
}

TEST(Aggregator, UnknownNameListsValidOnes) {
  auto a = MakeAggregator({.name = "krum2"});
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("unknown aggregator 'krum2'"), std::string::npos);
  EXPECT_NE(a.status().message().find("mean, median, trimmed_mean, multi_krum, centered_clip"),
            std::string::npos)
      << a.status();
  EXPECT_FALSE(MakeAggregator({.name = "centered_clip", .clip_iterations = 0}).ok());
  EXPECT_FALSE(MakeAggregator({.name = "centered_clip", .clip_start = "zero"}).ok());
  EXPECT_FALSE(MakeAggregator({.name = "mean", .bucket_size = 0}).ok());
  EXPECT_FALSE(MakeAggregator({.name = "mean", .byzantine = -1}).ok());
}

// Robustness: f outliers of arbitrary size move the robust rules only within
// the honest range, while the mean is dragged away.
class RobustnessTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RobustnessTest, BoundedByHonestRangeUnderOutliers) {
  const int n = 9, f = 2, d = 50;
  Rng rng(5);
  std::vector<Vec> in;
  for (int i = 0; i < n - f; ++i) {
    Vec v(d);
    for (auto& x : v) x = static_cast<float>(1.0 + 0.1 * rng.Normal());
    in.push_back(v);
  }
  for (int i = 0; i < f; ++i) in.push_back(Vec(d, 1e6f));
  auto out = RunSpec({.name = GetParam(), .byzantine = f}, in);
  ASSERT_TRUE(out.ok()) << out.status();
  for (int j = 0; j < d; ++j) {
    float lo = 1e30f, hi = -1e30f;
    for (int i = 0; i < n - f; ++i) {
      lo = std::min(lo, in[i][j]);
      hi = std::max(hi, in[i][j]);
    }
    if (GetParam() == "mean") {
      EXPECT_GT((*out)[j], 1e5f);
    } else if (GetParam() == "centered_clip") {
      // Clipping bounds each outlier's pull by tau/n per iteration.
      EXPECT_NEAR((*out)[j], 1.0, 0.5) << "coordinate " << j;
    } else {
      EXPECT_GE((*out)[j], lo - 1e-5f) << "coordinate " << j;
      EXPECT_LE((*out)[j], hi + 1e-5f) << "coordinate " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllRules, RobustnessTest,
                         ::testing::Values("mean", "median", "trimmed_mean", "multi_krum",
                                           "centered_clip"));

TEST(Aggregator, MedianWithFOutliersEqualsHonestMedianBound) {
  // 5 honest values 1..5 and 2 outliers at +inf-ish: median of 7 is the 4th
  // smallest = 4, inside the honest range.
  MedianAggregator a;
  auto out = Agg(a, {{1}, {2}, {3}, {4}, {5}, {1e9f}, {1e9f}});
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ((*out)[0], 4);
}

}  // namespace
}  // namespace swarm::train
