#include "jobs/pheromone.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace swarm::jobs {

Status PheromoneParams::Validate() const {
  const auto bad = [](const char* f, double v, const char* range) {
    return absl::InvalidArgumentError(absl::StrCat("jobs pheromone: ", f, " = ", v, " is outside ", range));
  };
  if (!(tau_min > 0)) return bad("tau_min", tau_min, "(0, inf)");
  if (!(tau_max >= tau_min)) return bad("tau_max", tau_max, "[tau_min, inf)");
  if (!(tau_initial >= tau_min && tau_initial <= tau_max)) return bad("tau_initial", tau_initial, "[tau_min, tau_max]");
  if (!(evaporation_per_second >= 0 && evaporation_per_second <= 100)) {
    return bad("evaporation_per_second", evaporation_per_second, "[0, 100]");
  }
  if (!(deposit >= 0 && deposit <= tau_max)) return bad("deposit", deposit, "[0, tau_max]");
  if (!(miss_factor >= 0 && miss_factor <= 1)) return bad("miss_factor", miss_factor, "[0, 1]");
  if (!(alpha >= 0 && alpha <= 8)) return bad("alpha", alpha, "[0, 8]");
  return absl::OkStatus();
}

double PheromoneTable::Clamp(double t) const { return std::clamp(t, p_.tau_min, p_.tau_max); }

void PheromoneTable::Add(uint32_t worker, double hint, Nanos now) {
  trails_[worker] = Trail{Clamp(p_.tau_initial * (hint > 0 ? hint : 1.0)), now};
}

void PheromoneTable::SetHint(uint32_t worker, double hint, Nanos now) {
  auto it = trails_.find(worker);
  if (it == trails_.end()) return;
  it->second = Trail{Clamp(p_.tau_initial * (hint > 0 ? hint : 1.0)), now};
}

double PheromoneTable::Tau(uint32_t worker, Nanos now) const {
  auto it = trails_.find(worker);
  if (it == trails_.end()) return 0;
  const double dt = ToSeconds(std::max<Nanos>(0, now - it->second.at));
  return p_.tau_min + (it->second.tau - p_.tau_min) * std::exp(-p_.evaporation_per_second * dt);
}

void PheromoneTable::Reinforce(uint32_t worker, Nanos now) {
  auto it = trails_.find(worker);
  if (it == trails_.end()) return;
  it->second = Trail{Clamp(Tau(worker, now) + p_.deposit), std::max(now, it->second.at)};
}

void PheromoneTable::Penalize(uint32_t worker, Nanos now) {
  auto it = trails_.find(worker);
  if (it == trails_.end()) return;
  it->second = Trail{Clamp(Tau(worker, now) * p_.miss_factor), std::max(now, it->second.at)};
}

double PheromoneTable::Weight(uint32_t worker, Nanos now) const {
  return std::pow(Tau(worker, now), p_.alpha);
}

}  // namespace swarm::jobs
