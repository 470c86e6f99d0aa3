// Worker momentum (Karimireddy, He & Jaggi 2021): each trainer sends
//   m_t = beta * m_{t-1} + (1 - beta) * g_t
// instead of its raw minibatch gradient g_t. Averaging momenta rather than
// gradients shrinks honest variance by ~(1-beta)/(1+beta), which is what lets
// robust aggregators tell ALIE/noise apart from honest spread.
// One instance per trainer; not thread-safe. Torch-free.
#pragma once

#include <span>
#include <vector>

#include "common/status.h"

namespace swarm::train {

class WorkerMomentum {
 public:
  // beta in [0, 1). beta = 0 sends raw gradients.
  static StatusOr<WorkerMomentum> Create(double beta);
  // Updates the momentum with `g` and returns it. The first call (or a change
  // of size) starts from m = g (no bias toward zero).
  std::span<const float> Update(std::span<const float> g);
  std::span<const float> value() const { return m_; }
  double beta() const { return beta_; }
  void Reset() { m_.clear(); }

 private:
  explicit WorkerMomentum(double beta) : beta_(beta) {}
  double beta_;
  std::vector<float> m_;
};

}  // namespace swarm::train
