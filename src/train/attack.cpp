#include "train/attack.h"

#include <cmath>

#include "absl/strings/str_join.h"

namespace swarm::train {
namespace {

Status CheckSizes(std::span<const Contribution> honest, Contribution own, std::span<float> out,
                  bool need_honest, const std::string& name) {
  if (out.size() != own.size()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": output size ", out.size(),
                                                   " != own size ", own.size()));
  }
  if (need_honest && honest.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, ": needs at least one honest contribution to imitate"));
  }
  for (size_t i = 0; i < honest.size(); ++i) {
    if (honest[i].size() != own.size()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": honest contribution ", i,
                                                     " has ", honest[i].size(),
                                                     " elements, expected ", own.size()));
    }
  }
  return absl::OkStatus();
}

class NoAttack : public Attack {
 public:
  std::string name() const override { return "none"; }
  Status Craft(std::span<const Contribution> h, Contribution own, std::span<float> out,
               Rng&) const override {
    SWARM_RETURN_IF_ERROR(CheckSizes(h, own, out, false, name()));
    std::copy(own.begin(), own.end(), out.begin());
    return absl::OkStatus();
  }
};

class LabelFlip final : public NoAttack {
 public:
  std::string name() const override { return "label_flip"; }
  bool poisons_labels() const override { return true; }
};

class SignFlip final : public Attack {
 public:
  explicit SignFlip(double scale) : scale_(static_cast<float>(scale)) {}
  std::string name() const override { return "sign_flip"; }
  Status Craft(std::span<const Contribution> h, Contribution own, std::span<float> out,
               Rng&) const override {
    SWARM_RETURN_IF_ERROR(CheckSizes(h, own, out, false, name()));
    for (size_t j = 0; j < own.size(); ++j) out[j] = -scale_ * own[j];
    return absl::OkStatus();
  }
 private:
  float scale_;
};

class GaussianNoise final : public Attack {
 public:
  explicit GaussianNoise(double std) : std_(std) {}
  std::string name() const override { return "noise"; }
  Status Craft(std::span<const Contribution> h, Contribution own, std::span<float> out,
               Rng& rng) const override {
    SWARM_RETURN_IF_ERROR(CheckSizes(h, own, out, false, name()));
    for (size_t j = 0; j < own.size(); ++j) out[j] = own[j] + static_cast<float>(rng.Normal(0, std_));
    return absl::OkStatus();
  }
 private:
  double std_;
};

class Alie final : public Attack {
 public:
  explicit Alie(double z) : z_(z) {}
  std::string name() const override { return "alie"; }
  Status Craft(std::span<const Contribution> h, Contribution own, std::span<float> out,
               Rng&) const override {
    SWARM_RETURN_IF_ERROR(CheckSizes(h, own, out, true, name()));
    const double n = static_cast<double>(h.size());
    for (size_t j = 0; j < own.size(); ++j) {
      double s = 0, s2 = 0;
      for (const auto& c : h) {
        s += c[j];
        s2 += static_cast<double>(c[j]) * c[j];
      }
      const double mu = s / n;
      const double var = std::max(0.0, s2 / n - mu * mu);
      out[j] = static_cast<float>(mu - z_ * std::sqrt(var));
    }
    return absl::OkStatus();
  }
 private:
  double z_;
};

class Ipm final : public Attack {
 public:
  explicit Ipm(double eps) : eps_(eps) {}
  std::string name() const override { return "ipm"; }
  Status Craft(std::span<const Contribution> h, Contribution own, std::span<float> out,
               Rng&) const override {
    SWARM_RETURN_IF_ERROR(CheckSizes(h, own, out, true, name()));
    const double scale = -eps_ / static_cast<double>(h.size());
    for (size_t j = 0; j < own.size(); ++j) {
      double s = 0;
      for (const auto& c : h) s += c[j];
      out[j] = static_cast<float>(scale * s);
    }
    return absl::OkStatus();
  }
 private:
  double eps_;
};

}  // namespace

double InverseNormalCdf(double p) {
  if (!(p > 0.0 && p < 1.0)) return p <= 0.0 ? -INFINITY : INFINITY;
  double lo = -40.0, hi = 40.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    const double cdf = 0.5 * std::erfc(-mid / std::sqrt(2.0));
    (cdf < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double AlieZ(int n, int f) {
  const int s = n / 2 + 1 - f;
  return InverseNormalCdf(static_cast<double>(n - s) / static_cast<double>(n));
}

const std::vector<std::string>& AttackNames() {
  static const std::vector<std::string> kNames = {"none", "sign_flip", "noise",
                                                  "alie", "ipm",       "label_flip"};
  return kNames;
}

StatusOr<std::unique_ptr<Attack>> MakeAttack(const AttackSpec& s) {
  auto bad = [](const std::string& what, double v, const std::string& allowed) {
    return absl::InvalidArgumentError(
        absl::StrCat("attack option ", what, " = ", v, " is invalid: ", allowed));
  };
  if (s.name == "none") return std::unique_ptr<Attack>(new NoAttack());
  if (s.name == "label_flip") return std::unique_ptr<Attack>(new LabelFlip());
  if (s.name == "sign_flip") {
    if (!std::isfinite(s.sign_flip_scale)) return bad("sign_flip_scale", s.sign_flip_scale, "must be finite");
    return std::unique_ptr<Attack>(new SignFlip(s.sign_flip_scale));
  }
  if (s.name == "noise") {
    if (!(s.noise_std >= 0) || !std::isfinite(s.noise_std)) {
      return bad("noise_std", s.noise_std, "must be finite and >= 0");
    }
    return std::unique_ptr<Attack>(new GaussianNoise(s.noise_std));
  }
  if (s.name == "alie") {
    double z = s.alie_z;
    if (std::isnan(z)) {
      if (s.trainers < 1 || s.byzantine < 0 || s.byzantine >= s.trainers) {
        return absl::InvalidArgumentError(absl::StrCat(
            "alie: needs trainers n >= 1 and 0 <= byzantine f < n for z (n = ", s.trainers,
            ", f = ", s.byzantine, "), or an explicit alie_z"));
      }
      z = AlieZ(s.trainers, s.byzantine);
    }
    if (!std::isfinite(z)) return bad("alie_z", z, "must be finite");
    return std::unique_ptr<Attack>(new Alie(z));
  }
  if (s.name == "ipm") {
    if (!std::isfinite(s.ipm_epsilon)) return bad("ipm_epsilon", s.ipm_epsilon, "must be finite");
    return std::unique_ptr<Attack>(new Ipm(s.ipm_epsilon));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown attack '", s.name, "'; valid: ",
                                                 absl::StrJoin(AttackNames(), ", ")));
}

}  // namespace swarm::train
