// Islands with migration (the island model, as in pagmo2).
//
// Topology: a directed graph over islands whose edge weights are migration
// probabilities: at each migration event, island i sends its best k to j
// with probability w(i, j). Ring(n) links i -> i+1 and i -> i-1, Full(n)
// links every pair; Custom takes explicit edges. MigrationRoutes draws the
// (from, to) pairs of one event from an Rng; it is the part a distributed
// driver (islands on different peers) reuses.
//
// Archipelago runs all islands in-process: Step() advances every island one
// generation (island 0 first) and, every `migration_interval` generations,
// moves the best `migrants` of each island along the drawn routes (migrants
// replace the last non-elite offspring of the receiver). Migrants keep their
// genes' meaning because innovation ids are swarm-wide (genome.h).
// Deterministic from the seed; not thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "common/rng.h"
#include "evo/island.h"

namespace swarm::evo {

struct MigrationEdge {
  uint32_t from = 0, to = 0;
  double probability = 1.0;
};

class Topology {
 public:
  static Topology Ring(uint32_t n, double probability = 1.0);
  static Topology Full(uint32_t n, double probability = 1.0);
  // Edges must name islands < n, not self-loops, probability in [0, 1].
  static StatusOr<Topology> Custom(uint32_t n, std::vector<MigrationEdge> edges);

  uint32_t size() const { return n_; }
  const std::vector<MigrationEdge>& edges() const { return edges_; }

 private:
  uint32_t n_ = 0;
  std::vector<MigrationEdge> edges_;
};

// The (from, to) pairs that migrate in one event, in edge order.
std::vector<MigrationEdge> MigrationRoutes(const Topology& t, Rng& rng);

struct ArchipelagoConfig {
  uint32_t migration_interval = 5;  // generations between migration events
  uint32_t migrants = 2;            // best k sent along each route
};

struct ArchipelagoStats {
  uint64_t generation = 0;
  double best_fitness = 0;
  uint64_t evaluations_total = 0;
  uint64_t migrations_total = 0;  // genomes moved so far
  bool solved = false;
  std::vector<GenerationStats> islands;
};

// Checkpoint of a whole archipelago (evo/checkpoint.h).
struct ArchipelagoState {
  uint64_t generation = 0;
  uint64_t migrations = 0;
  std::vector<IslandState> islands;
};

class Archipelago {
 public:
  // One island per topology node; island i is seeded with seed + i.
  Archipelago(const NeatConfig& cfg, const Task* task, Topology topology, ArchipelagoConfig acfg,
              uint64_t seed);
  // `evaluator` is shared by all islands (one batch per island per step).
  StatusOr<ArchipelagoStats> Step(Evaluator& evaluator);

  ArchipelagoState Save() const;
  // Restores every island (count must match); the migration Rng is reseeded
  // from (seed, generation). On error nothing is guaranteed: discard the object.
  Status Load(ArchipelagoState s);

  bool solved() const;
  uint64_t evaluations() const;
  uint64_t migrations() const { return migrations_; }
  const Island& island(size_t i) const { return *islands_[i]; }
  size_t size() const { return islands_.size(); }

 private:
  std::vector<std::unique_ptr<Island>> islands_;
  Topology topology_;
  ArchipelagoConfig acfg_;
  uint64_t seed_;
  Rng rng_;
  uint64_t generation_ = 0;
  uint64_t migrations_ = 0;
};

}  // namespace swarm::evo
