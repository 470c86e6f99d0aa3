// One NEAT population (an island), driven one generation per Step call.
//
//   Island island(cfg, &task, seed);
//   while (!island.solved()) {
//     SWARM_ASSIGN_OR_RETURN(auto stats, island.Step(evaluator));
//     island.Immigrate(migrants_from_elsewhere);   // optional, between steps
//   }
//
// Step evaluates the current generation through the Evaluator (one
// EvaluateBatch call), speciates it (compatibility distance, adaptive
// threshold), asks the task whether the generation champion (or, with
// NeatConfig::check_species_in_turn, one species champion in turn) is a solution,
// then breeds the next generation (explicit fitness sharing, stagnation,
// elitism, crossover, mutation). Everything random comes from one Rng seeded
// at construction, so (cfg, seed, evaluator results, immigrants) determine
// the run exactly.
//
// Failed evaluations (error status or non-finite fitness) are counted in
// GenerationStats::failed_evaluations and scored as the lowest fitness seen
// in that generation; if every evaluation fails, Step returns Unavailable and
// the generation is kept for a retry.
//
// Thread-safety: none; one driver thread per island. The Task and Evaluator
// must outlive the calls that use them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/rng.h"
#include "evo/genome.h"
#include "evo/neat_config.h"
#include "evo/task.h"

namespace swarm::evo {

struct GenerationStats {
  uint64_t generation = 0;          // index of the generation just evaluated
  double best_fitness = 0;
  double mean_fitness = 0;
  size_t species = 0;
  double compatibility_threshold = 0;
  uint64_t evaluations_total = 0;   // cumulative, this island
  uint64_t failed_evaluations_total = 0;
  bool solved = false;              // this generation's champion solves the task
};

struct Scored {
  Genome genome;
  double fitness = 0;
};

// Everything an island needs to continue a run (evo/checkpoint.h stores it).
// The Rng is not part of it: Load reseeds it from (seed, generation), so a
// resumed run is deterministic from the checkpoint but is not the same
// sequence the uninterrupted run would have drawn.
struct IslandState {
  struct SpeciesState {
    uint64_t id = 0;
    Genome representative;
    double best_fitness = 0;
    uint64_t last_improved = 0;
  };
  uint64_t generation = 0;
  uint64_t evaluations = 0;
  uint64_t failed = 0;
  double threshold = 0;
  double best_ever = 0;
  uint64_t best_ever_generation = 0;
  uint64_t next_species_id = 0;
  std::vector<Genome> genomes;  // the next generation to evaluate
  std::vector<SpeciesState> species;
  std::optional<Scored> champion, solution;
};

class Island {
 public:
  // `task` supplies the shape and the solution check; not owned.
  Island(const NeatConfig& cfg, const Task* task, uint64_t seed);

  StatusOr<GenerationStats> Step(Evaluator& evaluator);

  // Replaces the last (non-elite) members of the next generation. Migrants
  // with the wrong shape or failing ValidateGenome are rejected (the status
  // names the first bad one); at most population_size/2 are taken.
  Status Immigrate(const std::vector<Genome>& migrants);

  // The k best of the last evaluated generation, fitness descending (ties by
  // genome hash). Empty before the first Step.
  std::vector<Scored> Best(size_t k) const;

  IslandState Save() const;
  // Replaces the island's state with `s` (validated: population size, genome
  // shapes and invariants); on error the island is unchanged.
  Status Load(IslandState s);

  bool solved() const { return solution_.has_value(); }
  const std::optional<Scored>& solution() const { return solution_; }
  const std::optional<Scored>& champion() const { return champion_; }  // best ever
  uint64_t generation() const { return generation_; }
  uint64_t evaluations() const { return evaluations_; }
  const std::vector<Genome>& genomes() const { return genomes_; }  // next to evaluate
  const NeatConfig& config() const { return cfg_; }

 private:
  struct Species {
    uint64_t id;
    Genome representative;
    double best_fitness = -1e300;
    uint64_t last_improved = 0;
    bool checked = false;         // champion tested since its last improvement
    std::vector<size_t> members;  // indices into the evaluated generation
  };
  void Speciate(const std::vector<double>& fitness);
  // Index (into genomes_) of the genome to test with Task::IsSolution; `rank`
  // holds each genome's position in the generation's ranking.
  size_t SolutionCandidate(const std::vector<size_t>& rank);
  void Reproduce(const std::vector<double>& fitness);
  Genome MakeChild(const Species& s, const std::vector<size_t>& parents,
                   const std::vector<double>& fitness, const std::vector<Species>& all);

  Status CheckGenome(const Genome& g, const std::string& what) const;

  NeatConfig cfg_;
  const Task* task_;
  uint64_t seed_;
  Rng rng_;
  std::vector<Genome> genomes_;
  std::vector<Scored> last_;  // last evaluated generation, sorted best first
  std::vector<Species> species_;
  uint64_t next_species_id_ = 0;
  uint64_t generation_ = 0;
  uint64_t evaluations_ = 0;
  uint64_t failed_ = 0;
  double threshold_;
  double best_ever_ = -1e300;
  uint64_t best_ever_generation_ = 0;
  std::optional<Scored> champion_;
  std::optional<Scored> solution_;
};

}  // namespace swarm::evo
