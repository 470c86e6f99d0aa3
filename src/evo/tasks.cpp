#include "evo/tasks.h"

#include <cmath>

#include "evo/network.h"

namespace swarm::evo {
namespace {

Status CheckShape(const Genome& g, const Task& t) {
  if (g.inputs != t.inputs() || g.outputs != t.outputs()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "genome has ", g.inputs, " inputs / ", g.outputs, " outputs; task '", t.name(),
        "' needs ", t.inputs(), " / ", t.outputs()));
  }
  return absl::OkStatus();
}

constexpr double kXorIn[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
constexpr double kXorOut[4] = {0, 1, 1, 0};

}  // namespace

StatusOr<double> XorTask::Evaluate(const Genome& g) const {
  SWARM_RETURN_IF_ERROR(CheckShape(g, *this));
  Network net(g);
  double err = 0;
  for (int i = 0; i < 4; ++i) {
    net.Reset();
    err += std::fabs(net.Activate(kXorIn[i])[0] - kXorOut[i]);
  }
  return (4.0 - err) * (4.0 - err);
}

StatusOr<bool> XorTask::IsSolution(const Genome& g, double) const {
  SWARM_RETURN_IF_ERROR(CheckShape(g, *this));
  Network net(g);
  for (int i = 0; i < 4; ++i) {
    net.Reset();
    if ((net.Activate(kXorIn[i])[0] > 0.5) != (kXorOut[i] > 0.5)) return false;
  }
  return true;
}

PoleTask::PoleTask(Kind kind, int steps_per_action)
    : kind_(kind), steps_per_action_(steps_per_action < 1 ? 1 : steps_per_action) {
  if (kind == Kind::kSingle) params_.poles = 1;
}

std::string PoleTask::name() const {
  switch (kind_) {
    case Kind::kSingle: return "single-pole";
    case Kind::kDoubleVelocity: return "double-pole";
    case Kind::kDoubleNoVelocity: return "double-pole-nv";
  }
  return "?";
}

uint32_t PoleTask::inputs() const {
  switch (kind_) {
    case Kind::kSingle: return 4;
    case Kind::kDoubleVelocity: return 6;
    case Kind::kDoubleNoVelocity: return 3;
  }
  return 0;
}

CartPoleState PoleTask::StandardStart() { return {0, 0, 4.5 * M_PI / 180.0, 0, 0, 0}; }

StatusOr<int64_t> PoleTask::Balance(const Genome& g, const CartPoleState& start,
                                    int64_t steps_max, double* wiggle_out) const {
  SWARM_RETURN_IF_ERROR(CheckShape(g, *this));
  Network net(g);
  CartPole cart(params_);
  cart.Reset(start);
  double in[6];
  // Ring of the last 100 wiggle terms.
  double ring[100] = {};
  int64_t t = 0;
  for (; t < steps_max; ++t) {
    const CartPoleState& s = cart.state();
    switch (kind_) {
      case Kind::kSingle:
        in[0] = s[0] / 4.8, in[1] = s[1] / 2.0, in[2] = s[2] / 0.52, in[3] = s[3] / 2.0;
        break;
      case Kind::kDoubleVelocity:
        in[0] = s[0] / 4.8, in[1] = s[1] / 2.0, in[2] = s[2] / 0.52, in[3] = s[3] / 2.0,
        in[4] = s[4] / 0.52, in[5] = s[5] / 2.0;
        break;
      case Kind::kDoubleNoVelocity:
        in[0] = s[0] / 4.8, in[1] = s[2] / 0.52, in[2] = s[4] / 0.52;
        break;
    }
    const double out = net.Activate(std::span<const double>(in, inputs()))[0];
    bool failed = false;
    for (int k = 0; k < steps_per_action_ && !failed; ++k) {
      cart.Step((out - 0.5) * 2.0 * params_.force_max);
      failed = cart.Failed();
    }
    if (failed) break;
    const CartPoleState& n = cart.state();
    ring[t % 100] = std::fabs(n[0]) + std::fabs(n[1]) + std::fabs(n[2]) + std::fabs(n[3]);
  }
  if (wiggle_out != nullptr) {
    double w = 0;
    for (double r : ring) w += r;
    *wiggle_out = w;
  }
  return t;
}

StatusOr<double> PoleTask::Evaluate(const Genome& g) const {
  if (kind_ != Kind::kDoubleNoVelocity) {
    SWARM_ASSIGN_OR_RETURN(int64_t t, Balance(g, StandardStart(), kLongRunSteps, nullptr));
    return static_cast<double>(t);
  }
  double wiggle = 0;
  SWARM_ASSIGN_OR_RETURN(int64_t t, Balance(g, StandardStart(), kGruauSteps, &wiggle));
  const double f1 = static_cast<double>(t) / kGruauSteps;
  const double f2 = (t < 100 || wiggle <= 0) ? 0.0 : 0.75 / wiggle;
  return 0.1 * f1 + 0.9 * f2;
}

StatusOr<int> PoleTask::GeneralisationScore(const Genome& g) const {
  static constexpr double kPoints[5] = {0.05, 0.25, 0.5, 0.75, 0.95};
  int ok = 0;
  for (double a : kPoints)
    for (double b : kPoints)
      for (double c : kPoints)
        for (double d : kPoints) {
          const CartPoleState s = {a * 4.32 - 2.16,         b * 2.70 - 1.35,
                                   c * 0.12566304 - 0.06283152, d * 0.30019504 - 0.15009752,
                                   0, 0};
          SWARM_ASSIGN_OR_RETURN(int64_t t, Balance(g, s, kGruauSteps, nullptr));
          if (t >= kGruauSteps) ++ok;
        }
  return ok;
}

StatusOr<bool> PoleTask::IsSolution(const Genome& g, double fitness) const {
  if (kind_ != Kind::kDoubleNoVelocity) return fitness >= static_cast<double>(kLongRunSteps);
  SWARM_ASSIGN_OR_RETURN(int64_t t, Balance(g, StandardStart(), kLongRunSteps, nullptr));
  if (t < kLongRunSteps) return false;
  SWARM_ASSIGN_OR_RETURN(int score, GeneralisationScore(g));
  return score >= kGeneralisationRequired;
}

}  // namespace swarm::evo
