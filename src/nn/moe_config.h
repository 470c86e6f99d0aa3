// Configuration of the MoE classifier and its data, as plain values (no torch),
// read from TOML through common/config.h.
//
//   [model]  input_dim (0 = from data), d_model, num_classes (0 = from data)
//   [moe]    num_experts, top_k, k_min, expert_hidden, expert_layers, groups
//            (> 1 = hierarchical gating), noisy_gating, capacity_factor
//            (0 = unlimited), aux_loss_weight, normalize_topk
//   [data]   path, header, test_fraction, split_seed, standardize
//
// AddMoeConfigKeys adds these keys to a schema (so `swarm train` can compose
// one schema with the train/ keys); MoeConfigFromConfig reads them back and
// checks cross-field rules (top_k <= num_experts, groups divides num_experts,
// k_min <= num_experts), naming the keys on error.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace swarm::nn {

struct MoeConfig {
  int64_t input_dim = 0;
  int64_t d_model = 64;
  int64_t num_classes = 0;
  int64_t num_experts = 8;
  int64_t top_k = 2;
  int64_t k_min = 1;            // at least this many experts must answer a batch
  int64_t expert_hidden = 64;
  int64_t expert_layers = 1;    // hidden layers per expert FFN
  int64_t groups = 1;           // > 1: group gate, then expert gate within the group
  bool noisy_gating = false;
  double capacity_factor = 0;   // capacity = ceil(cf * tokens * top_k / experts); 0 = none
  double aux_loss_weight = 0.01;
  bool normalize_topk = true;   // renormalize the k chosen gate values to sum to 1
  // Checks the cross-field rules above.
  Status Validate() const;
};

struct DataConfig {
  std::string path = "data/digits.csv.gz";
  bool header = false;
  double test_fraction = 0.2;
  int64_t split_seed = 42;
  bool standardize = true;
};

void AddMoeConfigKeys(ConfigSchema& schema);
StatusOr<MoeConfig> MoeConfigFromConfig(const Config& config);
DataConfig DataConfigFromConfig(const Config& config);

}  // namespace swarm::nn
