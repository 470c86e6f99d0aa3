#include "evo/operators.h"

#include <algorithm>
#include <cmath>

namespace swarm::evo {
namespace {

double Clamp(double w, double m) { return std::max(-m, std::min(m, w)); }

}  // namespace

Genome RandomInitialGenome(uint32_t inputs, uint32_t outputs, const NeatConfig& cfg, Rng& rng) {
  Genome g = MinimalGenome(inputs, outputs, cfg.feed_forward, /*connect=*/true);
  for (auto& c : g.connections)
    c.weight = rng.UniformDouble(-cfg.initial_weight_range, cfg.initial_weight_range);
  return g;
}

void MutateWeights(Genome& g, const NeatConfig& cfg, Rng& rng) {
  if (cfg.weight_uniform_power > 0) {
    const double power = cfg.weight_uniform_power;
    const bool severe = rng.Bernoulli(0.5);
    for (auto& c : g.connections) {
      if (cfg.weight_link_prob < 1.0 && !rng.Bernoulli(cfg.weight_link_prob)) continue;
      const double step = rng.UniformDouble(-power, power);
      const double u = severe ? rng.UniformDouble() : 1.0;
      if (u > 0.3) c.weight = Clamp(c.weight + step, cfg.weight_abs_max);  // p 0.7 when severe
      else if (u > 0.1) c.weight = step;                                  // p 0.2: replaced
    }
    return;
  }
  for (auto& c : g.connections) {
    if (cfg.weight_link_prob < 1.0 && !rng.Bernoulli(cfg.weight_link_prob)) continue;
    if (rng.Bernoulli(cfg.weight_perturb_prob)) {
      c.weight = Clamp(c.weight + rng.Normal(0.0, cfg.weight_perturb_sigma), cfg.weight_abs_max);
    } else {
      c.weight = rng.UniformDouble(-cfg.weight_replace_range, cfg.weight_replace_range);
    }
  }
}

bool MutateAddNode(Genome& g, const NeatConfig& cfg, Rng& rng) {
  if (g.nodes.size() >= cfg.genome_nodes_max ||
      g.connections.size() + 2 > cfg.genome_connections_max)
    return false;
  std::vector<size_t> enabled;
  for (size_t i = 0; i < g.connections.size(); ++i)
    if (g.connections[i].enabled) enabled.push_back(i);
  if (enabled.empty()) return false;
  ConnGene old = g.connections[enabled[rng.Uniform(enabled.size())]];
  uint32_t k = 0;
  NodeId id = SplitNodeId(old.innovation, k);
  // The new node's links must be new too; with a re-split link the node id
  // differs, so both links are fresh.
  while (g.HasNode(id)) id = SplitNodeId(old.innovation, ++k);
  g.FindConnection(old.innovation)->enabled = false;
  g.InsertNode({id, NodeKind::kHidden});
  g.InsertConnection({ConnectionInnovation(old.in, id), old.in, id, 1.0, true});
  g.InsertConnection({ConnectionInnovation(id, old.out), id, old.out, old.weight, true});
  return true;
}

bool MutateAddConnection(Genome& g, const NeatConfig& cfg, Rng& rng) {
  if (g.connections.size() >= cfg.genome_connections_max) return false;
  const size_t n = g.nodes.size();
  const size_t first_target = 1 + g.inputs;  // outputs and hidden may receive links
  for (uint32_t t = 0; t < cfg.add_connection_tries; ++t) {
    const NodeGene& a = g.nodes[rng.Uniform(n)];
    const NodeGene& b = g.nodes[first_target + rng.Uniform(n - first_target)];
    if (g.feed_forward) {
      if (a.id == b.id || a.kind == NodeKind::kOutput) continue;
    }
    const Innovation innov = ConnectionInnovation(a.id, b.id);
    if (g.FindConnection(innov) != nullptr) continue;
    if (g.feed_forward && g.HasPath(b.id, a.id)) continue;
    g.InsertConnection({innov, a.id, b.id,
                        rng.UniformDouble(-cfg.weight_replace_range, cfg.weight_replace_range),
                        true});
    return true;
  }
  return false;
}

bool MutateToggleEnable(Genome& g, Rng& rng) {
  if (g.connections.empty()) return false;
  auto& c = g.connections[rng.Uniform(g.connections.size())];
  c.enabled = !c.enabled;
  return true;
}

void Mutate(Genome& g, const NeatConfig& cfg, Rng& rng) {
  if (cfg.exclusive_mutations) {
    if (rng.Bernoulli(cfg.add_node_prob)) {
      MutateAddNode(g, cfg, rng);
    } else if (rng.Bernoulli(cfg.add_connection_prob)) {
      MutateAddConnection(g, cfg, rng);
    } else {
      if (rng.Bernoulli(cfg.weight_mutate_prob)) MutateWeights(g, cfg, rng);
      if (rng.Bernoulli(cfg.toggle_enable_prob)) MutateToggleEnable(g, rng);
    }
    return;
  }
  if (rng.Bernoulli(cfg.add_node_prob)) MutateAddNode(g, cfg, rng);
  if (rng.Bernoulli(cfg.add_connection_prob)) MutateAddConnection(g, cfg, rng);
  if (rng.Bernoulli(cfg.weight_mutate_prob)) MutateWeights(g, cfg, rng);
  if (rng.Bernoulli(cfg.toggle_enable_prob)) MutateToggleEnable(g, rng);
}

Genome Crossover(const Genome& fitter, const Genome& other, const NeatConfig& cfg, Rng& rng) {
  Genome child = fitter;  // nodes and non-matching genes of the fitter parent
  const bool average = cfg.crossover_average_prob > 0 && rng.Bernoulli(cfg.crossover_average_prob);
  for (auto& c : child.connections) {
    const ConnGene* o = other.FindConnection(c.innovation);
    if (o == nullptr) continue;
    if (average) c.weight = 0.5 * (c.weight + o->weight);
    else if (rng.Bernoulli(0.5)) c.weight = o->weight;
    if (!c.enabled || !o->enabled) c.enabled = !rng.Bernoulli(cfg.disabled_inherit_prob);
  }
  return child;
}

double CompatibilityDistance(const Genome& a, const Genome& b, const NeatConfig& cfg) {
  size_t i = 0, j = 0, matching = 0, nonmatching = 0;
  double wdiff = 0;
  const auto& ca = a.connections;
  const auto& cb = b.connections;
  while (i < ca.size() && j < cb.size()) {
    if (ca[i].innovation == cb[j].innovation) {
      wdiff += std::fabs(ca[i].weight - cb[j].weight);
      ++matching, ++i, ++j;
    } else if (ca[i].innovation < cb[j].innovation) {
      ++nonmatching, ++i;
    } else {
      ++nonmatching, ++j;
    }
  }
  nonmatching += (ca.size() - i) + (cb.size() - j);
  const size_t larger = std::max(ca.size(), cb.size());
  const double norm = larger < cfg.normalize_min_genes ? 1.0 : static_cast<double>(larger);
  const double w = matching > 0 ? wdiff / static_cast<double>(matching) : 0.0;
  return (cfg.c1_excess + cfg.c2_disjoint) * 0.5 * static_cast<double>(nonmatching) / norm +
         cfg.c3_weight * w;
}

}  // namespace swarm::evo
