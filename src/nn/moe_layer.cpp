#include "nn/moe_layer.h"

#include <cmath>
#include <future>
#include <limits>
#include <optional>

#include "absl/strings/str_join.h"

namespace swarm::nn {
namespace {

StatusOr<torch::Tensor> CallExpert(ExpertBackend& e, const torch::Tensor& x) {
  try {
    return e.Forward(x);
  } catch (const std::exception& ex) {
    return absl::InternalError(absl::StrCat("expert threw: ", ex.what()));
  }
}

}  // namespace

MoeLayerImpl::MoeLayerImpl(const MoeConfig& cfg, std::vector<std::shared_ptr<ExpertBackend>> experts)
    : cfg_(cfg), experts_(std::move(experts)) {
  SWARM_ASSERT(cfg_.Validate().ok());
  SWARM_ASSERT(static_cast<int64_t>(experts_.size()) == cfg_.num_experts);
  gate_ = register_module("gate", torch::nn::Linear(
                                      torch::nn::LinearOptions(cfg_.d_model, cfg_.num_experts).bias(false)));
  // Start from a uniform router: small gate weights.
  torch::NoGradGuard no_grad;
  gate_->weight.normal_(0.0, 0.01);
  if (cfg_.noisy_gating) {
    noise_gate_ = register_module(
        "noise_gate",
        torch::nn::Linear(torch::nn::LinearOptions(cfg_.d_model, cfg_.num_experts).bias(false)));
    noise_gate_->weight.zero_();
  }
  if (cfg_.groups > 1) {
    group_gate_ = register_module(
        "group_gate",
        torch::nn::Linear(torch::nn::LinearOptions(cfg_.d_model, cfg_.groups).bias(false)));
    group_gate_->weight.normal_(0.0, 0.01);
  }
  for (size_t i = 0; i < experts_.size(); ++i) {
    if (auto m = experts_[i]->module()) register_module("expert" + std::to_string(i), m);
  }
}

torch::Tensor MoeLayerImpl::GateProbs(const torch::Tensor& x, const torch::Tensor& mask) {
  torch::Tensor logits = gate_(x);
  if (cfg_.noisy_gating && is_training()) {
    logits = logits + torch::randn_like(logits) * torch::softplus(noise_gate_(x));
  }
  const double neg_inf = -std::numeric_limits<double>::infinity();
  logits = logits.masked_fill(mask, neg_inf);
  if (cfg_.groups <= 1) return torch::softmax(logits, -1);
  const int64_t T = x.size(0), G = cfg_.groups, per = cfg_.num_experts / G;
  const torch::Tensor group_dead = mask.view({G, per}).all(1);  // [G]
  // A fully masked group would softmax to NaN; its group probability is 0 anyway.
  torch::Tensor within = logits.view({T, G, per}).masked_fill(group_dead.view({1, G, 1}), 0.0);
  within = torch::softmax(within, -1);
  torch::Tensor group_p = torch::softmax(group_gate_(x).masked_fill(group_dead, neg_inf), -1);
  return (group_p.unsqueeze(-1) * within).reshape({T, cfg_.num_experts});
}

StatusOr<Routing> MoeLayerImpl::Route(const torch::Tensor& x, const std::vector<bool>& masked) {
  const int64_t E = cfg_.num_experts;
  if (x.dim() != 2 || x.size(1) != cfg_.d_model) {
    return absl::InvalidArgumentError(absl::StrCat("moe: input shape [", absl::StrJoin(x.sizes().vec(), ","),
                                                   "], expected [tokens, ", cfg_.d_model, "]"));
  }
  if (!masked.empty() && static_cast<int64_t>(masked.size()) != E) {
    return absl::InvalidArgumentError(
        absl::StrCat("moe: mask has ", masked.size(), " flags, expected ", E));
  }
  torch::Tensor mask = torch::zeros({E}, torch::kBool);
  int64_t alive = E;
  for (size_t e = 0; e < masked.size(); ++e) {
    if (masked[e]) {
      mask[static_cast<int64_t>(e)] = true;
      --alive;
    }
  }
  if (alive < std::min(cfg_.k_min, E)) {
    return absl::UnavailableError(absl::StrCat("moe: only ", alive, " of ", E,
                                               " experts unmasked, k_min = ", cfg_.k_min));
  }
  const int64_t T = x.size(0);
  const int64_t k = std::min(cfg_.top_k, alive);
  Routing r;
  r.probs = GateProbs(x, mask);
  auto [vals, idx] = r.probs.topk(k, -1);
  r.indices = idx;
  r.weights = (cfg_.normalize_topk && k > 1) ? vals / vals.sum(-1, true) : vals;
  r.kept = torch::ones({T, k}, torch::kBool);
  if (cfg_.capacity_factor > 0 && T > 0) {
    r.capacity = static_cast<int64_t>(
        std::ceil(cfg_.capacity_factor * static_cast<double>(T * cfg_.top_k) / static_cast<double>(E)));
    std::vector<int64_t> load(static_cast<size_t>(E), 0);
    auto ia = idx.accessor<int64_t, 2>();
    auto ka = r.kept.accessor<bool, 2>();
    for (int64_t rank = 0; rank < k; ++rank) {
      for (int64_t t = 0; t < T; ++t) {
        int64_t& l = load[static_cast<size_t>(ia[t][rank])];
        if (l < r.capacity) {
          ++l;
        } else {
          ka[t][rank] = false;
          ++r.assignments_dropped;
        }
      }
    }
    r.tokens_dropped = (~r.kept.any(1)).sum().item<int64_t>();
  }
  if (T > 0) {
    const torch::Tensor f =
        torch::bincount(idx.select(1, 0), {}, E).to(torch::kFloat32) / static_cast<double>(T);
    r.aux_loss = static_cast<double>(E) * (f * r.probs.mean(0)).sum();
  } else {
    r.aux_loss = torch::zeros({}, torch::kFloat32);
  }
  return r;
}

StatusOr<MoeOutput> MoeLayerImpl::Forward(const torch::Tensor& x, const std::vector<bool>& masked) {
  SWARM_ASSIGN_OR_RETURN(Routing r, Route(x, masked));
  const int64_t T = x.size(0), E = cfg_.num_experts, k = r.indices.size(1);
  MoeOutput out;
  out.stats.tokens = T;
  out.stats.assignments_dropped = r.assignments_dropped;
  out.stats.tokens_dropped = r.tokens_dropped;
  out.stats.expert_tokens.assign(static_cast<size_t>(E), 0);
  out.aux_loss = r.aux_loss;

  // Group assignments by expert.
  std::vector<std::vector<int64_t>> tokens(static_cast<size_t>(E)), slots(static_cast<size_t>(E));
  auto ia = r.indices.accessor<int64_t, 2>();
  auto ka = r.kept.accessor<bool, 2>();
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t rank = 0; rank < k; ++rank) {
      if (!ka[t][rank]) continue;
      const auto e = static_cast<size_t>(ia[t][rank]);
      tokens[e].push_back(t);
      slots[e].push_back(t * k + rank);
    }
  }
  // Dispatch: remote experts concurrently, local ones inline.
  std::vector<std::optional<StatusOr<torch::Tensor>>> results(static_cast<size_t>(E));
  std::vector<torch::Tensor> token_idx(static_cast<size_t>(E));
  std::vector<ExpertBackend*> remote_backends;
  std::vector<torch::Tensor> remote_xs;
  std::vector<size_t> remote_ids;
  for (size_t e = 0; e < static_cast<size_t>(E); ++e) {
    if (tokens[e].empty()) continue;
    out.stats.expert_tokens[e] = static_cast<int64_t>(tokens[e].size());
    ++out.stats.experts_called;
    token_idx[e] = torch::tensor(tokens[e], torch::kInt64);
    torch::Tensor xe = x.index_select(0, token_idx[e]);
    ExpertBackend* backend = experts_[e].get();
    if (backend->is_remote()) {
      remote_backends.push_back(backend);
      remote_xs.push_back(xe);
      remote_ids.push_back(e);
    } else {
      results[e] = CallExpert(*backend, xe);
    }
  }
  if (!remote_backends.empty()) {
    auto answers = ForwardRemoteConcurrently(remote_backends, remote_xs);
    for (size_t j = 0; j < remote_ids.size(); ++j) results[remote_ids[j]] = std::move(answers[j]);
  }
  torch::Tensor alive = r.kept.clone();
  auto aa = alive.accessor<bool, 2>();
  int64_t answered = 0;
  for (size_t e = 0; e < static_cast<size_t>(E); ++e) {
    if (!results[e].has_value()) continue;
    auto& res = *results[e];
    if (res.ok() && (res->dim() != 2 || res->size(0) != static_cast<int64_t>(tokens[e].size()) ||
                     res->size(1) != cfg_.d_model)) {
      res = absl::DataLossError(absl::StrCat("expert ", e, " returned shape [",
                                             absl::StrJoin(res->sizes().vec(), ","), "]"));
    }
    if (res.ok()) {
      ++answered;
      continue;
    }
    out.stats.failed_experts.push_back(static_cast<int64_t>(e));
    out.stats.failure_reasons.push_back(std::string(res.status().message()));
    for (int64_t s : slots[e]) aa[s / k][s % k] = false;
  }
  if (answered < std::min(cfg_.k_min, out.stats.experts_called)) {
    return absl::UnavailableError(absl::StrCat(
        "moe: only ", answered, " of ", out.stats.experts_called, " experts answered (k_min ",
        cfg_.k_min, "); failed experts [", absl::StrJoin(out.stats.failed_experts, ","),
        "]: ", out.stats.failure_reasons.empty() ? "" : out.stats.failure_reasons.front()));
  }
  torch::Tensor w = r.weights * r.kept.to(torch::kFloat32);
  if (!out.stats.failed_experts.empty()) {
    // Renormalize each token over its surviving experts, keeping its mass.
    const torch::Tensor alive_f = alive.to(torch::kFloat32);
    const torch::Tensor wa = r.weights * alive_f;
    const torch::Tensor sum_kept = w.sum(1), sum_alive = wa.sum(1);
    const torch::Tensor has = sum_alive > 0;
    const torch::Tensor scale = sum_kept / sum_alive.clamp_min(1e-12) * has.to(torch::kFloat32);
    w = wa * scale.unsqueeze(1);
    out.stats.tokens_unserved = (r.kept.any(1) & ~alive.any(1)).sum().item<int64_t>();
  }
  const torch::Tensor w_flat = w.reshape({-1});
  torch::Tensor y = torch::zeros({T, cfg_.d_model}, x.options());
  for (size_t e = 0; e < static_cast<size_t>(E); ++e) {
    if (!results[e].has_value() || !results[e]->ok()) continue;
    const torch::Tensor we = w_flat.index_select(0, torch::tensor(slots[e], torch::kInt64));
    y = y.index_add(0, token_idx[e], **results[e] * we.unsqueeze(1));
  }
  out.y = y;
  return out;
}

std::vector<std::shared_ptr<ExpertBackend>> MakeFfnExperts(const MoeConfig& cfg) {
  std::vector<std::shared_ptr<ExpertBackend>> experts;
  for (int64_t e = 0; e < cfg.num_experts; ++e) {
    experts.push_back(std::make_shared<FfnExpert>(cfg.d_model, cfg.expert_hidden, cfg.expert_layers));
  }
  return experts;
}

}  // namespace swarm::nn
