// The vectorized, blocked aggregators (train/aggregator_kernels.h) against
// plain per-coordinate reference loops, the sorting network against every
// 0-1 input (the 0-1 principle), and parallel_for against the serial run.
#include "train/aggregator_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "common/rng.h"
#include "train/aggregator.h"

namespace swarm::train {
namespace {

using Vec = std::vector<float>;

// --- reference rules: the per-coordinate loops the fast paths replace ------

Vec RefMean(const std::vector<Vec>& in) {
  Vec o = in[0];
  for (size_t i = 1; i < in.size(); ++i)
    for (size_t j = 0; j < o.size(); ++j) o[j] += in[i][j];
  const float inv = 1.0f / static_cast<float>(in.size());
  for (auto& x : o) x *= inv;
  return o;
}

Vec RefMedian(const std::vector<Vec>& in) {
  const size_t n = in.size();
  Vec o(in[0].size()), col(n);
  for (size_t j = 0; j < o.size(); ++j) {
    for (size_t i = 0; i < n; ++i) col[i] = in[i][j];
    std::sort(col.begin(), col.end());
    o[j] = n % 2 ? col[n / 2] : 0.5f * (col[n / 2 - 1] + col[n / 2]);
  }
  return o;
}

Vec RefTrimmed(const std::vector<Vec>& in, size_t b) {
  const size_t n = in.size();
  Vec o(in[0].size()), col(n);
  const float inv = 1.0f / static_cast<float>(n - 2 * b);
  for (size_t j = 0; j < o.size(); ++j) {
    for (size_t i = 0; i < n; ++i) col[i] = in[i][j];
    std::sort(col.begin(), col.end());
    float s = 0;
    for (size_t i = b; i < n - b; ++i) s += col[i];
    o[j] = s * inv;
  }
  return o;
}

Vec RefCenteredClip(const std::vector<Vec>& in, int iterations) {
  const size_t n = in.size(), d = in[0].size();
  Vec v = RefMedian(in);
  auto dist = [&](const Vec& x) {
    double s = 0;
    for (size_t j = 0; j < d; ++j) {
      const double t = static_cast<double>(x[j]) - v[j];
      s += t * t;
    }
    return std::sqrt(s);
  };
  std::vector<double> ds(n);
  for (size_t i = 0; i < n; ++i) ds[i] = dist(in[i]);
  std::nth_element(ds.begin(), ds.begin() + n / 2, ds.end());
  const double tau = ds[n / 2];
  for (int it = 0; it < iterations; ++it) {
    std::vector<double> acc(d, 0.0);
    for (size_t i = 0; i < n; ++i) {
      const double norm = dist(in[i]);
      const double w = norm <= tau ? 1.0 : (norm > 0 ? tau / norm : 0.0);
      for (size_t j = 0; j < d; ++j) acc[j] += w * (static_cast<double>(in[i][j]) - v[j]);
    }
    for (size_t j = 0; j < d; ++j) v[j] = static_cast<float>(v[j] + acc[j] / static_cast<double>(n));
  }
  return v;
}

// Inputs that exercise ties, signed zeros, and mixed magnitudes.
std::vector<Vec> RandomInputs(Rng& rng, size_t n, size_t d) {
  std::vector<Vec> in(n, Vec(d));
  for (auto& v : in) {
    for (auto& x : v) {
      switch (rng.Uniform(8)) {
        case 0: x = 0.0f; break;
        case 1: x = -0.0f; break;
        case 2: x = static_cast<float>(rng.Uniform(5)); break;  // ties
        case 3: x = static_cast<float>(rng.UniformDouble(-1e6, 1e6)); break;
        default: x = static_cast<float>(rng.UniformDouble(-1, 1)); break;
      }
    }
  }
  return in;
}

Vec RunAgg(const AggregatorSpec& spec, const std::vector<Vec>& in) {
  auto agg = MakeAggregator(spec);
  EXPECT_TRUE(agg.ok()) << agg.status();
  std::vector<Contribution> views(in.begin(), in.end());
  Vec out(in[0].size());
  const Status st = (*agg)->Aggregate(views, out);
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

// Two real threads, so the parallel path runs concurrently in the test.
void TwoThreads(size_t tasks, const std::function<void(size_t)>& task) {
  std::thread other([&] {
    for (size_t t = 1; t < tasks; t += 2) task(t);
  });
  for (size_t t = 0; t < tasks; t += 2) task(t);
  other.join();
}

TEST(SortingNetwork, SortsEveryZeroOneInputUpToSixteen) {
  for (size_t n = 0; n <= 16; ++n) {
    const auto net = kernels::SortingNetwork(n);
    for (uint32_t bits = 0; bits < (1u << n); ++bits) {
      std::vector<int> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = (bits >> i) & 1;
      for (const auto& c : net) {
        ASSERT_LT(c.lo, c.hi);
        ASSERT_LT(c.hi, n);
        if (v[c.lo] > v[c.hi]) std::swap(v[c.lo], v[c.hi]);
      }
      ASSERT_TRUE(std::is_sorted(v.begin(), v.end())) << "n=" << n << " bits=" << bits;
    }
  }
}

TEST(SortingNetwork, SortsRandomColumnsOfManySizes) {
  Rng rng(7);
  for (size_t n : {17u, 31u, 33u, 64u, 100u, 257u}) {
    const auto net = kernels::SortingNetwork(n);
    const size_t lanes = kernels::kLanesMultiple;
    std::vector<float> data(n * lanes);
    for (auto& x : data) x = static_cast<float>(rng.UniformDouble(-10, 10));
    std::vector<float*> rows(n);
    for (size_t i = 0; i < n; ++i) rows[i] = data.data() + i * lanes;
    std::vector<std::vector<float>> expect(lanes, std::vector<float>(n));
    for (size_t k = 0; k < lanes; ++k) {
      for (size_t i = 0; i < n; ++i) expect[k][i] = rows[i][k];
      std::sort(expect[k].begin(), expect[k].end());
    }
    kernels::SortColumns(rows.data(), net, lanes);
    for (size_t k = 0; k < lanes; ++k)
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(rows[i][k], expect[k][i]) << "n=" << n;
  }
}

TEST(Kernels, AllFiniteFindsANonFiniteAnywhere) {
  for (size_t n : {1u, 7u, 16u, 33u, 1000u}) {
    for (size_t at = 0; at < n; at += std::max<size_t>(1, n / 7)) {
      for (float bad : {NAN, INFINITY, -INFINITY}) {
        std::vector<float> v(n, 1.0f);
        EXPECT_TRUE(kernels::AllFinite(v.data(), n));
        v[at] = bad;
        EXPECT_FALSE(kernels::AllFinite(v.data(), n)) << "n=" << n << " at=" << at;
      }
    }
  }
}

// Sizes cross the lane multiple, the sort block (256), the mean block (4096)
// and the parallel chunk (65536).
const size_t kDims[] = {1, 63, 64, 257, 5000, 70001};

TEST(FastAggregators, MeanAndTrimmedMeanAreBitIdenticalMedianEqualAsFloats) {
  Rng rng(11);
  for (size_t d : kDims) {
    for (size_t n : {1u, 2u, 3u, 4u, 7u, 8u, 16u, 21u}) {
      const auto in = RandomInputs(rng, n, d);
      const Vec mean = RunAgg({.name = "mean"}, in), ref_mean = RefMean(in);
      ASSERT_EQ(0, std::memcmp(mean.data(), ref_mean.data(), d * 4)) << "mean n=" << n << " d=" << d;
      const Vec med = RunAgg({.name = "median"}, in), ref_med = RefMedian(in);
      for (size_t j = 0; j < d; ++j) ASSERT_EQ(med[j], ref_med[j]) << "median n=" << n << " j=" << j;
      for (size_t b = 0; 2 * b < n; ++b) {
        const Vec tm = RunAgg({.name = "trimmed_mean", .trim = static_cast<int>(b)}, in);
        const Vec ref_tm = RefTrimmed(in, b);
        ASSERT_EQ(0, std::memcmp(tm.data(), ref_tm.data(), d * 4))
            << "trimmed_mean n=" << n << " trim=" << b << " d=" << d;
      }
    }
  }
}

TEST(FastAggregators, CenteredClipMatchesThePlainLoopToFloatRounding) {
  Rng rng(13);
  for (size_t d : kDims) {
    for (size_t n : {3u, 4u, 7u, 16u}) {
      std::vector<Vec> in(n, Vec(d));
      for (auto& v : in)
        for (auto& x : v) x = static_cast<float>(rng.UniformDouble(-1, 1));
      for (size_t j = 0; j < d; ++j) in[0][j] = 1000.0f;  // one outlier to clip
      const Vec cc = RunAgg({.name = "centered_clip", .clip_iterations = 3}, in);
      const Vec ref = RefCenteredClip(in, 3);
      double scale = 0, err = 0;
      for (size_t j = 0; j < d; ++j) {
        scale = std::max(scale, std::fabs(static_cast<double>(ref[j])));
        err = std::max(err, std::fabs(static_cast<double>(cc[j]) - ref[j]));
      }
      EXPECT_LE(err, 1e-5 * std::max(scale, 1.0)) << "n=" << n << " d=" << d;
    }
  }
}

TEST(FastAggregators, ParallelRunIsBitIdenticalToSerial) {
  Rng rng(17);
  const size_t d = 3 * 65536 + 1234;  // several chunks and a short one
  const auto in = RandomInputs(rng, 9, d);
  for (const char* name : {"mean", "median", "trimmed_mean", "multi_krum", "centered_clip"}) {
    AggregatorSpec serial{.name = name, .byzantine = 2};
    AggregatorSpec parallel = serial;
    parallel.parallel_for = TwoThreads;
    const Vec a = RunAgg(serial, in), b = RunAgg(parallel, in);
    ASSERT_EQ(0, std::memcmp(a.data(), b.data(), d * 4)) << name;
    serial.bucket_size = parallel.bucket_size = 2;
    const Vec c = RunAgg(serial, in), e = RunAgg(parallel, in);
    ASSERT_EQ(0, std::memcmp(c.data(), e.data(), d * 4)) << "bucketing+" << name;
  }
}

TEST(FastAggregators, NonFiniteContributionIsStillExcludedOnTheParallelPath) {
  std::vector<Vec> in(5, Vec(1000, 1.0f));
  in[3][999] = NAN;
  AggregatorSpec spec{.name = "median", .parallel_for = TwoThreads};
  auto agg = MakeAggregator(spec);
  ASSERT_TRUE(agg.ok());
  std::vector<Contribution> views(in.begin(), in.end());
  Vec out(1000);
  AggregationReport r;
  ASSERT_TRUE((*agg)->Aggregate(views, out, &r).ok());
  EXPECT_EQ(r.excluded_nonfinite, 1u);
  EXPECT_EQ(r.used, 4u);
  EXPECT_EQ(out[999], 1.0f);
}

TEST(FastAggregators, MeanSkipsValidationOnlyWhenTheOutputProvesTheInputsFinite) {
  // Every kind of bad input at every position is still excluded and counted.
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    for (size_t at : {0u, 500u, 999u}) {
      std::vector<Vec> in(4, Vec(1000, 2.0f));
      in[2][at] = bad;
      MeanAggregator a;
      std::vector<Contribution> views(in.begin(), in.end());
      Vec out(1000);
      AggregationReport r;
      ASSERT_TRUE(a.Aggregate(views, out, &r).ok());
      EXPECT_EQ(r.excluded_nonfinite, 1u);
      EXPECT_EQ(r.used, 3u);
      EXPECT_EQ(out[at], 2.0f);
    }
  }
  // +Inf in one input and -Inf in another: NaN in the sum, both excluded.
  std::vector<Vec> in(4, Vec(10, 1.0f));
  in[0][3] = INFINITY;
  in[1][3] = -INFINITY;
  MeanAggregator a;
  std::vector<Contribution> views(in.begin(), in.end());
  Vec out(10);
  AggregationReport r;
  ASSERT_TRUE(a.Aggregate(views, out, &r).ok());
  EXPECT_EQ(r.excluded_nonfinite, 2u);
  EXPECT_EQ(out[3], 1.0f);
  // Finite inputs whose sum overflows: nothing excluded, the mean is Inf
  // exactly as the plain loop gives (the fallback path reruns the rule).
  std::vector<Vec> big(2, Vec(3, 3e38f));
  std::vector<Contribution> big_views(big.begin(), big.end());
  Vec big_out(3);
  AggregationReport rb;
  ASSERT_TRUE(a.Aggregate(big_views, big_out, &rb).ok());
  EXPECT_EQ(rb.excluded_nonfinite, 0u);
  EXPECT_EQ(rb.used, 2u);
  EXPECT_TRUE(std::isinf(big_out[0]));
}

}  // namespace
}  // namespace swarm::train
