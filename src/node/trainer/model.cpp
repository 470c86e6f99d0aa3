#include "node/trainer/model.h"

#include <cstring>
#include <filesystem>
#include <mutex>

#include "nn/moe_layer.h"

namespace swarm::node {
namespace {

size_t Numel(const std::vector<torch::Tensor>& ps) {
  size_t n = 0;
  for (const auto& p : ps) n += static_cast<size_t>(p.numel());
  return n;
}

}  // namespace

StatusOr<std::unique_ptr<TrainerModel>> TrainerModel::Create(
    const train::ExperimentConfig& cfg, const nn::TrainTestSplit& data, int index, int trainers,
    bool poison_labels, std::vector<std::shared_ptr<nn::ExpertBackend>> experts) {
  if (index < 0 || index >= trainers) {
    return absl::InvalidArgumentError(absl::StrCat("trainer index ", index, " not in [0, ", trainers, ")"));
  }
  if (data.train.size() < static_cast<size_t>(trainers)) {
    return absl::InvalidArgumentError(absl::StrCat("train set has ", data.train.size(),
                                                   " rows, fewer than ", trainers, " trainers"));
  }
  SWARM_ASSIGN_OR_RETURN(nn::MoeConfig mcfg, nn::ResolveDims(cfg.model, data.train));
  std::unique_ptr<TrainerModel> t(new TrainerModel(cfg));
  const bool remote = !experts.empty();
  {
    // Same initialization on every trainer: the global generator is seeded.
    static std::mutex init_mu;
    std::lock_guard<std::mutex> lock(init_mu);
    torch::manual_seed(cfg.seed);
    t->model_ = nn::MoeClassifier(mcfg, remote ? std::move(experts) : nn::MakeFfnExperts(mcfg));
  }
  t->model_->train();
  t->averaged_ = remote ? t->model_->shared_parameters() : t->model_->ordered_parameters();
  t->dim_ = Numel(t->averaged_);
  t->grad_.resize(t->dim_);
  if (cfg.optimizer == "adam") {
    t->opt_ = std::make_unique<torch::optim::Adam>(t->averaged_, torch::optim::AdamOptions(cfg.lr));
  } else {
    t->opt_ = std::make_unique<torch::optim::SGD>(t->averaged_, torch::optim::SGDOptions(cfg.lr));
  }
  t->train_ = nn::ToTensors(data.train);
  t->test_ = nn::ToTensors(data.test);
  // The partition of train/experiment.cpp: seeded shuffle, row i to shard i % n.
  Rng rng(cfg.seed * 0x9e3779b97f4a7c15ULL + 7);
  std::vector<int64_t> rows(data.train.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  rng.Shuffle(rows);
  for (size_t i = static_cast<size_t>(index); i < rows.size(); i += static_cast<size_t>(trainers)) {
    t->shard_.push_back(rows[i]);
  }
  for (int i = 0; i <= index; ++i) t->rng_ = rng.Fork();
  SWARM_ASSIGN_OR_RETURN(auto m, train::WorkerMomentum::Create(cfg.worker_momentum));
  t->momentum_ = std::make_unique<train::WorkerMomentum>(std::move(m));
  t->poison_labels_ = poison_labels;
  return t;
}

torch::Tensor TrainerModel::NextBatch() {
  std::vector<int64_t> idx;
  idx.reserve(static_cast<size_t>(cfg_.batch_size));
  for (int i = 0; i < cfg_.batch_size; ++i) {
    if (cursor_ == 0) rng_.Shuffle(shard_);
    idx.push_back(shard_[cursor_]);
    cursor_ = (cursor_ + 1) % shard_.size();
  }
  return torch::tensor(idx, torch::kInt64);
}

StatusOr<TrainerStepResult> TrainerModel::ComputeStep() {
  TrainerStepResult r;
  const torch::Tensor idx = NextBatch();
  const torch::Tensor x = train_.x.index_select(0, idx);
  torch::Tensor y = train_.y.index_select(0, idx);
  if (poison_labels_) y = (cfg_.model.num_classes > 0 ? cfg_.model.num_classes : train_.y.max().item<int64_t>() + 1) - 1 - y;
  StatusOr<nn::ClassifierOutput> out = absl::UnknownError("not run");
  for (int attempt = 0; attempt <= cfg_.retries_max; ++attempt) {
    out = model_->Forward(x);
    if (out.ok()) {
      r.experts_failed += static_cast<int64_t>(out->stats.failed_experts.size());
      break;
    }
    if (!absl::IsUnavailable(out.status())) break;
    ++r.batches_retried;
  }
  if (!out.ok()) return out.status();
  const torch::Tensor loss = torch::cross_entropy_loss(out->logits, y) + out->aux_loss;
  opt_->zero_grad();
  loss.backward();
  r.loss = loss.item<double>();
  size_t off = 0;
  for (const auto& p : averaged_) {
    const auto n = static_cast<size_t>(p.numel());
    if (p.grad().defined()) {
      const torch::Tensor g = p.grad().contiguous();
      std::memcpy(grad_.data() + off, g.data_ptr<float>(), n * sizeof(float));
    } else {
      std::memset(grad_.data() + off, 0, n * sizeof(float));
    }
    off += n;
  }
  const auto m = momentum_->Update(grad_);
  r.momentum.assign(m.begin(), m.end());
  return r;
}

Status TrainerModel::Apply(const std::vector<float>& aggregate) {
  if (aggregate.size() != dim_) {
    return absl::InvalidArgumentError(absl::StrCat("aggregate has ", aggregate.size(),
                                                   " elements, the model averages ", dim_));
  }
  size_t off = 0;
  for (auto& p : averaged_) {
    const auto n = static_cast<size_t>(p.numel());
    p.mutable_grad() =
        torch::from_blob(const_cast<float*>(aggregate.data() + off), p.sizes(), torch::kFloat32).clone();
    off += n;
  }
  opt_->step();
  ++step_;
  return absl::OkStatus();
}

StatusOr<double> TrainerModel::TestAccuracy() { return nn::Accuracy(model_, test_); }

Status TrainerModel::Save(const std::string& path) {
  try {
    torch::serialize::OutputArchive ar;
    const auto params = model_->ordered_parameters();
    for (size_t i = 0; i < params.size(); ++i) ar.write("p" + std::to_string(i), params[i].detach());
    torch::serialize::OutputArchive opt_ar;
    opt_->save(opt_ar);
    ar.write("optimizer", opt_ar);
    const auto m = momentum_->value();
    ar.write("momentum", torch::from_blob(const_cast<float*>(m.data()), {static_cast<int64_t>(m.size())},
                                          torch::kFloat32).clone());
    ar.write("step", torch::tensor(step_, torch::kInt64));
    ar.write("cursor", torch::tensor(static_cast<int64_t>(cursor_), torch::kInt64));
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    ar.save_to(path + ".tmp");
    std::filesystem::rename(path + ".tmp", path, ec);
    if (ec) return absl::InternalError(absl::StrCat("checkpoint rename to '", path, "': ", ec.message()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("checkpoint save to '", path, "': ", e.what()));
  }
  return absl::OkStatus();
}

Status TrainerModel::Load(const std::string& path) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("no checkpoint at '", path, "'"));
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(path);
    auto params = model_->ordered_parameters();
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      torch::Tensor t;
      ar.read("p" + std::to_string(i), t);
      if (!t.sizes().equals(params[i].sizes())) {
        return absl::InvalidArgumentError(absl::StrCat("checkpoint '", path, "': parameter ", i,
                                                       " has another shape than the model's"));
      }
      params[i].copy_(t);
    }
    torch::serialize::InputArchive opt_ar;
    ar.read("optimizer", opt_ar);
    opt_->load(opt_ar);
    torch::Tensor m, step, cursor;
    ar.read("momentum", m);
    ar.read("step", step);
    ar.read("cursor", cursor);
    if (m.numel() > 0) {
      if (static_cast<size_t>(m.numel()) != dim_) {
        return absl::InvalidArgumentError(absl::StrCat("checkpoint '", path, "': momentum has ", m.numel(),
                                                       " elements, the model averages ", dim_));
      }
      momentum_->Reset();
      momentum_->Update(std::span<const float>(m.data_ptr<float>(), dim_));
    }
    step_ = step.item<int64_t>();
    cursor_ = 0;  // reshuffle the shard on resume (the shuffle stream is not saved)
    (void)cursor;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint '", path, "' unreadable: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace swarm::node
