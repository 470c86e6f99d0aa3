#include "evo/island.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "evo/operators.h"

namespace swarm::evo {

Island::Island(const NeatConfig& cfg, const Task* task, uint64_t seed)
    : cfg_(cfg), task_(task), seed_(seed), rng_(seed), threshold_(cfg.compatibility_threshold) {
  cfg_.feed_forward = cfg.feed_forward && !task->recurrent();
  genomes_.reserve(cfg_.population_size);
  for (uint32_t i = 0; i < cfg_.population_size; ++i)
    genomes_.push_back(RandomInitialGenome(task->inputs(), task->outputs(), cfg_, rng_));
}

StatusOr<GenerationStats> Island::Step(Evaluator& evaluator) {
  std::vector<const Genome*> ptrs;
  ptrs.reserve(genomes_.size());
  for (const auto& g : genomes_) ptrs.push_back(&g);
  std::vector<StatusOr<double>> results = evaluator.EvaluateBatch(ptrs);
  SWARM_ASSERT(results.size() == genomes_.size());

  std::vector<double> fitness(genomes_.size(), 0.0);
  double lowest = 1e300;
  size_t ok = 0;
  Status first_error;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok() && std::isfinite(*results[i])) {
      fitness[i] = *results[i];
      lowest = std::min(lowest, fitness[i]);
      ++ok;
    } else if (first_error.ok()) {
      first_error = results[i].ok() ? absl::DataLossError("non-finite fitness") : results[i].status();
    }
  }
  evaluations_ += genomes_.size();
  failed_ += genomes_.size() - ok;
  if (ok == 0) {
    return absl::UnavailableError(absl::StrCat("generation ", generation_, ": all ",
                                               genomes_.size(), " evaluations failed; first: ",
                                               first_error.ToString()));
  }
  for (size_t i = 0; i < results.size(); ++i)
    if (!(results[i].ok() && std::isfinite(*results[i]))) fitness[i] = lowest;

  // Rank the generation (fitness descending, ties by genome hash).
  std::vector<size_t> order(genomes_.size());
  std::iota(order.begin(), order.end(), 0);
  std::vector<uint64_t> hashes(genomes_.size());
  for (size_t i = 0; i < genomes_.size(); ++i) hashes[i] = GenomeHash64(genomes_[i]);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (fitness[a] != fitness[b]) return fitness[a] > fitness[b];
    return hashes[a] < hashes[b];
  });
  last_.clear();
  for (size_t i : order) last_.push_back({genomes_[i], fitness[i]});

  GenerationStats st;
  st.generation = generation_;
  st.best_fitness = last_.front().fitness;
  st.mean_fitness = std::accumulate(fitness.begin(), fitness.end(), 0.0) / fitness.size();
  if (!champion_ || st.best_fitness > champion_->fitness) champion_ = last_.front();
  if (st.best_fitness > best_ever_) {
    best_ever_ = st.best_fitness;
    best_ever_generation_ = generation_;
  }
  Speciate(fitness);
  std::vector<size_t> rank(genomes_.size());
  for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  const size_t candidate = SolutionCandidate(rank);
  SWARM_ASSIGN_OR_RETURN(bool solved, task_->IsSolution(genomes_[candidate], fitness[candidate]));
  if (solved && !solution_) solution_ = Scored{genomes_[candidate], fitness[candidate]};
  st.solved = solved;

  st.species = species_.size();
  st.compatibility_threshold = threshold_;
  if (cfg_.target_species > 0) {
    // Step grows with the relative miss, so a species explosion is reined in
    // within a few generations rather than dozens.
    const double target = cfg_.target_species, have = static_cast<double>(species_.size());
    const double step = cfg_.threshold_step * std::max(1.0, std::fabs(have - target) / target);
    if (have < target) threshold_ -= step;
    else if (have > target) threshold_ += step;
    threshold_ = std::max(threshold_, cfg_.threshold_min);
  }
  Reproduce(fitness);
  st.evaluations_total = evaluations_;
  st.failed_evaluations_total = failed_;
  ++generation_;
  return st;
}

void Island::Speciate(const std::vector<double>& fitness) {
  for (auto& s : species_) s.members.clear();
  for (size_t i = 0; i < genomes_.size(); ++i) {
    Species* home = nullptr;
    for (auto& s : species_) {
      if (CompatibilityDistance(genomes_[i], s.representative, cfg_) < threshold_) {
        home = &s;
        break;
      }
    }
    if (home == nullptr) {
      species_.push_back({next_species_id_++, genomes_[i], -1e300, generation_, false, {}});
      home = &species_.back();
    }
    home->members.push_back(i);
  }
  std::erase_if(species_, [](const Species& s) { return s.members.empty(); });
  for (auto& s : species_) {
    double best = -1e300;
    for (size_t m : s.members) best = std::max(best, fitness[m]);
    if (best > s.best_fitness) {
      s.best_fitness = best;
      s.last_improved = generation_;
      s.checked = false;
    }
    // Next generation's representative: a random member of this one.
    s.representative = genomes_[s.members[rng_.Uniform(s.members.size())]];
  }
}

size_t Island::SolutionCandidate(const std::vector<size_t>& rank) {
  auto champion_of = [&](const Species& s) {
    size_t best = s.members.front();
    for (size_t m : s.members)
      if (rank[m] < rank[best]) best = m;
    return best;
  };
  size_t top = 0;
  for (size_t i = 1; i < rank.size(); ++i)
    if (rank[i] < rank[top]) top = i;
  if (!cfg_.check_species_in_turn || species_.empty()) return top;
  std::vector<std::pair<size_t, Species*>> ranked;  // (champion, species), best first
  for (auto& s : species_) ranked.push_back({champion_of(s), &s});
  std::sort(ranked.begin(), ranked.end(),
            [&](const auto& a, const auto& b) { return rank[a.first] < rank[b.first]; });
  auto due = std::find_if(ranked.begin(), ranked.end(),
                          [](const auto& e) { return !e.second->checked; });
  if (due == ranked.end()) due = ranked.begin();
  due->second->checked = true;
  return due->first;
}

Genome Island::MakeChild(const Species& s, const std::vector<size_t>& parents,
                         const std::vector<double>& fitness, const std::vector<Species>& all) {
  const size_t a = parents[rng_.Uniform(parents.size())];
  if (parents.size() == 1 || rng_.Bernoulli(cfg_.mutate_only_fraction)) {
    Genome child = genomes_[a];
    Mutate(child, cfg_, rng_);
    return child;
  }
  size_t b;
  if (all.size() > 1 && rng_.Bernoulli(cfg_.interspecies_mating)) {
    const Species& o = all[rng_.Uniform(all.size())];
    b = o.members[rng_.Uniform(o.members.size())];
  } else {
    b = parents[rng_.Uniform(parents.size())];
  }
  const bool a_fitter = fitness[a] >= fitness[b];
  Genome child = Crossover(genomes_[a_fitter ? a : b], genomes_[a_fitter ? b : a], cfg_, rng_);
  if (!rng_.Bernoulli(cfg_.mate_only_prob)) Mutate(child, cfg_, rng_);
  return child;
}

void Island::Reproduce(const std::vector<double>& fitness) {
  const double fmin = *std::min_element(fitness.begin(), fitness.end());
  // Which species may breed.
  std::vector<size_t> by_best(species_.size());
  std::iota(by_best.begin(), by_best.end(), 0);
  std::stable_sort(by_best.begin(), by_best.end(), [&](size_t a, size_t b) {
    return species_[a].best_fitness > species_[b].best_fitness;
  });
  std::vector<char> breeds(species_.size(), 1);
  for (size_t r = 0; r < by_best.size(); ++r) {
    const Species& s = species_[by_best[r]];
    if (r >= cfg_.protected_species &&
        generation_ - s.last_improved >= cfg_.stagnation_generations)
      breeds[by_best[r]] = 0;
  }
  if (std::find(breeds.begin(), breeds.end(), 1) == breeds.end()) breeds[by_best.front()] = 1;
  if (cfg_.population_stagnation_generations > 0 &&
      generation_ - best_ever_generation_ >= cfg_.population_stagnation_generations) {
    for (size_t r = 2; r < by_best.size(); ++r) breeds[by_best[r]] = 0;
    best_ever_generation_ = generation_;  // give the survivors time
    for (auto& s : species_) s.last_improved = generation_;
  }
  // Explicit fitness sharing: a species' share is the sum of its members'
  // fitness divided by its size (fitness shifted so the minimum is 0).
  std::vector<double> share(species_.size(), 0.0);
  double total = 0;
  for (size_t i = 0; i < species_.size(); ++i) {
    if (!breeds[i]) continue;
    double sum = 0;
    for (size_t m : species_[i].members) sum += fitness[m] - fmin;
    share[i] = sum / species_[i].members.size() + 1e-12;
    total += share[i];
  }
  const uint32_t pop = cfg_.population_size;
  std::vector<uint32_t> count(species_.size(), 0);
  std::vector<std::pair<double, size_t>> remainder;
  uint32_t assigned = 0;
  for (size_t i = 0; i < species_.size(); ++i) {
    if (!breeds[i]) continue;
    const double exact = pop * share[i] / total;
    count[i] = static_cast<uint32_t>(std::floor(exact));
    assigned += count[i];
    remainder.push_back({exact - count[i], i});
  }
  std::stable_sort(remainder.begin(), remainder.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t r = 0; assigned < pop; r = (r + 1) % remainder.size(), ++assigned)
    ++count[remainder[r].second];

  std::vector<Genome> next;
  next.reserve(pop);
  std::vector<Genome> offspring;
  for (size_t i = 0; i < species_.size(); ++i) {
    if (count[i] == 0) continue;
    Species& s = species_[i];
    std::vector<size_t> ranked = s.members;
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&](size_t a, size_t b) { return fitness[a] > fitness[b]; });
    uint32_t n = count[i];
    if (ranked.size() >= cfg_.elite_min_species_size) {
      next.push_back(genomes_[ranked.front()]);  // elites go first
      --n;
    }
    const size_t keep = std::max<size_t>(
        1, static_cast<size_t>(std::ceil(cfg_.survival_fraction * ranked.size())));
    ranked.resize(std::min(keep, ranked.size()));
    for (uint32_t k = 0; k < n; ++k) offspring.push_back(MakeChild(s, ranked, fitness, species_));
  }
  for (auto& g : offspring) next.push_back(std::move(g));
  SWARM_ASSERT(next.size() == pop);
  genomes_ = std::move(next);
}

Status Island::Immigrate(const std::vector<Genome>& migrants) {
  const size_t limit = genomes_.size() / 2;
  size_t placed = 0;
  for (size_t i = 0; i < migrants.size() && placed < limit; ++i) {
    const Genome& g = migrants[i];
    if (g.inputs != task_->inputs() || g.outputs != task_->outputs() ||
        (g.feed_forward != cfg_.feed_forward && cfg_.feed_forward)) {
      return absl::InvalidArgumentError(absl::StrCat("migrant ", i, " has shape ", g.inputs, "x",
                                                     g.outputs, ", island needs ",
                                                     task_->inputs(), "x", task_->outputs()));
    }
    Status v = ValidateGenome(g, cfg_.weight_abs_max);
    if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("migrant ", i, ": ", v.message()));
    Genome& slot = genomes_[genomes_.size() - 1 - placed];
    slot = g;
    slot.feed_forward = cfg_.feed_forward;  // a feed-forward migrant may grow recurrent links here
    ++placed;
  }
  return absl::OkStatus();
}

IslandState Island::Save() const {
  IslandState s;
  s.generation = generation_;
  s.evaluations = evaluations_;
  s.failed = failed_;
  s.threshold = threshold_;
  s.best_ever = best_ever_;
  s.best_ever_generation = best_ever_generation_;
  s.next_species_id = next_species_id_;
  s.genomes = genomes_;
  for (const auto& sp : species_)
    s.species.push_back({sp.id, sp.representative, sp.best_fitness, sp.last_improved});
  s.champion = champion_;
  s.solution = solution_;
  return s;
}

Status Island::CheckGenome(const Genome& g, const std::string& what) const {
  if (g.inputs != task_->inputs() || g.outputs != task_->outputs()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has shape ", g.inputs, "x", g.outputs,
                                                   ", task '", task_->name(), "' needs ",
                                                   task_->inputs(), "x", task_->outputs()));
  }
  Status v = ValidateGenome(g, cfg_.weight_abs_max);
  if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", v.message()));
  return absl::OkStatus();
}

Status Island::Load(IslandState s) {
  if (s.genomes.size() != cfg_.population_size) {
    return absl::InvalidArgumentError(absl::StrCat("island state has ", s.genomes.size(),
                                                   " genomes, population_size is ",
                                                   cfg_.population_size));
  }
  if (!std::isfinite(s.threshold) || s.threshold <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("island state threshold = ", s.threshold));
  }
  for (size_t i = 0; i < s.genomes.size(); ++i)
    SWARM_RETURN_IF_ERROR(CheckGenome(s.genomes[i], absl::StrCat("genome ", i)));
  for (size_t i = 0; i < s.species.size(); ++i)
    SWARM_RETURN_IF_ERROR(CheckGenome(s.species[i].representative, absl::StrCat("species ", i)));
  if (s.champion) SWARM_RETURN_IF_ERROR(CheckGenome(s.champion->genome, "champion"));
  if (s.solution) SWARM_RETURN_IF_ERROR(CheckGenome(s.solution->genome, "solution"));
  generation_ = s.generation;
  evaluations_ = s.evaluations;
  failed_ = s.failed;
  threshold_ = s.threshold;
  best_ever_ = s.best_ever;
  best_ever_generation_ = s.best_ever_generation;
  next_species_id_ = s.next_species_id;
  genomes_ = std::move(s.genomes);
  for (auto& g : genomes_) g.feed_forward = cfg_.feed_forward;
  species_.clear();
  for (auto& sp : s.species)
    species_.push_back({sp.id, std::move(sp.representative), sp.best_fitness, sp.last_improved, false, {}});
  champion_ = std::move(s.champion);
  solution_ = std::move(s.solution);
  last_.clear();
  rng_ = Rng(seed_ ^ (0x9e3779b97f4a7c15ULL * (generation_ + 1)));
  return absl::OkStatus();
}

std::vector<Scored> Island::Best(size_t k) const {
  return std::vector<Scored>(last_.begin(), last_.begin() + std::min(k, last_.size()));
}

}  // namespace swarm::evo
