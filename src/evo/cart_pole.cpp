#include "evo/cart_pole.h"

#include <algorithm>
#include <cmath>

namespace swarm::evo {

void CartPole::Derivatives(const CartPoleState& s, double force, CartPoleState& d) const {
  // Effective force and mass of each pole on the cart; theta > 0 tilts the
  // pole towards +x, and gravity makes it fall further.
  double f_sum = 0, m_sum = 0;
  double cos_t[2], g_sin[2], fric[2];
  for (int i = 0; i < p_.poles; ++i) {
    const double th = s[2 + 2 * i], thd = s[3 + 2 * i];
    const double m = p_.pole_mass[i], l = p_.half_length[i];
    cos_t[i] = std::cos(th);
    const double sin_t = std::sin(th);
    g_sin[i] = -p_.gravity * sin_t;
    fric[i] = p_.pole_friction * thd / (m * l);
    f_sum += m * l * thd * thd * sin_t + 0.75 * m * cos_t[i] * (fric[i] + g_sin[i]);
    m_sum += m * (1.0 - 0.75 * cos_t[i] * cos_t[i]);
  }
  const double xdd = (force + f_sum) / (p_.cart_mass + m_sum);
  d[0] = s[1];
  d[1] = xdd;
  for (int i = 0; i < 2; ++i) {
    if (i < p_.poles) {
      d[2 + 2 * i] = s[3 + 2 * i];
      d[3 + 2 * i] = -0.75 * (xdd * cos_t[i] + g_sin[i] + fric[i]) / p_.half_length[i];
    } else {
      d[2 + 2 * i] = 0;
      d[3 + 2 * i] = 0;
    }
  }
}

void CartPole::Step(double force) {
  force = std::clamp(force, -p_.force_max, p_.force_max);
  const double h = p_.tau;
  CartPoleState k1, k2, k3, k4, t;
  Derivatives(s_, force, k1);
  for (int i = 0; i < 6; ++i) t[i] = s_[i] + 0.5 * h * k1[i];
  Derivatives(t, force, k2);
  for (int i = 0; i < 6; ++i) t[i] = s_[i] + 0.5 * h * k2[i];
  Derivatives(t, force, k3);
  for (int i = 0; i < 6; ++i) t[i] = s_[i] + h * k3[i];
  Derivatives(t, force, k4);
  for (int i = 0; i < 6; ++i) s_[i] += h / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

bool CartPole::Failed() const {
  if (std::fabs(s_[0]) > p_.track_limit) return true;
  for (int i = 0; i < p_.poles; ++i)
    if (std::fabs(s_[2 + 2 * i]) > p_.angle_limit) return true;
  return false;
}

}  // namespace swarm::evo
