// Pheromone weights: how the queen prefers workers (the seed's "pheromone
// trails"). Each worker w has a trail tau_w that
//   * evaporates continuously towards tau_min:
//       tau_w(t) = tau_min + (tau_w(t0) - tau_min) * exp(-rho * (t - t0))
//     (rho = evaporation_per_second; the half-life is ln 2 / rho),
//   * is reinforced when a result of w matches the accepted digest:
//       tau_w <- min(tau_max, tau_w(now) + deposit),
//   * is cut when w misses a task's deadline or fails it:
//       tau_w <- max(tau_min, tau_w(now) * miss_factor).
// A new worker starts at tau_initial times its scout hint (throughput over
// the mean of probed workers, 1 when unprobed), clamped to [tau_min, tau_max].
// The queen picks worker w for a task with probability
//       p_w = tau_w^alpha / (1 + inflight_w)  /  sum over eligible workers,
// so busy workers are discounted and a worker's share follows its recent
// record of correct, timely results. docs/jobs.md states the same formula.
//
// Thread-safety: none; owned by one Queen.
#pragma once

#include <cstdint>
#include <map>

#include "common/clock.h"
#include "common/status.h"

namespace swarm::jobs {

struct PheromoneParams {
  double tau_initial = 1.0;
  double tau_min = 0.05;
  double tau_max = 50.0;
  double evaporation_per_second = 0.05;  // rho
  double deposit = 1.0;
  double miss_factor = 0.5;
  double alpha = 1.0;
  // InvalidArgument naming the field when out of range.
  Status Validate() const;
};

class PheromoneTable {
 public:
  explicit PheromoneTable(PheromoneParams p) : p_(p) {}
  const PheromoneParams& params() const { return p_; }

  // hint: scout throughput ratio (1 = average); <= 0 is treated as 1.
  void Add(uint32_t worker, double hint, Nanos now);
  void Remove(uint32_t worker) { trails_.erase(worker); }
  bool Has(uint32_t worker) const { return trails_.count(worker) != 0; }
  // Sets the starting trail again from a scout hint (only sensible before the
  // worker has a record; the queen calls it for workers with no results yet).
  void SetHint(uint32_t worker, double hint, Nanos now);

  double Tau(uint32_t worker, Nanos now) const;
  void Reinforce(uint32_t worker, Nanos now);
  void Penalize(uint32_t worker, Nanos now);
  // tau^alpha (before the load discount).
  double Weight(uint32_t worker, Nanos now) const;

 private:
  struct Trail {
    double tau = 0;
    Nanos at = 0;
  };
  double Clamp(double t) const;
  PheromoneParams p_;
  std::map<uint32_t, Trail> trails_;
};

}  // namespace swarm::jobs
