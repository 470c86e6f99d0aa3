// Built-in NEAT benchmark tasks.
//
// XorTask: 2 inputs, 1 output, feed-forward. Fitness (4 - sum |out - target|)^2
//   over the four cases; solved when every output is on the right side of 0.5.
// PoleTask (cart_pole.h physics, start theta1 = 4.5 degrees, all else 0;
//   force = (output - 0.5) * 2 * 10 N). The physics is integrated with RK4 at
//   tau = 0.01 s; the network acts every `steps_per_action` = 2 integration
//   steps (0.02 s), as in the original NEAT/ESP double-pole code, and "a step"
//   in the criteria below is one action.
//   kSingle             4 inputs (x, x', theta, theta'), fitness = steps
//                       balanced (max 100,000), solved at 100,000.
//   kDoubleVelocity     6 inputs (x, x', theta1, theta1', theta2, theta2'),
//                       fitness = steps balanced (max 100,000), solved at 100,000.
//   kDoubleNoVelocity   3 inputs (x, theta1, theta2), recurrent. Gruau's
//                       fitness over 1,000 steps: 0.1 f1 + 0.9 f2 with
//                       f1 = t / 1000 and f2 = 0.75 / sum over the last 100 steps
//                       of (|x| + |x'| + |theta1| + |theta1'|) (0 when t < 100).
//                       Solved when the champion balances 100,000 steps and then
//                       balances 1,000 steps from at least 200 of the 625
//                       generalisation starts (x, x', theta1, theta1' each at
//                       5 points of their range; theta2 = theta2' = 0).
// Inputs are scaled: x / 4.8, x' / 2, theta / 0.52, theta' / 2.
// A genome with the wrong number of inputs/outputs is an InvalidArgument.
#pragma once

#include <cstdint>

#include "evo/cart_pole.h"
#include "evo/task.h"

namespace swarm::evo {

class XorTask final : public Task {
 public:
  std::string name() const override { return "xor"; }
  uint32_t inputs() const override { return 2; }
  uint32_t outputs() const override { return 1; }
  StatusOr<double> Evaluate(const Genome& g) const override;
  StatusOr<bool> IsSolution(const Genome& champion, double fitness) const override;
};

class PoleTask final : public Task {
 public:
  enum class Kind { kSingle, kDoubleVelocity, kDoubleNoVelocity };
  explicit PoleTask(Kind kind, int steps_per_action = 2);

  std::string name() const override;
  uint32_t inputs() const override;
  uint32_t outputs() const override { return 1; }
  bool recurrent() const override { return kind_ == Kind::kDoubleNoVelocity; }
  StatusOr<double> Evaluate(const Genome& g) const override;
  StatusOr<bool> IsSolution(const Genome& champion, double fitness) const override;

  // Steps balanced (<= steps_max) from `start`; when `wiggle_out` is not null
  // it receives the Gruau wiggle sum over the last 100 steps.
  StatusOr<int64_t> Balance(const Genome& g, const CartPoleState& start, int64_t steps_max,
                            double* wiggle_out) const;
  // Number of the 625 generalisation starts balanced for 1,000 steps.
  StatusOr<int> GeneralisationScore(const Genome& g) const;
  static CartPoleState StandardStart();

  static constexpr int64_t kLongRunSteps = 100'000;
  static constexpr int64_t kGruauSteps = 1'000;
  static constexpr int kGeneralisationRequired = 200;

 private:
  Kind kind_;
  int steps_per_action_;
  CartPoleParams params_;
};

}  // namespace swarm::evo
