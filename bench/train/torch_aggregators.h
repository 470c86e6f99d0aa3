// The same aggregators written with LibTorch tensor operations, as BTARD's
// CenteredClip and most Python robust-aggregation code are: the anchor the
// issue-18 goal ("each >= 2x faster than the LibTorch version") is measured
// against. Inputs are one pre-stacked [n, d] float tensor (stacking is not
// timed, which favours the LibTorch side).
#pragma once

#include <cstddef>
#include <string>

namespace swarm::bench {

// Holds the stacked tensor; `inputs` are n pointers to d floats.
class TorchAggregators {
 public:
  TorchAggregators(const float* const* inputs, size_t n, size_t d, int threads);
  ~TorchAggregators();
  // Runs `name` (mean | median | trimmed_mean | centered_clip) once with
  // trim/byzantine f and L iterations; returns a checksum of the output.
  double Run(const std::string& name, int f, int iterations);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace swarm::bench
