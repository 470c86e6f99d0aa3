// The [evo] extension: this peer serves EvoEvaluator (node/evo/service.h) so
// that `swarm evolve` coordinators can send it NEAT genomes to evaluate.
//
// Keys (all under [evo]; `swarm node --print-config` lists them):
//   evaluator          false   serve evaluations at all
//   capacity           1       evaluations run at once (worker threads)
//   tasks              [all built-in]  task names offered
//   batch_genomes_max  256     genomes per request
//   latency_ms         0       simulated extra latency per request (benchmarks)
//   lie                false   TEST ONLY: Byzantine evaluator reporting wrong fitness
// Metrics: swarm_evo_evaluations_total, swarm_evo_evaluation_failures_total.
// Status JSON "evo": {evaluator, capacity, tasks, requests, evaluations, ...}.
// Thread-safety: as node/extension.h requires.
#pragma once

#include "node/extension.h"

namespace swarm::node {

ExtensionFactory EvoExtensionFactory();

}  // namespace swarm::node
