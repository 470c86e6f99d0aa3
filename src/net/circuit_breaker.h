// Per-peer circuit breaker: closed → (failure_threshold consecutive failures)
// → open → (open_duration elapsed) → half-open → (a probe succeeds) → closed,
// or (a probe fails) → open again. Pure: time is passed in.
// Thread-safety: none; PeerClient guards it with its own mutex.
#pragma once

#include <string>

#include "common/clock.h"

namespace swarm::net {

struct CircuitBreakerConfig {
  int failure_threshold = 5;       // consecutive failures that open the circuit
  Nanos open_duration = Seconds(5);  // how long to refuse calls before probing
  int half_open_probes_max = 1;    // concurrent probe calls allowed when half-open
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };
  explicit CircuitBreaker(CircuitBreakerConfig config = {}) : config_(config) {}

  // True if a call may be made now. In half-open, at most half_open_probes_max
  // calls are let through until one of them reports back.
  bool Allow(Nanos now);
  void OnSuccess(Nanos now);
  void OnFailure(Nanos now);
  State state(Nanos now);
  static std::string StateName(State s);

 private:
  CircuitBreakerConfig config_;
  State state_ = State::kClosed;
  int consecutive_failures_ = 0;
  int probes_in_flight_ = 0;
  Nanos opened_at_ = 0;
};

}  // namespace swarm::net
