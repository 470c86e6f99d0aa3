#include "net/circuit_breaker.h"

#include <gtest/gtest.h>

namespace swarm::net {
namespace {

using State = CircuitBreaker::State;

TEST(CircuitBreaker, OpensAfterThresholdConsecutiveFailures) {
  CircuitBreaker b({.failure_threshold = 3, .open_duration = Seconds(5), .half_open_probes_max = 1});
  b.OnFailure(0);
  b.OnFailure(1);
  b.OnSuccess(2);  // resets the count
  b.OnFailure(3);
  b.OnFailure(4);
  EXPECT_EQ(b.state(5), State::kClosed);
  EXPECT_TRUE(b.Allow(5));
  b.OnFailure(6);
  EXPECT_EQ(b.state(7), State::kOpen);
  EXPECT_FALSE(b.Allow(7));
}

TEST(CircuitBreaker, HalfOpenAfterDurationLetsOneProbe) {
  CircuitBreaker b({.failure_threshold = 1, .open_duration = Seconds(5), .half_open_probes_max = 1});
  b.OnFailure(0);
  EXPECT_FALSE(b.Allow(Seconds(4.9)));
  EXPECT_EQ(b.state(Seconds(5)), State::kHalfOpen);
  EXPECT_TRUE(b.Allow(Seconds(5)));
  EXPECT_FALSE(b.Allow(Seconds(5)));  // second concurrent probe refused
}

TEST(CircuitBreaker, ProbeSuccessClosesProbeFailureReopens) {
  CircuitBreaker b({.failure_threshold = 1, .open_duration = Seconds(5), .half_open_probes_max = 1});
  b.OnFailure(0);
  ASSERT_TRUE(b.Allow(Seconds(6)));
  b.OnFailure(Seconds(6));
  EXPECT_EQ(b.state(Seconds(6)), State::kOpen);
  EXPECT_FALSE(b.Allow(Seconds(10)));  // the open period restarted at 6 s
  ASSERT_TRUE(b.Allow(Seconds(11)));
  b.OnSuccess(Seconds(11));
  EXPECT_EQ(b.state(Seconds(11)), State::kClosed);
  EXPECT_TRUE(b.Allow(Seconds(11)));
  EXPECT_TRUE(b.Allow(Seconds(11)));
}

TEST(CircuitBreaker, StateNames) {
  EXPECT_EQ(CircuitBreaker::StateName(State::kHalfOpen), "half-open");
}

}  // namespace
}  // namespace swarm::net
