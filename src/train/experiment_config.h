// Configuration of a data-parallel training run with Byzantine trainers:
// plain values (no torch), TOML keys under [train], [aggregator], [attack].
// AddTrainConfigKeys + nn::AddMoeConfigKeys give `swarm train` one schema;
// ExperimentConfigFromConfig reads both and checks cross-field rules
// (byzantine < trainers, aggregator/attack names, compression options),
// naming the key and listing valid values on error.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "nn/dataset.h"
#include "nn/moe_config.h"
#include "train/aggregator.h"
#include "train/attack.h"

namespace swarm::train {

struct ExperimentConfig {
  nn::MoeConfig model;
  int trainers = 4;
  int byzantine = 0;             // the first `byzantine` trainers attack
  AggregatorSpec aggregator;     // .byzantine is replaced by `byzantine`
  AttackSpec attack;             // .trainers/.byzantine replaced by the above
  int steps = 300;
  int batch_size = 32;           // per trainer
  double lr = 0.1;
  std::string optimizer = "sgd"; // "sgd" or "adam" (applied to the aggregate)
  double worker_momentum = 0.9;  // beta; 0 = raw gradients
  std::string compression = "none";  // "none", "topk", "int8"
  double topk_fraction = 0.1;
  uint64_t seed = 1;
  int eval_every = 0;            // steps between test evaluations (0 = end only)
  int retries_max = 3;           // per batch, when too few experts answer
  Status Validate() const;
  // The specs with byzantine/trainers taken from this config.
  AggregatorSpec EffectiveAggregator() const;
  AttackSpec EffectiveAttack() const;
};

void AddTrainConfigKeys(ConfigSchema& schema);
// Loads data per `data`: CSV, seeded split, standardization fitted on train.
StatusOr<nn::TrainTestSplit> LoadExperimentData(const nn::DataConfig& data);

// Needs a schema with both AddTrainConfigKeys and nn::AddMoeConfigKeys.
StatusOr<ExperimentConfig> ExperimentConfigFromConfig(const Config& config);

}  // namespace swarm::train
