// Byzantine-robust aggregation of flat float vectors (gradients or worker
// momenta), one vector per trainer per round.
//
//   auto agg = MakeAggregator({.name = "centered_clip", .byzantine = 2});
//   std::vector<std::span<const float>> in = ...;   // n contributions of dim d
//   std::vector<float> out(d);
//   AggregationReport report;
//   SWARM_RETURN_IF_ERROR((*agg)->Aggregate(in, out, &report));
//
// Aggregators: mean, median (coordinate-wise), trimmed_mean, multi_krum,
// centered_clip; AggregatorSpec::bucket_size > 1 puts bucketing (random
// buckets of that size, averaged) in front of any of them.
//
// Contract: every contribution must have out.size() elements (else
// InvalidArgument naming the index and the sizes). A contribution holding a
// NaN or an Inf is excluded and counted in the report, never used. Too few
// usable contributions for the rule (e.g. trimmed mean needs n > 2*trim) is
// FailedPrecondition naming n and the requirement. Torch-free; no allocation
// proportional to d beyond O(n*d) scratch where stated.
//
// Speed: the coordinate-wise rules run vector kernels (aggregator_kernels.h,
// Highway with run-time dispatch) over cache-sized blocks of coordinates;
// median and trimmed mean sort each block's columns with a compare-exchange
// network instead of a per-coordinate sort, with results equal (as floats;
// only the sign of a zero may differ) to the per-coordinate sort. CenteredClip
// fuses each iteration's clipped step with the next iteration's distances
// (one pass over the inputs per iteration); its sums run in a different order
// than a plain loop, so its output matches one to float rounding (tests bound
// it at 1e-5 relative). With AggregatorSpec::parallel_for set, blocks of
// coordinates are spread over the caller's threads; the result does not
// depend on how many threads ran (fixed chunks, reductions in chunk order).
// train/ itself starts no thread.
//
// Thread-safety: an Aggregator is not thread-safe (bucketing and
// centered_clip's "previous" start keep state); use one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/rng.h"
#include "common/status.h"

namespace swarm::train {

using Contribution = std::span<const float>;

struct AggregationReport {
  size_t received = 0;           // contributions handed in
  size_t used = 0;               // contributions the rule saw (after exclusions)
  size_t excluded_nonfinite = 0; // contained NaN/Inf
  std::vector<size_t> selected;  // multi_krum: indices (into the input) averaged
  int clip_iterations = 0;       // centered_clip: iterations run
  double clip_tau = 0;           // centered_clip: radius used
};

// Runs task(0), ..., task(tasks - 1), possibly concurrently, and returns when
// all have finished. Supplied by the caller; nullptr runs them in order.
using ParallelFor = std::function<void(size_t tasks, const std::function<void(size_t)>& task)>;

struct AggregatorSpec {
  std::string name = "mean";
  int byzantine = 0;            // f: contributions that may be adversarial
  int trim = -1;                // trimmed_mean: dropped per side; -1 = f
  int krum_select = -1;         // multi_krum: m averaged; -1 = n - f
  double clip_tau = 0;          // centered_clip radius; 0 = auto (median distance to start)
  int clip_iterations = 3;      // centered_clip iterations L
  std::string clip_start = "median";  // "median" or "previous" (previous aggregate)
  int bucket_size = 1;          // > 1: bucketing in front of the rule
  uint64_t seed = 1;            // bucketing permutation stream
  ParallelFor parallel_for;     // optional: spread coordinate blocks over threads
};

class Aggregator {
 public:
  virtual ~Aggregator() = default;
  virtual std::string name() const = 0;
  // Validates and aggregates `inputs` into `out` (see the contract above).
  Status Aggregate(std::span<const Contribution> inputs, std::span<float> out,
                   AggregationReport* report = nullptr);
  // Optional executor for the data-parallel parts (see ParallelFor).
  virtual void set_parallel_for(ParallelFor p) { parallel_for_ = std::move(p); }

 protected:
  // True when any NaN/Inf input makes some output coordinate NaN/Inf, so a
  // finite output proves the inputs finite and the validation pass can be
  // skipped (see Aggregate).
  virtual bool PropagatesNonFinite() const { return false; }
  // Runs task over [0, tasks) with parallel_for_ when set, else in order.
  void ForEach(size_t tasks, const std::function<void(size_t)>& task) const;
  ParallelFor parallel_for_;

  // `inputs` are validated: non-empty, finite, every size == out.size().
  virtual Status AggregateValid(std::span<const Contribution> inputs, std::span<float> out,
                                AggregationReport& report) = 0;
};

// Names MakeAggregator accepts, in a stable order.
const std::vector<std::string>& AggregatorNames();
// Unknown name → InvalidArgument listing AggregatorNames(); out-of-range
// options → InvalidArgument naming the option and value.
StatusOr<std::unique_ptr<Aggregator>> MakeAggregator(const AggregatorSpec& spec);

// The individual rules, for direct use and tests.
class MeanAggregator final : public Aggregator {
 public:
  std::string name() const override { return "mean"; }
 protected:
  bool PropagatesNonFinite() const override { return true; }
  Status AggregateValid(std::span<const Contribution>, std::span<float>,
                        AggregationReport&) override;
};

class MedianAggregator final : public Aggregator {
 public:
  std::string name() const override { return "median"; }
 protected:
  Status AggregateValid(std::span<const Contribution>, std::span<float>,
                        AggregationReport&) override;
};

// Per coordinate: sort, drop `trim` lowest and `trim` highest, average the rest.
class TrimmedMeanAggregator final : public Aggregator {
 public:
  explicit TrimmedMeanAggregator(int trim) : trim_(trim) {}
  std::string name() const override { return "trimmed_mean"; }
 protected:
  Status AggregateValid(std::span<const Contribution>, std::span<float>,
                        AggregationReport&) override;
 private:
  int trim_;
};

// Multi-Krum (Blanchard et al. 2017): score_i = sum of squared distances to its
// n-f-2 nearest others; average the m lowest-scoring. Needs n >= f + 3.
class MultiKrumAggregator final : public Aggregator {
 public:
  MultiKrumAggregator(int byzantine, int select) : f_(byzantine), m_(select) {}
  std::string name() const override { return "multi_krum"; }
 protected:
  Status AggregateValid(std::span<const Contribution>, std::span<float>,
                        AggregationReport&) override;
 private:
  int f_, m_;
};

// CenteredClip (Karimireddy, He & Jaggi 2021): from a start v, L times
//   v <- v + (1/n) sum_i (x_i - v) * min(1, tau / ||x_i - v||).
// Start: coordinate-wise median of the inputs, or the previous output.
// tau = 0 picks the median of ||x_i - v0|| each round (scale-free).
class CenteredClipAggregator final : public Aggregator {
 public:
  CenteredClipAggregator(double tau, int iterations, bool start_from_previous)
      : tau_(tau), iterations_(iterations), from_previous_(start_from_previous) {}
  std::string name() const override { return "centered_clip"; }
 protected:
  Status AggregateValid(std::span<const Contribution>, std::span<float>,
                        AggregationReport&) override;
 private:
  double tau_;
  int iterations_;
  bool from_previous_;
  std::vector<float> previous_;
};

// Bucketing (Karimireddy, He & Jaggi 2022): shuffle, average buckets of
// `bucket_size`, hand the ceil(n/s) bucket means to `inner`.
class BucketingAggregator final : public Aggregator {
 public:
  BucketingAggregator(std::unique_ptr<Aggregator> inner, int bucket_size, uint64_t seed)
      : inner_(std::move(inner)), s_(bucket_size), rng_(seed) {}
  std::string name() const override { return "bucketing+" + inner_->name(); }
  void set_parallel_for(ParallelFor p) override {
    inner_->set_parallel_for(p);
    Aggregator::set_parallel_for(std::move(p));
  }
 protected:
  Status AggregateValid(std::span<const Contribution>, std::span<float>,
                        AggregationReport&) override;
 private:
  std::unique_ptr<Aggregator> inner_;
  int s_;
  Rng rng_;
};

}  // namespace swarm::train
