#include "train/experiment.h"

#include <torch/torch.h>

#include <cstring>
#include <mutex>
#include <optional>

#include "common/rng.h"
#include "nn/moe_model.h"
#include "train/attack.h"
#include "train/compression.h"
#include "train/momentum.h"

namespace swarm::train {
namespace {

size_t TotalNumel(const std::vector<torch::Tensor>& params) {
  size_t n = 0;
  for (const auto& p : params) n += static_cast<size_t>(p.numel());
  return n;
}

void FlattenGrads(const std::vector<torch::Tensor>& params, std::vector<float>& out) {
  size_t off = 0;
  for (const auto& p : params) {
    const auto n = static_cast<size_t>(p.numel());
    if (p.grad().defined()) {
      const torch::Tensor g = p.grad().contiguous();
      std::memcpy(out.data() + off, g.data_ptr<float>(), n * sizeof(float));
    } else {
      std::memset(out.data() + off, 0, n * sizeof(float));
    }
    off += n;
  }
}

void WriteGrads(const std::vector<torch::Tensor>& params, const std::vector<float>& flat) {
  size_t off = 0;
  for (const auto& p : params) {
    const auto n = static_cast<size_t>(p.numel());
    torch::Tensor g = torch::from_blob(const_cast<float*>(flat.data() + off), p.sizes(), torch::kFloat32)
                          .clone();
    p.mutable_grad() = g;
    off += n;
  }
}

struct Trainer {
  std::vector<int64_t> shard;  // row indices into the train set
  size_t cursor = 0;
  Rng rng{1};
  std::optional<WorkerMomentum> momentum;
  std::optional<TopKCompressor> topk;
  std::vector<float> grad, sent;
};

// Next minibatch of the trainer's shard (reshuffled every pass).
torch::Tensor NextBatch(Trainer& t, int batch) {
  std::vector<int64_t> idx;
  idx.reserve(static_cast<size_t>(batch));
  for (int i = 0; i < batch; ++i) {
    if (t.cursor == 0) t.rng.Shuffle(t.shard);
    idx.push_back(t.shard[t.cursor]);
    t.cursor = (t.cursor + 1) % t.shard.size();
  }
  return torch::tensor(idx, torch::kInt64);
}

Status Compress(const std::string& kind, Trainer& t, std::vector<float>& v) {
  if (kind == "topk") {
    const SparseVector s = t.topk->Compress(v);
    std::fill(v.begin(), v.end(), 0.0f);
    return AddSparse(s, v);
  }
  if (kind == "int8") {
    SWARM_ASSIGN_OR_RETURN(QuantizedInt8 q, QuantizeInt8(v));
    return DequantizeInt8(q, v);
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<ExperimentResult> RunExperiment(const ExperimentConfig& cfg, const nn::Dataset& train,
                                         const nn::Dataset& test, const ProgressFn& progress) {
  SWARM_RETURN_IF_ERROR(cfg.Validate());
  if (train.size() < static_cast<size_t>(cfg.trainers)) {
    return absl::InvalidArgumentError(absl::StrCat("train set has ", train.size(),
                                                   " rows, fewer than train.trainers = ", cfg.trainers));
  }
  SWARM_ASSIGN_OR_RETURN(nn::MoeConfig mcfg, nn::ResolveDims(cfg.model, train));
  SWARM_ASSIGN_OR_RETURN(auto aggregator, MakeAggregator(cfg.EffectiveAggregator()));
  SWARM_ASSIGN_OR_RETURN(auto attack, MakeAttack(cfg.EffectiveAttack()));

  // Torch's default generator is process-global: serialize seeding and
  // initialization so concurrent experiments stay reproducible.
  static std::mutex init_mu;
  nn::MoeClassifier model(nullptr);
  {
    std::lock_guard<std::mutex> lock(init_mu);
    torch::manual_seed(cfg.seed);
    model = nn::MoeClassifier(mcfg, nn::MakeFfnExperts(mcfg));
  }
  model->train();
  const std::vector<torch::Tensor> params = model->ordered_parameters();
  const size_t dim = TotalNumel(params);
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (cfg.optimizer == "adam") {
    opt = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(cfg.lr));
  } else {
    opt = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(cfg.lr));
  }
  const nn::DatasetTensors tr = nn::ToTensors(train), te = nn::ToTensors(test);

  // Seeded partition of the train rows into one shard per trainer.
  Rng rng(cfg.seed * 0x9e3779b97f4a7c15ULL + 7);
  std::vector<int64_t> rows(train.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  rng.Shuffle(rows);
  std::vector<Trainer> trainers(static_cast<size_t>(cfg.trainers));
  for (size_t i = 0; i < rows.size(); ++i) trainers[i % trainers.size()].shard.push_back(rows[i]);
  for (auto& t : trainers) {
    t.rng = rng.Fork();
    SWARM_ASSIGN_OR_RETURN(auto m, WorkerMomentum::Create(cfg.worker_momentum));
    t.momentum.emplace(std::move(m));
    if (cfg.compression == "topk") {
      SWARM_ASSIGN_OR_RETURN(auto c, TopKCompressor::Create(cfg.topk_fraction));
      t.topk.emplace(std::move(c));
    }
    t.grad.resize(dim);
    t.sent.resize(dim);
  }
  Rng attack_rng = rng.Fork();

  ExperimentResult result;
  result.parameters = dim;
  std::vector<float> aggregate(dim);
  for (int step = 1; step <= cfg.steps; ++step) {
    double loss_sum = 0;
    int loss_count = 0;
    for (size_t i = 0; i < trainers.size(); ++i) {
      Trainer& t = trainers[i];
      const bool byz = static_cast<int>(i) < cfg.byzantine;
      const torch::Tensor idx = NextBatch(t, cfg.batch_size);
      const torch::Tensor x = tr.x.index_select(0, idx);
      torch::Tensor y = tr.y.index_select(0, idx);
      if (byz && attack->poisons_labels()) y = (mcfg.num_classes - 1) - y;
      StatusOr<nn::ClassifierOutput> out = absl::UnknownError("not run");
      for (int attempt = 0; attempt <= cfg.retries_max; ++attempt) {
        out = model->Forward(x);
        if (out.ok() || !absl::IsUnavailable(out.status())) break;
        ++result.batches_retried;
      }
      if (!out.ok()) return out.status();
      result.tokens_dropped += out->stats.assignments_dropped;
      const torch::Tensor loss = torch::cross_entropy_loss(out->logits, y) + out->aux_loss;
      opt->zero_grad();
      loss.backward();
      if (!byz) {
        loss_sum += loss.item<double>();
        ++loss_count;
      }
      FlattenGrads(params, t.grad);
      const auto m = t.momentum->Update(t.grad);
      std::copy(m.begin(), m.end(), t.sent.begin());
    }
    // Byzantine trainers replace what they send, seeing the honest vectors.
    std::vector<Contribution> honest;
    for (size_t i = static_cast<size_t>(cfg.byzantine); i < trainers.size(); ++i) {
      honest.push_back(trainers[i].sent);
    }
    std::vector<std::vector<float>> crafted(static_cast<size_t>(cfg.byzantine), std::vector<float>(dim));
    for (int b = 0; b < cfg.byzantine; ++b) {
      SWARM_RETURN_IF_ERROR(attack->Craft(honest, trainers[static_cast<size_t>(b)].sent,
                                          crafted[static_cast<size_t>(b)], attack_rng));
    }
    for (int b = 0; b < cfg.byzantine; ++b) {
      trainers[static_cast<size_t>(b)].sent = crafted[static_cast<size_t>(b)];
    }
    std::vector<Contribution> contributions;
    for (auto& t : trainers) {
      SWARM_RETURN_IF_ERROR(Compress(cfg.compression, t, t.sent));
      contributions.push_back(t.sent);
    }
    AggregationReport report;
    const Status agg_status = aggregator->Aggregate(contributions, aggregate, &report);
    result.contributions_excluded += static_cast<int64_t>(report.excluded_nonfinite);
    if (!agg_status.ok() && report.received > 0 && report.excluded_nonfinite == report.received) {
      // Every contribution is NaN/Inf: the model has diverged (e.g. a poisoned
      // mean blew the parameters up). Stop and measure what is left.
      result.diverged = true;
      result.steps = step;
      SWARM_ASSIGN_OR_RETURN(result.test_accuracy, nn::Accuracy(model, te));
      ProgressPoint p;
      p.step = step;
      p.train_loss = loss_count ? loss_sum / loss_count : 0.0;
      p.test_accuracy = result.test_accuracy;
      result.history.push_back(p);
      if (progress) progress(p);
      return result;
    }
    SWARM_RETURN_IF_ERROR(agg_status);
    WriteGrads(params, aggregate);
    opt->step();

    ProgressPoint p;
    p.step = step;
    p.train_loss = loss_count ? loss_sum / loss_count : 0.0;
    p.aggregation_used = report.used;
    const bool last = step == cfg.steps;
    if (last || (cfg.eval_every > 0 && step % cfg.eval_every == 0)) {
      SWARM_ASSIGN_OR_RETURN(p.test_accuracy, nn::Accuracy(model, te));
      result.history.push_back(p);
      if (progress) progress(p);
    }
    result.final_train_loss = p.train_loss;
    if (last) result.test_accuracy = p.test_accuracy;
  }
  result.steps = cfg.steps;
  return result;
}

}  // namespace swarm::train
