// NEAT parameters. Defaults follow Stanley & Miikkulainen (2002) where the
// paper gives a value; docs/neat.md lists what each task uses.
#pragma once

#include <cstdint>

#include "common/status.h"

namespace swarm::evo {

struct NeatConfig {
  uint32_t population_size = 150;
  bool feed_forward = true;  // false: add-connection may create recurrent links

  // Initial population: every bias/input linked to every output, weights
  // uniform in [-initial_weight_range, +initial_weight_range].
  double initial_weight_range = 1.0;

  // Compatibility distance delta = c1 * E / N + c2 * D / N + c3 * W
  // (E = D = non-matching genes under the hashed innovation rule, so c1 and c2
  // are summed), N = larger genome's gene count, or 1 when both have fewer
  // than `normalize_min_genes`.
  double c1_excess = 1.0;
  double c2_disjoint = 1.0;
  double c3_weight = 0.4;
  uint32_t normalize_min_genes = 20;
  // Adaptive threshold: moved each generation towards `target_species`
  // species by threshold_step * max(1, |species - target| / target), never
  // below `threshold_min`.
  double compatibility_threshold = 3.0;
  uint32_t target_species = 10;  // 0 disables adaptation
  double threshold_step = 0.3;
  double threshold_min = 0.3;

  // Reproduction.
  double survival_fraction = 0.2;       // top fraction of each species that may parent
  uint32_t elite_min_species_size = 5;  // champion copied unchanged if species >= this
  double mutate_only_fraction = 0.25;   // offspring from mutation alone (no crossover)
  double interspecies_mating = 0.001;
  double disabled_inherit_prob = 0.75;  // disabled in either parent -> disabled in child
  double mate_only_prob = 0.2;          // crossover children left unmutated
  // Share of crossovers whose matching genes take the mean of both parents'
  // weights instead of one parent's at random (the original NEAT code: 0.4).
  double crossover_average_prob = 0;
  uint32_t stagnation_generations = 15; // species not improving this long stop breeding
  uint32_t protected_species = 2;       // the best species are never culled for stagnation
  // Whole-population stagnation (paper's "delta coding" simplification): when
  // the best fitness has not improved for this many generations, only the two
  // best species reproduce next generation. 0 disables.
  uint32_t population_stagnation_generations = 20;

  // Which genome of a generation Task::IsSolution tests. false: the
  // generation's best. true: one species champion per generation, in turn, as
  // the original NEAT double-pole code does for the no-velocity task: species
  // ranked by this generation's best fitness; a species is due again once its
  // best fitness exceeds its previous best; the first due species' champion is
  // tested, or the top species' when none is due. Meant for tasks whose
  // solution check is costly and not implied by the fitness (Gruau's
  // generalisation test).
  bool check_species_in_turn = false;

  // Mutation.
  double weight_mutate_prob = 0.8;      // per offspring
  double weight_link_prob = 1.0;        // per link, when an offspring's weights mutate
  double weight_perturb_prob = 0.9;     // per mutated link, else replaced
  double weight_perturb_sigma = 0.5;
  double weight_replace_range = 2.0;    // replacement uniform in [-r, r]
  double weight_abs_max = 8.0;          // weights clamped to [-max, max]
  // Uniform weight mutation as in the original NEAT C++ code (used instead of
  // the Gaussian scheme above when weight_uniform_power > 0): half of the
  // mutation events are "severe" (each link perturbed with p 0.7, replaced with
  // p 0.2, else kept), the others perturb every link; steps and replacements
  // are uniform in [-power, power]. weight_link_prob still applies. (The
  // original also treats the newest 20 % of genes as a separate tail; hashed
  // innovations carry no age, so there is no tail here.)
  double weight_uniform_power = 0;
  double add_node_prob = 0.03;
  double add_connection_prob = 0.05;
  double toggle_enable_prob = 0.01;
  uint32_t add_connection_tries = 20;
  // true: a mutated offspring gets an added node, or else an added link, or
  // else weight (and toggle) mutations -- never a structural change together
  // with weight changes (the original NEAT code). false: each independently.
  bool exclusive_mutations = false;

  // Named limits: offspring never exceed these (mutations that would are skipped).
  uint32_t genome_nodes_max = 1000;
  uint32_t genome_connections_max = 10000;

  Status Validate() const;
};

}  // namespace swarm::evo
