// Time as seen by protocols and services. Protocols never read the wall clock:
// they are handed `now` in on_tick. Drivers get it from a Clock: RealClock in a
// node, VirtualClock in the simulator and in tests.
#pragma once

#include <chrono>
#include <cstdint>

namespace swarm {

// Nanoseconds on a monotonic timeline whose origin is the clock's own.
using Nanos = int64_t;
constexpr Nanos kNanosPerMicro = 1'000;
constexpr Nanos kNanosPerMilli = 1'000'000;
constexpr Nanos kNanosPerSecond = 1'000'000'000;

inline constexpr Nanos Millis(int64_t ms) { return ms * kNanosPerMilli; }
inline constexpr Nanos Seconds(double s) { return static_cast<Nanos>(s * kNanosPerSecond); }
inline constexpr double ToSeconds(Nanos n) { return static_cast<double>(n) / kNanosPerSecond; }

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic: never decreases.
  virtual Nanos Now() const = 0;
};

// Monotonic process clock (std::chrono::steady_clock). Thread-safe.
class RealClock final : public Clock {
 public:
  Nanos Now() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that only moves when told to. Not thread-safe; the simulator owns it.
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(Nanos start = 0) : now_(start) {}
  Nanos Now() const override { return now_; }
  // Moves time forward to `t`; moving backwards is a bug.
  void AdvanceTo(Nanos t) {
    if (t > now_) now_ = t;
  }
  void Advance(Nanos d) { now_ += d; }

 private:
  Nanos now_;
};

}  // namespace swarm
