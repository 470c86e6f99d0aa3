// Staleness-aware asynchronous SGD (the seeds' "time-dilated" SGD): an update
// computed on parameters of version v and applied at version V has staleness
// s = V - v and is applied with step
//   lr_eff = lr / (1 + s)^power            (power = 1: Zhang et al. 2016)
// Updates staler than staleness_max are rejected (FailedPrecondition), never
// applied. AsyncParameterServer owns a flat parameter vector and its version.
// Not thread-safe: the caller serializes ApplyUpdate (e.g. one mutex or one
// actor). Torch-free.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"

namespace swarm::train {

struct StalenessPolicy {
  double lr = 0.1;
  double power = 1.0;           // 0 = ignore staleness
  uint64_t staleness_max = 16;  // larger staleness → rejected
};

// lr_eff for `staleness`, or FailedPrecondition if staleness > staleness_max.
StatusOr<double> StalenessAwareStep(const StalenessPolicy& p, uint64_t staleness);

class AsyncParameterServer {
 public:
  AsyncParameterServer(std::vector<float> initial, StalenessPolicy policy)
      : params_(std::move(initial)), policy_(policy) {}
  uint64_t version() const { return version_; }
  std::span<const float> params() const { return params_; }
  // params -= lr_eff(version() - base_version) * update; version += 1.
  // Errors: size mismatch / base_version in the future (InvalidArgument),
  // too stale (FailedPrecondition); nothing is applied on error.
  StatusOr<double> ApplyUpdate(std::span<const float> update, uint64_t base_version);
  uint64_t rejected_stale() const { return rejected_stale_; }

 private:
  std::vector<float> params_;
  StalenessPolicy policy_;
  uint64_t version_ = 0;
  uint64_t rejected_stale_ = 0;
};

}  // namespace swarm::train
