#include "net/circuit_breaker.h"

namespace swarm::net {

CircuitBreaker::State CircuitBreaker::state(Nanos now) {
  if (state_ == State::kOpen && now - opened_at_ >= config_.open_duration) {
    state_ = State::kHalfOpen;
    probes_in_flight_ = 0;
  }
  return state_;
}

bool CircuitBreaker::Allow(Nanos now) {
  switch (state(now)) {
    case State::kClosed: return true;
    case State::kOpen: return false;
    case State::kHalfOpen:
      if (probes_in_flight_ >= config_.half_open_probes_max) return false;
      ++probes_in_flight_;
      return true;
  }
  return false;
}

void CircuitBreaker::OnSuccess(Nanos now) {
  state(now);
  state_ = State::kClosed;
  consecutive_failures_ = 0;
  probes_in_flight_ = 0;
}

void CircuitBreaker::OnFailure(Nanos now) {
  if (state(now) == State::kHalfOpen) {
    state_ = State::kOpen;
    opened_at_ = now;
    probes_in_flight_ = 0;
    return;
  }
  if (state_ == State::kClosed && ++consecutive_failures_ >= config_.failure_threshold) {
    state_ = State::kOpen;
    opened_at_ = now;
  }
}

std::string CircuitBreaker::StateName(State s) {
  switch (s) {
    case State::kClosed: return "closed";
    case State::kOpen: return "open";
    case State::kHalfOpen: return "half-open";
  }
  return "?";
}

}  // namespace swarm::net
