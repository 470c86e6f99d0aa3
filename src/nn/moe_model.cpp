#include "nn/moe_model.h"

#include <cstring>
#include <set>

namespace swarm::nn {

MoeClassifierImpl::MoeClassifierImpl(const MoeConfig& cfg,
                                     std::vector<std::shared_ptr<ExpertBackend>> experts)
    : cfg_(cfg) {
  SWARM_ASSERT(cfg_.input_dim > 0 && cfg_.num_classes > 0);
  in_ = register_module("in", torch::nn::Linear(cfg_.input_dim, cfg_.d_model));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg_.d_model})));
  moe_ = register_module("moe", MoeLayer(cfg_, std::move(experts)));
  head_ = register_module("head", torch::nn::Linear(cfg_.d_model, cfg_.num_classes));
}

StatusOr<ClassifierOutput> MoeClassifierImpl::Forward(const torch::Tensor& x,
                                                      const std::vector<bool>& masked) {
  if (x.dim() != 2 || x.size(1) != cfg_.input_dim) {
    return absl::InvalidArgumentError(absl::StrCat("classifier: input has ", x.dim() == 2 ? x.size(1) : -1,
                                                   " features, model expects ", cfg_.input_dim));
  }
  torch::Tensor h = torch::gelu(in_(x));
  SWARM_ASSIGN_OR_RETURN(MoeOutput m, moe_->Forward(norm_(h), masked));
  h = h + m.y;
  ClassifierOutput out;
  out.logits = head_(h);
  out.aux_loss = m.aux_loss * cfg_.aux_loss_weight;
  out.stats = std::move(m.stats);
  return out;
}

std::vector<torch::Tensor> MoeClassifierImpl::expert_parameters() {
  std::vector<torch::Tensor> out;
  for (int64_t e = 0; e < moe_->num_experts(); ++e) {
    if (auto m = moe_->expert(e).module()) {
      for (auto& p : m->parameters()) out.push_back(p);
    }
  }
  return out;
}

std::vector<torch::Tensor> MoeClassifierImpl::shared_parameters() {
  std::set<const void*> expert;
  for (auto& p : expert_parameters()) expert.insert(p.unsafeGetTensorImpl());
  std::vector<torch::Tensor> out;
  for (auto& p : parameters()) {
    if (!expert.count(p.unsafeGetTensorImpl())) out.push_back(p);
  }
  return out;
}

std::vector<torch::Tensor> MoeClassifierImpl::ordered_parameters() {
  auto out = shared_parameters();
  for (auto& p : expert_parameters()) out.push_back(p);
  return out;
}

StatusOr<MoeConfig> ResolveDims(MoeConfig cfg, const Dataset& data) {
  if (cfg.input_dim == 0) cfg.input_dim = data.num_features;
  if (cfg.num_classes == 0) cfg.num_classes = data.num_classes;
  if (cfg.input_dim != data.num_features) {
    return absl::InvalidArgumentError(absl::StrCat("key 'model.input_dim' = ", cfg.input_dim,
                                                   " but the data has ", data.num_features,
                                                   " features"));
  }
  if (cfg.num_classes < data.num_classes) {
    return absl::InvalidArgumentError(absl::StrCat("key 'model.num_classes' = ", cfg.num_classes,
                                                   " but the data has labels up to ",
                                                   data.num_classes - 1));
  }
  SWARM_RETURN_IF_ERROR(cfg.Validate());
  return cfg;
}

DatasetTensors ToTensors(const Dataset& d) {
  DatasetTensors t;
  const auto n = static_cast<int64_t>(d.size());
  t.x = torch::empty({n, d.num_features}, torch::kFloat32);
  if (!d.features.empty()) std::memcpy(t.x.data_ptr<float>(), d.features.data(), d.features.size() * 4);
  t.y = torch::empty({n}, torch::kInt64);
  if (n > 0) std::memcpy(t.y.data_ptr<int64_t>(), d.labels.data(), d.labels.size() * 8);
  return t;
}

StatusOr<double> Accuracy(MoeClassifier& model, const DatasetTensors& data) {
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  auto out = model->Forward(data.x);
  model->train(was_training);
  if (!out.ok()) return out.status();
  const torch::Tensor pred = out->logits.argmax(1);
  return pred.eq(data.y).to(torch::kFloat64).mean().item<double>();
}

}  // namespace swarm::nn
