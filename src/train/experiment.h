// In-process data-parallel training of the MoE classifier by n simulated
// trainers, f of them Byzantine, through a robust aggregator. Torch-free
// header (the implementation uses LibTorch), so a CLI can call it cheaply.
//
// Each step, every trainer draws a minibatch from its own shard of the train
// set (shards are a seeded partition), computes the gradient of ALL model
// parameters (shared and expert: in this in-process version the experts are
// local), folds it into its worker momentum, optionally compresses it; the
// Byzantine trainers (indices 0..f-1) replace theirs with the attack's vector
// (label_flip trains them on flipped labels instead). The aggregate is written
// into the parameters' .grad and one optimizer step is taken. A batch whose
// MoE forward fails (too few experts answered) is retried up to retries_max.
// If every contribution of a round is NaN/Inf (the model diverged, e.g. under
// an attack on the mean), the run stops early with `diverged` set and the
// test accuracy of the parameters as they are.
//
// Deterministic for a given config (single-threaded torch recommended:
// torch::set_num_threads(1)). Several experiments may run concurrently on
// different threads (initialization is serialized under a lock); with
// moe.noisy_gating the gate noise comes from torch's global generator, so
// concurrent noisy runs are not bit-reproducible.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/status.h"
#include "nn/dataset.h"
#include "train/experiment_config.h"

namespace swarm::train {

struct ProgressPoint {
  int step = 0;
  double train_loss = 0;       // mean over honest trainers' batches this step
  double test_accuracy = -1;   // -1 when not evaluated at this step
  size_t aggregation_used = 0; // contributions the aggregator used
};

struct ExperimentResult {
  double test_accuracy = 0;
  double final_train_loss = 0;
  int steps = 0;                        // steps run (< config steps if diverged)
  bool diverged = false;                // every contribution became NaN/Inf
  int64_t batches_retried = 0;
  int64_t contributions_excluded = 0;   // non-finite, over all steps
  int64_t tokens_dropped = 0;           // over capacity, over all steps
  size_t parameters = 0;
  std::vector<ProgressPoint> history;   // every eval_every steps and the last
};

using ProgressFn = std::function<void(const ProgressPoint&)>;

// `train` and `test` are already standardized; dims resolved from `train`.
StatusOr<ExperimentResult> RunExperiment(const ExperimentConfig& config, const nn::Dataset& train,
                                         const nn::Dataset& test, const ProgressFn& progress = {});

}  // namespace swarm::train
