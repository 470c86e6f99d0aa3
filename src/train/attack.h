// Byzantine attacks, for evaluating aggregators (`--byzantine K --attack NAME`).
// A Byzantine trainer computes what an honest one would (`own`), then the
// attack crafts what it actually sends. The attacker is omniscient: it sees the
// honest contributions of the round (the standard threat model of ALIE/IPM).
//
//   none        out = own
//   sign_flip   out = -scale * own
//   noise       out = own + N(0, noise_std^2) per coordinate
//   alie        out = mu - z * sigma (coordinate-wise mean/std of honest);
//               z from Baruch et al. 2019: s = floor(n/2 + 1) - f,
//               z = Phi^-1((n - s) / n); `alie_z` overrides
//   ipm         out = -epsilon * mean(honest)   (Xie et al. 2020)
//   label_flip  data poisoning: the trainer trains on label (C - 1 - y);
//               the crafted vector is then its own honest-looking output
//
// Errors: unknown names list the valid ones; sizes must agree; alie/ipm need
// at least one honest contribution. Not thread-safe (the Rng is the caller's).
// Torch-free.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/rng.h"
#include "common/status.h"
#include "train/aggregator.h"

namespace swarm::train {

struct AttackSpec {
  std::string name = "none";
  int trainers = 0;      // n, all trainers of the round (for ALIE's z)
  int byzantine = 0;     // f
  double sign_flip_scale = 1.0;
  double noise_std = 1.0;
  double alie_z = NAN;   // NaN = from the paper's formula for n and f
  double ipm_epsilon = 0.1;
};

class Attack {
 public:
  virtual ~Attack() = default;
  virtual std::string name() const = 0;
  // True for data poisoning: the trainer must map labels through FlipLabel.
  virtual bool poisons_labels() const { return false; }
  int64_t FlipLabel(int64_t label, int64_t num_classes) const {
    return poisons_labels() ? num_classes - 1 - label : label;
  }
  // Writes the vector the Byzantine trainer sends into `out` (size own.size()).
  virtual Status Craft(std::span<const Contribution> honest, Contribution own,
                       std::span<float> out, Rng& rng) const = 0;
};

const std::vector<std::string>& AttackNames();
StatusOr<std::unique_ptr<Attack>> MakeAttack(const AttackSpec& spec);

// Inverse standard normal CDF (p in (0,1)), by bisection on erfc; exposed for tests.
double InverseNormalCdf(double p);
// z_max of ALIE for n trainers of which f are Byzantine (may be 0 for small n).
double AlieZ(int n, int f);

}  // namespace swarm::train
