#include "evo/neat_config.h"

namespace swarm::evo {
namespace {

Status Range(const char* name, double v, double lo, double hi) {
  if (!(v >= lo && v <= hi)) {
    return absl::InvalidArgumentError(
        absl::StrCat("neat config '", name, "' = ", v, " is out of range [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

Status NeatConfig::Validate() const {
  SWARM_RETURN_IF_ERROR(Range("population_size", population_size, 2, 1'000'000));
  SWARM_RETURN_IF_ERROR(Range("initial_weight_range", initial_weight_range, 0, weight_abs_max));
  SWARM_RETURN_IF_ERROR(Range("c1_excess", c1_excess, 0, 1e6));
  SWARM_RETURN_IF_ERROR(Range("c2_disjoint", c2_disjoint, 0, 1e6));
  SWARM_RETURN_IF_ERROR(Range("c3_weight", c3_weight, 0, 1e6));
  SWARM_RETURN_IF_ERROR(Range("compatibility_threshold", compatibility_threshold, 1e-9, 1e6));
  SWARM_RETURN_IF_ERROR(Range("threshold_min", threshold_min, 0, 1e6));
  SWARM_RETURN_IF_ERROR(Range("survival_fraction", survival_fraction, 1e-9, 1));
  for (auto [n, v] : {std::pair{"mutate_only_fraction", mutate_only_fraction},
                      {"interspecies_mating", interspecies_mating},
                      {"disabled_inherit_prob", disabled_inherit_prob},
                      {"mate_only_prob", mate_only_prob},
                      {"crossover_average_prob", crossover_average_prob},
                      {"weight_mutate_prob", weight_mutate_prob},
                      {"weight_perturb_prob", weight_perturb_prob},
                      {"weight_link_prob", weight_link_prob},
                      {"add_node_prob", add_node_prob},
                      {"add_connection_prob", add_connection_prob},
                      {"toggle_enable_prob", toggle_enable_prob}}) {
    SWARM_RETURN_IF_ERROR(Range(n, v, 0, 1));
  }
  SWARM_RETURN_IF_ERROR(Range("weight_perturb_sigma", weight_perturb_sigma, 0, 1e3));
  SWARM_RETURN_IF_ERROR(Range("weight_uniform_power", weight_uniform_power, 0, weight_abs_max));
  SWARM_RETURN_IF_ERROR(Range("weight_abs_max", weight_abs_max, 1e-6, 1e6));
  SWARM_RETURN_IF_ERROR(Range("weight_replace_range", weight_replace_range, 0, weight_abs_max));
  SWARM_RETURN_IF_ERROR(Range("genome_nodes_max", genome_nodes_max, 3, 1e7));
  SWARM_RETURN_IF_ERROR(Range("genome_connections_max", genome_connections_max, 1, 1e8));
  return absl::OkStatus();
}

}  // namespace swarm::evo
