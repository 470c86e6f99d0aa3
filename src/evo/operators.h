// NEAT variation operators and the compatibility distance. Pure functions of
// their arguments and the Rng, so a seed reproduces a run exactly.
#pragma once

#include "common/rng.h"
#include "evo/genome.h"
#include "evo/neat_config.h"

namespace swarm::evo {

// A minimal, fully connected genome with uniform random weights.
Genome RandomInitialGenome(uint32_t inputs, uint32_t outputs, const NeatConfig& cfg, Rng& rng);

void MutateWeights(Genome& g, const NeatConfig& cfg, Rng& rng);
// Splits a random enabled link a->b into a->n (weight 1) and n->b (old weight);
// the old link is disabled. Returns false when nothing was changed.
bool MutateAddNode(Genome& g, const NeatConfig& cfg, Rng& rng);
// Links two unlinked nodes (no cycle in a feed-forward genome). Returns false
// when no candidate was found within cfg.add_connection_tries.
bool MutateAddConnection(Genome& g, const NeatConfig& cfg, Rng& rng);
// Flips the enabled bit of a random link (re-enabling never creates a cycle:
// feed-forward genomes are kept acyclic over disabled links too).
bool MutateToggleEnable(Genome& g, Rng& rng);
// Applies every mutation with its configured probability.
void Mutate(Genome& g, const NeatConfig& cfg, Rng& rng);

// Child of two parents aligned by innovation: matching genes from either at
// random, non-matching genes from `fitter` only (so the child has the fitter
// parent's structure). Disabled in either parent -> disabled with
// cfg.disabled_inherit_prob.
Genome Crossover(const Genome& fitter, const Genome& other, const NeatConfig& cfg, Rng& rng);

// delta = (c1 + c2) / 2 * nonmatching / N + c3 * mean |w_a - w_b| over matching genes.
double CompatibilityDistance(const Genome& a, const Genome& b, const NeatConfig& cfg);

}  // namespace swarm::evo
