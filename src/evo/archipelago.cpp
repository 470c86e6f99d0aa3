#include "evo/archipelago.h"

#include <algorithm>

namespace swarm::evo {

Topology Topology::Ring(uint32_t n, double p) {
  Topology t;
  t.n_ = n;
  if (n < 2) return t;
  for (uint32_t i = 0; i < n; ++i) {
    t.edges_.push_back({i, (i + 1) % n, p});
    if (n > 2) t.edges_.push_back({i, (i + n - 1) % n, p});
  }
  return t;
}

Topology Topology::Full(uint32_t n, double p) {
  Topology t;
  t.n_ = n;
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t j = 0; j < n; ++j)
      if (i != j) t.edges_.push_back({i, j, p});
  return t;
}

StatusOr<Topology> Topology::Custom(uint32_t n, std::vector<MigrationEdge> edges) {
  for (size_t i = 0; i < edges.size(); ++i) {
    const auto& e = edges[i];
    if (e.from >= n || e.to >= n) {
      return absl::InvalidArgumentError(absl::StrCat("edge ", i, " (", e.from, " -> ", e.to,
                                                     ") names an island >= ", n));
    }
    if (e.from == e.to) {
      return absl::InvalidArgumentError(absl::StrCat("edge ", i, " is a self-loop on ", e.from));
    }
    if (!(e.probability >= 0 && e.probability <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat("edge ", i, " probability ", e.probability,
                                                     " is not in [0, 1]"));
    }
  }
  Topology t;
  t.n_ = n;
  t.edges_ = std::move(edges);
  return t;
}

std::vector<MigrationEdge> MigrationRoutes(const Topology& t, Rng& rng) {
  std::vector<MigrationEdge> out;
  for (const auto& e : t.edges())
    if (rng.Bernoulli(e.probability)) out.push_back(e);
  return out;
}

Archipelago::Archipelago(const NeatConfig& cfg, const Task* task, Topology topology,
                         ArchipelagoConfig acfg, uint64_t seed)
    : topology_(std::move(topology)), acfg_(acfg), seed_(seed), rng_(seed ^ 0xa5a5a5a5ULL) {
  for (uint32_t i = 0; i < topology_.size(); ++i)
    islands_.push_back(std::make_unique<Island>(cfg, task, seed + i));
}

StatusOr<ArchipelagoStats> Archipelago::Step(Evaluator& evaluator) {
  ArchipelagoStats st;
  st.best_fitness = -1e300;
  for (auto& island : islands_) {
    SWARM_ASSIGN_OR_RETURN(GenerationStats g, island->Step(evaluator));
    st.best_fitness = std::max(st.best_fitness, g.best_fitness);
    st.solved = st.solved || g.solved;
    st.islands.push_back(g);
  }
  ++generation_;
  if (acfg_.migration_interval > 0 && generation_ % acfg_.migration_interval == 0) {
    // Select every emigrant before any island receives, so order does not matter.
    std::vector<std::vector<Genome>> incoming(islands_.size());
    for (const auto& route : MigrationRoutes(topology_, rng_)) {
      for (auto& s : islands_[route.from]->Best(acfg_.migrants))
        incoming[route.to].push_back(std::move(s.genome));
    }
    for (size_t i = 0; i < islands_.size(); ++i) {
      if (incoming[i].empty()) continue;
      SWARM_RETURN_IF_ERROR(islands_[i]->Immigrate(incoming[i]));
      migrations_ += incoming[i].size();
    }
  }
  st.generation = generation_ - 1;
  st.evaluations_total = evaluations();
  st.migrations_total = migrations_;
  return st;
}

ArchipelagoState Archipelago::Save() const {
  ArchipelagoState s;
  s.generation = generation_;
  s.migrations = migrations_;
  for (const auto& i : islands_) s.islands.push_back(i->Save());
  return s;
}

Status Archipelago::Load(ArchipelagoState s) {
  if (s.islands.size() != islands_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint has ", s.islands.size(),
                                                   " islands, this run has ", islands_.size()));
  }
  for (size_t i = 0; i < islands_.size(); ++i) {
    Status st = islands_[i]->Load(std::move(s.islands[i]));
    if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat("island ", i, ": ", st.message()));
  }
  generation_ = s.generation;
  migrations_ = s.migrations;
  rng_ = Rng((seed_ ^ 0xa5a5a5a5ULL) + 0x9e3779b97f4a7c15ULL * (generation_ + 1));
  return absl::OkStatus();
}

bool Archipelago::solved() const {
  return std::any_of(islands_.begin(), islands_.end(), [](const auto& i) { return i->solved(); });
}

uint64_t Archipelago::evaluations() const {
  uint64_t n = 0;
  for (const auto& i : islands_) n += i->evaluations();
  return n;
}

}  // namespace swarm::evo
