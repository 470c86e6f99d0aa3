// Cart with one or two poles hinged on it (Wieland's equations as used in the
// NEAT paper's double-pole experiments), integrated with classical RK4.
//
//   cart mass 1 kg, poles 0.1 kg and 0.01 kg, half-lengths 0.5 m and 0.05 m,
//   hinge friction mu_p = 2e-6, no cart friction, g = 9.8 m/s^2,
//   one RK4 step of tau = 0.01 s per action, force in [-10, 10] N;
//   failure when |x| > 2.4 m or any |theta| > 36 degrees.
// With one pole the second pole's mass is zero and it plays no part.
// Plain value type; no I/O; deterministic.
#pragma once

#include <array>

namespace swarm::evo {

struct CartPoleParams {
  double cart_mass = 1.0;
  double pole_mass[2] = {0.1, 0.01};
  double half_length[2] = {0.5, 0.05};
  double pole_friction = 0.000002;
  double gravity = 9.8;
  double tau = 0.01;
  double force_max = 10.0;
  double track_limit = 2.4;
  double angle_limit = 0.628329;  // 36 degrees
  int poles = 2;
};

// x, x_dot, theta1, theta1_dot, theta2, theta2_dot (metres, radians, per second).
using CartPoleState = std::array<double, 6>;

class CartPole {
 public:
  explicit CartPole(CartPoleParams p = {}) : p_(p) {}
  void Reset(const CartPoleState& s) { s_ = s; }
  const CartPoleState& state() const { return s_; }
  const CartPoleParams& params() const { return p_; }
  // Applies `force` (clamped to +-force_max) for one tau step (RK4).
  void Step(double force);
  bool Failed() const;

 private:
  void Derivatives(const CartPoleState& s, double force, CartPoleState& d) const;
  CartPoleParams p_;
  CartPoleState s_{};
};

}  // namespace swarm::evo
