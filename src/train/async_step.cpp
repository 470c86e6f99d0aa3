#include "train/async_step.h"

#include <cmath>

namespace swarm::train {

StatusOr<double> StalenessAwareStep(const StalenessPolicy& p, uint64_t staleness) {
  if (!(p.lr >= 0) || !std::isfinite(p.lr) || !(p.power >= 0) || !std::isfinite(p.power)) {
    return absl::InvalidArgumentError(absl::StrCat("staleness policy lr = ", p.lr, ", power = ",
                                                   p.power, " must be finite and >= 0"));
  }
  if (staleness > p.staleness_max) {
    return absl::FailedPreconditionError(absl::StrCat(
        "update staleness ", staleness, " exceeds staleness_max ", p.staleness_max));
  }
  return p.lr / std::pow(1.0 + static_cast<double>(staleness), p.power);
}

StatusOr<double> AsyncParameterServer::ApplyUpdate(std::span<const float> update,
                                                   uint64_t base_version) {
  if (update.size() != params_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("update has ", update.size(),
                                                   " elements, parameters have ",
                                                   params_.size()));
  }
  if (base_version > version_) {
    return absl::InvalidArgumentError(absl::StrCat("update base_version ", base_version,
                                                   " is ahead of the server's ", version_));
  }
  auto lr = StalenessAwareStep(policy_, version_ - base_version);
  if (!lr.ok()) {
    if (absl::IsFailedPrecondition(lr.status())) ++rejected_stale_;
    return lr.status();
  }
  for (float v : update) {
    if (!std::isfinite(v)) return absl::InvalidArgumentError("update contains NaN/Inf");
  }
  const float step = static_cast<float>(*lr);
  for (size_t j = 0; j < params_.size(); ++j) params_[j] -= step * update[j];
  ++version_;
  return *lr;
}

}  // namespace swarm::train
