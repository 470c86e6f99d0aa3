#include "sim/link_model.h"

namespace swarm::sim {

Status LinkModel::Validate() const {
  auto prob = [](const char* name, double p) -> Status {
    if (!(p >= 0.0 && p <= 1.0))
      return absl::InvalidArgumentError(absl::StrCat("link model: ", name, "=", p, " is outside [0,1]"));
    return absl::OkStatus();
  };
  SWARM_RETURN_IF_ERROR(prob("loss", loss));
  SWARM_RETURN_IF_ERROR(prob("duplicate", duplicate));
  SWARM_RETURN_IF_ERROR(prob("reorder", reorder));
  if (latency_base < 0 || latency_jitter_mean < 0 || latency_jitter_max < 0 || reorder_delay_mean < 0)
    return absl::InvalidArgumentError(absl::StrCat("link model: negative time (latency_base=", latency_base,
                                                   "ns, latency_jitter_mean=", latency_jitter_mean,
                                                   "ns, latency_jitter_max=", latency_jitter_max,
                                                   "ns, reorder_delay_mean=", reorder_delay_mean, "ns)"));
  return absl::OkStatus();
}

Nanos LinkModel::SampleLatency(Rng& rng) const {
  Nanos t = latency_base;
  if (latency_jitter_mean > 0) t += static_cast<Nanos>(rng.Exponential(static_cast<double>(latency_jitter_mean)));
  if (latency_jitter_max > 0) t += static_cast<Nanos>(rng.Uniform(static_cast<uint64_t>(latency_jitter_max) + 1));
  if (reorder > 0 && rng.Bernoulli(reorder))
    t += static_cast<Nanos>(rng.Exponential(static_cast<double>(reorder_delay_mean)));
  return t;
}

const LinkModel& LinkTable::Get(NodeId from, NodeId to) const {
  if (!links_.empty()) {
    auto it = links_.find(Key(from, to));
    if (it != links_.end()) return it->second;
  }
  if (!nodes_.empty()) {
    auto it = nodes_.find(from);
    if (it != nodes_.end()) return it->second;
    it = nodes_.find(to);
    if (it != nodes_.end()) return it->second;
  }
  return default_;
}

}  // namespace swarm::sim
