#include "net/backoff.h"

#include <algorithm>
#include <cmath>

namespace swarm::net {

Nanos BackoffCap(const BackoffConfig& config, int attempt) {
  const double cap = static_cast<double>(config.initial) *
                     std::pow(config.multiplier, static_cast<double>(std::max(0, attempt)));
  return static_cast<Nanos>(std::min(cap, static_cast<double>(config.max)));
}

Nanos BackoffDelay(const BackoffConfig& config, int attempt, Rng& rng) {
  const Nanos cap = BackoffCap(config, attempt);
  return static_cast<Nanos>(rng.Uniform(static_cast<uint64_t>(cap) + 1));
}

}  // namespace swarm::net
