#include "nn/moe_config.h"

namespace swarm::nn {

Status MoeConfig::Validate() const {
  auto bad = [](const std::string& key, auto v, const std::string& rule) {
    return absl::InvalidArgumentError(absl::StrCat("key '", key, "' = ", v, " ", rule));
  };
  if (d_model < 1) return bad("model.d_model", d_model, "must be >= 1");
  if (num_experts < 1) return bad("moe.num_experts", num_experts, "must be >= 1");
  if (top_k < 1 || top_k > 2 || top_k > num_experts) {
    return bad("moe.top_k", top_k, absl::StrCat("must be 1 or 2 and <= moe.num_experts = ", num_experts));
  }
  if (k_min < 1 || k_min > num_experts) {
    return bad("moe.k_min", k_min, absl::StrCat("must be in [1, moe.num_experts = ", num_experts, "]"));
  }
  if (groups < 1 || num_experts % groups != 0) {
    return bad("moe.groups", groups,
               absl::StrCat("must be >= 1 and divide moe.num_experts = ", num_experts));
  }
  if (expert_hidden < 1) return bad("moe.expert_hidden", expert_hidden, "must be >= 1");
  if (expert_layers < 1) return bad("moe.expert_layers", expert_layers, "must be >= 1");
  if (capacity_factor < 0) return bad("moe.capacity_factor", capacity_factor, "must be >= 0");
  if (aux_loss_weight < 0) return bad("moe.aux_loss_weight", aux_loss_weight, "must be >= 0");
  return absl::OkStatus();
}

void AddMoeConfigKeys(ConfigSchema& s) {
  s.Int("model.input_dim", 0, 0, 1 << 20, "input features; 0 = from the data")
      .Int("model.d_model", 64, 1, 1 << 16, "width of the token representation")
      .Int("model.num_classes", 0, 0, 1 << 20, "output classes; 0 = from the data")
      .Int("moe.num_experts", 8, 1, 4096, "experts in the MoE layer")
      .Int("moe.top_k", 2, 1, 2, "experts per token (1 = Switch, 2 = GShard)")
      .Int("moe.k_min", 1, 1, 4096, "experts that must answer a batch, else it is retried")
      .Int("moe.expert_hidden", 64, 1, 1 << 16, "hidden width of each expert FFN")
      .Int("moe.expert_layers", 1, 1, 8, "hidden layers per expert FFN")
      .Int("moe.groups", 1, 1, 4096, "> 1: hierarchical gating (group gate, then expert gate)")
      .Bool("moe.noisy_gating", false, "add learned Gaussian noise to gate logits in training")
      .Double("moe.capacity_factor", 0.0, 0.0, 64.0,
              "expert capacity = ceil(cf * tokens * top_k / experts); 0 = unlimited")
      .Double("moe.aux_loss_weight", 0.01, 0.0, 100.0, "weight of the load-balancing loss")
      .Bool("moe.normalize_topk", true, "renormalize the chosen gate values to sum to 1")
      .String("data.path", "data/digits.csv.gz", {}, "CSV (or .csv.gz): features..., label")
      .Bool("data.header", false, "skip the first line of the CSV")
      .Double("data.test_fraction", 0.2, 0.01, 0.99, "fraction of rows held out for test")
      .Int("data.split_seed", 42, 0, INT64_MAX, "seed of the train/test split")
      .Bool("data.standardize", true, "standardize features with train-set mean/std");
}

StatusOr<MoeConfig> MoeConfigFromConfig(const Config& c) {
  MoeConfig m;
  m.input_dim = c.GetInt("model.input_dim");
  m.d_model = c.GetInt("model.d_model");
  m.num_classes = c.GetInt("model.num_classes");
  m.num_experts = c.GetInt("moe.num_experts");
  m.top_k = c.GetInt("moe.top_k");
  m.k_min = c.GetInt("moe.k_min");
  m.expert_hidden = c.GetInt("moe.expert_hidden");
  m.expert_layers = c.GetInt("moe.expert_layers");
  m.groups = c.GetInt("moe.groups");
  m.noisy_gating = c.GetBool("moe.noisy_gating");
  m.capacity_factor = c.GetDouble("moe.capacity_factor");
  m.aux_loss_weight = c.GetDouble("moe.aux_loss_weight");
  m.normalize_topk = c.GetBool("moe.normalize_topk");
  SWARM_RETURN_IF_ERROR(m.Validate());
  return m;
}

DataConfig DataConfigFromConfig(const Config& c) {
  DataConfig d;
  d.path = c.GetString("data.path");
  d.header = c.GetBool("data.header");
  d.test_fraction = c.GetDouble("data.test_fraction");
  d.split_seed = c.GetInt("data.split_seed");
  d.standardize = c.GetBool("data.standardize");
  return d;
}

}  // namespace swarm::nn
