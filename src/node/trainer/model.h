// The local half of one trainer peer (LibTorch): the MoE classifier, the
// peer's data shard, its optimizer and worker momentum, and checkpoints.
// node/trainer/extension.cpp drives it; the round protocol lives in
// train/trainer_peer.h (and train/averaging_round.h).
//
// Every trainer of a job builds the same model from train.seed (so they start
// equal) and takes shard `index` of the seeded n-way partition of the train
// rows, as train/experiment.cpp does in-process. The averaged vector is the
// gradient of averaged_parameters(): the shared (non-expert) parameters, plus
// the local experts' when experts are local; remote experts are trained by
// their hosts from the Backward calls.
//
// Not thread-safe: one training thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/rng.h"
#include "common/status.h"
#include "nn/expert.h"
#include "nn/moe_model.h"
#include "train/experiment_config.h"
#include "train/momentum.h"

namespace swarm::node {

struct TrainerStepResult {
  double loss = 0;
  std::vector<float> momentum;   // what an honest trainer sends
  int64_t batches_retried = 0;
  int64_t experts_failed = 0;    // expert calls that failed this step
};

class TrainerModel {
 public:
  // experts: nullptr → local FfnExperts; else one backend per expert.
  static StatusOr<std::unique_ptr<TrainerModel>> Create(
      const train::ExperimentConfig& cfg, const nn::TrainTestSplit& data, int index, int trainers,
      bool poison_labels, std::vector<std::shared_ptr<nn::ExpertBackend>> experts);

  size_t dim() const { return dim_; }
  int64_t step() const { return step_; }
  // Forward/backward on the next minibatch of the shard; updates the momentum.
  StatusOr<TrainerStepResult> ComputeStep();
  // Writes `aggregate` into the averaged parameters' grads and steps the
  // optimizer; step() advances.
  Status Apply(const std::vector<float>& aggregate);
  // A round that failed: the step is skipped, step() advances.
  void SkipStep() { ++step_; }
  StatusOr<double> TestAccuracy();

  // Checkpoint: parameters (all), optimizer state, momentum, step. Written to
  // a durable atomic write (common/file.h). Load fails with NotFound when `path` is absent and
  // InvalidArgument when it does not match this model.
  Status Save(const std::string& path);
  Status Load(const std::string& path);

 private:
  TrainerModel(const train::ExperimentConfig& cfg) : cfg_(cfg), model_(nullptr), rng_(1) {}
  torch::Tensor NextBatch();

  train::ExperimentConfig cfg_;
  nn::MoeClassifier model_;
  std::vector<torch::Tensor> averaged_;  // parameters whose gradient is averaged
  std::unique_ptr<torch::optim::Optimizer> opt_;
  nn::DatasetTensors train_, test_;
  std::vector<int64_t> shard_;
  size_t cursor_ = 0;
  Rng rng_;
  std::unique_ptr<train::WorkerMomentum> momentum_;
  bool poison_labels_ = false;
  size_t dim_ = 0;
  int64_t step_ = 0;  // optimizer steps taken (= rounds done)
  std::vector<float> grad_;
};

}  // namespace swarm::node
