// Exponential backoff with full jitter (AWS architecture blog, "Exponential
// Backoff And Jitter"): the k-th retry waits a uniform time in
// [0, min(max, initial * multiplier^k)]. Pure; randomness is injected.
#pragma once

#include "common/clock.h"
#include "common/rng.h"

namespace swarm::net {

struct BackoffConfig {
  Nanos initial = Millis(50);
  Nanos max = Millis(2000);
  double multiplier = 2.0;
};

// The cap for retry `attempt` (0-based): min(max, initial * multiplier^attempt).
Nanos BackoffCap(const BackoffConfig& config, int attempt);
// A delay drawn uniformly from [0, BackoffCap(config, attempt)].
Nanos BackoffDelay(const BackoffConfig& config, int attempt, Rng& rng);

}  // namespace swarm::net
