#include "train/experiment_config.h"

#include <cmath>

#include "absl/strings/str_join.h"

namespace swarm::train {

Status ExperimentConfig::Validate() const {
  auto bad = [](const std::string& key, auto v, const std::string& rule) {
    return absl::InvalidArgumentError(absl::StrCat("key '", key, "' = ", v, " ", rule));
  };
  SWARM_RETURN_IF_ERROR(model.Validate());
  if (trainers < 1) return bad("train.trainers", trainers, "must be >= 1");
  if (byzantine < 0 || byzantine >= trainers) {
    return bad("train.byzantine", byzantine, absl::StrCat("must be in [0, train.trainers = ", trainers, ")"));
  }
  if (steps < 1) return bad("train.steps", steps, "must be >= 1");
  if (batch_size < 1) return bad("train.batch_size", batch_size, "must be >= 1");
  if (!(lr > 0) || !std::isfinite(lr)) return bad("train.lr", lr, "must be > 0");
  if (optimizer != "sgd" && optimizer != "adam") {
    return bad("train.optimizer", "\"" + optimizer + "\"", "is unknown; valid: sgd, adam");
  }
  if (!(worker_momentum >= 0 && worker_momentum < 1)) {
    return bad("train.worker_momentum", worker_momentum, "must be in [0, 1)");
  }
  if (compression != "none" && compression != "topk" && compression != "int8") {
    return bad("train.compression", "\"" + compression + "\"", "is unknown; valid: none, topk, int8");
  }
  if (!(topk_fraction > 0 && topk_fraction <= 1)) {
    return bad("train.topk_fraction", topk_fraction, "must be in (0, 1]");
  }
  if (retries_max < 0) return bad("train.retries_max", retries_max, "must be >= 0");
  // Names and options of the aggregator and attack are checked by their factories.
  SWARM_RETURN_IF_ERROR(MakeAggregator(EffectiveAggregator()).status());
  SWARM_RETURN_IF_ERROR(MakeAttack(EffectiveAttack()).status());
  return absl::OkStatus();
}

AggregatorSpec ExperimentConfig::EffectiveAggregator() const {
  AggregatorSpec a = aggregator;
  a.byzantine = byzantine;
  return a;
}

AttackSpec ExperimentConfig::EffectiveAttack() const {
  AttackSpec a = attack;
  a.trainers = trainers;
  a.byzantine = byzantine;
  return a;
}

StatusOr<nn::TrainTestSplit> LoadExperimentData(const nn::DataConfig& data) {
  nn::CsvOptions opts;
  opts.header = data.header;
  SWARM_ASSIGN_OR_RETURN(nn::Dataset all, nn::LoadCsv(data.path, opts));
  SWARM_ASSIGN_OR_RETURN(nn::TrainTestSplit split,
                         nn::SplitTrainTest(all, data.test_fraction,
                                            static_cast<uint64_t>(data.split_seed)));
  if (data.standardize) {
    const nn::Standardizer st = nn::Standardizer::Fit(split.train);
    SWARM_RETURN_IF_ERROR(st.Apply(split.train));
    SWARM_RETURN_IF_ERROR(st.Apply(split.test));
  }
  return split;
}

void AddTrainConfigKeys(ConfigSchema& s) {
  s.Int("train.trainers", 4, 1, 1024, "trainer peers (n)")
      .Int("train.byzantine", 0, 0, 1023, "Byzantine trainers among them (f)")
      .Int("train.steps", 300, 1, 100'000'000, "optimizer steps (rounds)")
      .Int("train.batch_size", 32, 1, 1 << 20, "minibatch per trainer per step")
      .Double("train.lr", 0.1, 1e-9, 100.0, "learning rate of the step on the aggregate")
      .String("train.optimizer", "sgd", {"sgd", "adam"}, "optimizer applied to the aggregate")
      .Double("train.worker_momentum", 0.9, 0.0, 0.999, "beta of each trainer's momentum")
      .String("train.compression", "none", {"none", "topk", "int8"}, "contribution compression")
      .Double("train.topk_fraction", 0.1, 1e-6, 1.0, "share of coordinates top-k keeps")
      .Int("train.seed", 1, 0, INT64_MAX, "seed of initialization, batches and attacks")
      .Int("train.eval_every", 0, 0, 100'000'000, "steps between test evaluations; 0 = end")
      .Int("train.retries_max", 3, 0, 100, "retries of a batch when too few experts answer")
      .String("aggregator.name", "mean", AggregatorNames(), "robust aggregation rule")
      .Int("aggregator.trim", -1, -1, 1 << 20, "trimmed_mean: dropped per side; -1 = byzantine")
      .Int("aggregator.krum_select", -1, -1, 1 << 20, "multi_krum: m averaged; -1 = n - f")
      .Double("aggregator.clip_tau", 0.0, 0.0, 1e12, "centered_clip radius; 0 = auto")
      .Int("aggregator.clip_iterations", 3, 1, 100, "centered_clip iterations")
      .String("aggregator.clip_start", "median", {"median", "previous"}, "centered_clip start")
      .Int("aggregator.bucket_size", 1, 1, 1024, "> 1: bucketing in front of the rule")
      .String("attack.name", "none", AttackNames(), "what the Byzantine trainers do")
      .Double("attack.sign_flip_scale", 1.0, 0.0, 1e6, "sign_flip: -scale * own")
      .Double("attack.noise_std", 1.0, 0.0, 1e6, "noise: std of the added Gaussian")
      .Double("attack.alie_z", -1.0, -1.0, 100.0, "alie: z; -1 = the paper's formula for n, f")
      .Double("attack.ipm_epsilon", 0.1, 0.0, 1e6, "ipm: -epsilon * honest mean");
}

StatusOr<ExperimentConfig> ExperimentConfigFromConfig(const Config& c) {
  ExperimentConfig e;
  SWARM_ASSIGN_OR_RETURN(e.model, nn::MoeConfigFromConfig(c));
  e.trainers = static_cast<int>(c.GetInt("train.trainers"));
  e.byzantine = static_cast<int>(c.GetInt("train.byzantine"));
  e.steps = static_cast<int>(c.GetInt("train.steps"));
  e.batch_size = static_cast<int>(c.GetInt("train.batch_size"));
  e.lr = c.GetDouble("train.lr");
  e.optimizer = c.GetString("train.optimizer");
  e.worker_momentum = c.GetDouble("train.worker_momentum");
  e.compression = c.GetString("train.compression");
  e.topk_fraction = c.GetDouble("train.topk_fraction");
  e.seed = static_cast<uint64_t>(c.GetInt("train.seed"));
  e.eval_every = static_cast<int>(c.GetInt("train.eval_every"));
  e.retries_max = static_cast<int>(c.GetInt("train.retries_max"));
  e.aggregator.name = c.GetString("aggregator.name");
  e.aggregator.byzantine = e.byzantine;
  e.aggregator.trim = static_cast<int>(c.GetInt("aggregator.trim"));
  e.aggregator.krum_select = static_cast<int>(c.GetInt("aggregator.krum_select"));
  e.aggregator.clip_tau = c.GetDouble("aggregator.clip_tau");
  e.aggregator.clip_iterations = static_cast<int>(c.GetInt("aggregator.clip_iterations"));
  e.aggregator.clip_start = c.GetString("aggregator.clip_start");
  e.aggregator.bucket_size = static_cast<int>(c.GetInt("aggregator.bucket_size"));
  e.aggregator.seed = e.seed;
  e.attack.name = c.GetString("attack.name");
  e.attack.trainers = e.trainers;
  e.attack.byzantine = e.byzantine;
  e.attack.sign_flip_scale = c.GetDouble("attack.sign_flip_scale");
  e.attack.noise_std = c.GetDouble("attack.noise_std");
  const double z = c.GetDouble("attack.alie_z");
  e.attack.alie_z = z < 0 ? NAN : z;
  e.attack.ipm_epsilon = c.GetDouble("attack.ipm_epsilon");
  SWARM_RETURN_IF_ERROR(e.Validate());
  return e;
}

}  // namespace swarm::train
