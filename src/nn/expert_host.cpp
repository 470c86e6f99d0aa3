#include "nn/expert_host.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <torch/torch.h>

#include "absl/strings/str_join.h"
#include "common/file.h"
#include "common/rng.h"
#include "nn/expert.h"

namespace swarm::nn {
namespace {

// Fills `t` with U(-bound, bound) from `rng` (portable: same bits everywhere).
void FillUniform(torch::Tensor t, Rng& rng, double bound) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (auto& x : v) x = static_cast<float>(rng.UniformDouble(-bound, bound));
  torch::NoGradGuard no_grad;
  t.copy_(torch::from_blob(v.data(), t.sizes(), torch::kFloat32));
}

template <typename F>
Status TorchCall(const char* what, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(what, ": ", e.what()));
  }
}

}  // namespace

class ExpertHost::Expert {
 public:
  Expert(uint32_t id, const ExpertHostConfig& c) : id_(id), config_(c) {
    net_->push_back(torch::nn::Linear(c.d_model, c.hidden));
    net_->push_back(torch::nn::GELU());
    for (int64_t i = 1; i < c.layers; ++i) {
      net_->push_back(torch::nn::Linear(c.hidden, c.hidden));
      net_->push_back(torch::nn::GELU());
    }
    net_->push_back(torch::nn::Linear(c.hidden, c.d_model));
    Rng rng(c.seed + id);
    for (auto& m : net_->children()) {
      if (auto* lin = m->as<torch::nn::Linear>()) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(lin->options.in_features()));
        FillUniform(lin->weight, rng, bound);
        FillUniform(lin->bias, rng, bound);
      }
    }
    if (c.optimizer == "sgd") {
      opt_ = std::make_unique<torch::optim::SGD>(
          net_->parameters(), torch::optim::SGDOptions(c.lr).momentum(c.momentum));
    } else {
      opt_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(c.lr));
    }
  }

  std::string Path() const {
    return (std::filesystem::path(config_.checkpoint_dir) / ("expert-" + std::to_string(id_) + ".pt"))
        .string();
  }

  Status Save() {
    if (config_.checkpoint_dir.empty()) return absl::OkStatus();
    std::lock_guard<std::mutex> lock(mu);
    return TorchCall("expert checkpoint save", [&]() -> Status {
      std::error_code ec;
      std::filesystem::create_directories(config_.checkpoint_dir, ec);
      if (ec) {
        return absl::InternalError(absl::StrCat("cannot create '", config_.checkpoint_dir,
                                                "': ", ec.message()));
      }
      torch::serialize::OutputArchive archive;
      net_->save(archive);
      opt_->save(archive);
      archive.write("steps_applied", torch::tensor(steps, torch::kInt64));
      std::ostringstream bytes;
      archive.save_to(bytes);
      return WriteFileAtomic(Path(), bytes.view(), {.mode = 0644});
    });
  }

  // Loads the checkpoint if one exists; a corrupt file is an error naming it.
  Status MaybeLoad() {
    if (config_.checkpoint_dir.empty() || !std::filesystem::exists(Path())) return absl::OkStatus();
    std::lock_guard<std::mutex> lock(mu);
    Status s = TorchCall("expert checkpoint load", [&]() -> Status {
      torch::serialize::InputArchive archive;
      archive.load_from(Path());
      net_->load(archive);
      opt_->load(archive);
      torch::Tensor st;
      archive.read("steps_applied", st);
      steps = st.item<int64_t>();
      return absl::OkStatus();
    });
    if (!s.ok()) return absl::DataLossError(absl::StrCat("'", Path(), "': ", s.message()));
    loaded = true;
    return s;
  }

  StatusOr<HostTensor> Forward(const HostTensor& xh) {
    std::lock_guard<std::mutex> lock(mu);
    HostTensor out;
    Status s = TorchCall("expert forward", [&]() -> Status {
      torch::NoGradGuard no_grad;
      SWARM_ASSIGN_OR_RETURN(torch::Tensor x, ToTorch(xh));
      out = ToHost(net_->forward(x));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    ++forwards;
    return out;
  }

  // Returns the InvalidArgument "nonfinite_step" when the gradient is not finite.
  StatusOr<HostTensor> Backward(const HostTensor& xh, const HostTensor& gh, int64_t* steps_out) {
    std::lock_guard<std::mutex> lock(mu);
    HostTensor out;
    bool nonfinite = false;
    Status s = TorchCall("expert backward", [&]() -> Status {
      torch::AutoGradMode grad_mode(true);
      SWARM_ASSIGN_OR_RETURN(torch::Tensor x, ToTorch(xh));
      SWARM_ASSIGN_OR_RETURN(torch::Tensor g, ToTorch(gh));
      x.requires_grad_(true);
      opt_->zero_grad();
      torch::Tensor y = net_->forward(x);
      y.backward(g);
      double sq = 0;
      for (const auto& p : net_->parameters()) {
        if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
      }
      const double norm = std::sqrt(sq);
      torch::Tensor dx = x.grad();
      if (!std::isfinite(norm) || !torch::isfinite(dx).all().item<bool>()) {
        nonfinite = true;
        opt_->zero_grad();
        return absl::OkStatus();
      }
      if (config_.grad_clip > 0 && norm > config_.grad_clip) {
        torch::NoGradGuard no_grad;
        for (auto& p : net_->parameters()) {
          if (p.grad().defined()) p.grad().mul_(config_.grad_clip / norm);
        }
      }
      opt_->step();
      opt_->zero_grad();
      out = ToHost(dx);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (nonfinite) {
      return absl::InvalidArgumentError(
          absl::StrCat("expert ", id_, ": gradient is not finite; step not applied"));
    }
    ++steps;
    if (steps_out) *steps_out = steps;
    return out;
  }

  // dL/dx and the flattened dL/dparams for (x, dL/dy); nothing is applied.
  Status Gradient(const HostTensor& xh, const HostTensor& gh, HostTensor* dx_out,
                  std::vector<float>* grad_out, bool* nonfinite) {
    std::lock_guard<std::mutex> lock(mu);
    return TorchCall("expert gradient", [&]() -> Status {
      torch::AutoGradMode grad_mode(true);
      SWARM_ASSIGN_OR_RETURN(torch::Tensor x, ToTorch(xh));
      SWARM_ASSIGN_OR_RETURN(torch::Tensor g, ToTorch(gh));
      x.requires_grad_(true);
      std::vector<torch::Tensor> params = net_->parameters();
      torch::Tensor y = net_->forward(x);
      std::vector<torch::Tensor> inputs = params;
      inputs.push_back(x);
      auto grads = torch::autograd::grad({y}, inputs, {g});
      std::vector<torch::Tensor> flat;
      for (size_t i = 0; i < params.size(); ++i) flat.push_back(grads[i].flatten());
      torch::Tensor all = torch::cat(flat).contiguous();
      torch::Tensor dx = grads.back();
      if (!torch::isfinite(all).all().item<bool>() || !torch::isfinite(dx).all().item<bool>()) {
        *nonfinite = true;
        return absl::OkStatus();
      }
      grad_out->assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
      *dx_out = ToHost(dx);
      return absl::OkStatus();
    });
  }

  // One optimizer step with the flattened gradient `flat` (module order).
  Status Apply(const std::vector<float>& flat, int64_t* steps_out) {
    std::lock_guard<std::mutex> lock(mu);
    Status s = TorchCall("expert apply", [&]() -> Status {
      torch::NoGradGuard no_grad;
      std::vector<torch::Tensor> params = net_->parameters();
      int64_t total = 0;
      for (const auto& p : params) total += p.numel();
      if (static_cast<int64_t>(flat.size()) != total) {
        return absl::InvalidArgumentError(
            absl::StrCat("expert ", id_, ": gradient has ", flat.size(), " values, parameters ", total));
      }
      int64_t off = 0;
      for (auto& p : params) {
        torch::Tensor g = torch::from_blob(const_cast<float*>(flat.data()) + off, p.sizes(), torch::kFloat32).clone();
        p.mutable_grad() = g;
        off += p.numel();
      }
      opt_->step();
      opt_->zero_grad();
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    ++steps;
    if (steps_out) *steps_out = steps;
    return s;
  }

  Status SetFlat(const HostTensor& flat, int64_t steps_applied) {
    std::lock_guard<std::mutex> lock(mu);
    return TorchCall("expert set parameters", [&]() -> Status {
      torch::NoGradGuard no_grad;
      int64_t total = 0;
      for (const auto& p : net_->parameters()) total += p.numel();
      if (flat.shape != std::vector<int64_t>{total} ||
          static_cast<int64_t>(flat.data.size()) != total) {
        return absl::InvalidArgumentError(absl::StrCat("parameters: shape [", absl::StrJoin(flat.shape, ","),
                                                       "], expected [", total, "]"));
      }
      for (float v : flat.data) {
        if (!std::isfinite(v)) return absl::InvalidArgumentError("parameters: non-finite value");
      }
      int64_t off = 0;
      for (auto& p : net_->parameters()) {
        const int64_t n = p.numel();
        p.copy_(torch::from_blob(const_cast<float*>(flat.data.data()) + off, p.sizes(), torch::kFloat32));
        off += n;
      }
      // Fresh optimizer state for the copied parameters.
      if (config_.optimizer == "sgd") {
        opt_ = std::make_unique<torch::optim::SGD>(
            net_->parameters(), torch::optim::SGDOptions(config_.lr).momentum(config_.momentum));
      } else {
        opt_ = std::make_unique<torch::optim::Adam>(net_->parameters(),
                                                    torch::optim::AdamOptions(config_.lr));
      }
      steps = steps_applied;
      return absl::OkStatus();
    });
  }

  HostTensor Flat(int64_t* steps_out) {
    std::lock_guard<std::mutex> lock(mu);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> parts;
    for (const auto& p : net_->parameters()) parts.push_back(p.detach().flatten());
    if (steps_out) *steps_out = steps;
    return ToHost(torch::cat(parts));
  }

  std::mutex mu;
  int64_t steps = 0;    // guarded by mu
  int64_t forwards = 0; // guarded by mu
  bool loaded = false;

 private:
  const uint32_t id_;
  const ExpertHostConfig config_;
  torch::nn::Sequential net_;
  std::unique_ptr<torch::optim::Optimizer> opt_;
};

Status ExpertHostConfig::Validate() const {
  auto range = [](const char* key, int64_t v, int64_t lo, int64_t hi) -> Status {
    if (v < lo || v > hi) {
      return absl::InvalidArgumentError(
          absl::StrCat("experts.", key, " = ", v, " is out of range [", lo, ", ", hi, "]"));
    }
    return absl::OkStatus();
  };
  SWARM_RETURN_IF_ERROR(range("d_model", d_model, 1, 1 << 16));
  SWARM_RETURN_IF_ERROR(range("hidden", hidden, 1, 1 << 16));
  SWARM_RETURN_IF_ERROR(range("layers", layers, 1, 16));
  SWARM_RETURN_IF_ERROR(range("tokens_max", tokens_max, 1, 1 << 24));
  SWARM_RETURN_IF_ERROR(range("experts_max", experts_max, 1, 1 << 20));
  if (optimizer != "adam" && optimizer != "sgd") {
    return absl::InvalidArgumentError(
        absl::StrCat("experts.optimizer = '", optimizer, "' is not one of adam, sgd"));
  }
  if (!(lr > 0) || !std::isfinite(lr)) {
    return absl::InvalidArgumentError(absl::StrCat("experts.lr = ", lr, " must be positive"));
  }
  if (!(momentum >= 0 && momentum < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("experts.momentum = ", momentum, " is not in [0, 1)"));
  }
  if (!(grad_clip >= 0) || !std::isfinite(grad_clip)) {
    return absl::InvalidArgumentError(absl::StrCat("experts.grad_clip = ", grad_clip, " must be >= 0"));
  }
  return absl::OkStatus();
}

ExpertHost::ExpertHost(ExpertHostConfig config, std::function<bool(uint32_t)> may_host, Hooks hooks)
    : config_(std::move(config)), may_host_(std::move(may_host)), hooks_(std::move(hooks)) {
  SWARM_ASSERT(config_.Validate().ok());
}

ExpertHost::~ExpertHost() = default;

void ExpertHost::CountReject(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++rejected_[reason];
  }
  if (hooks_.on_reject) hooks_.on_reject(reason);
}

StatusOr<std::shared_ptr<ExpertHost::Expert>> ExpertHost::Find(uint32_t id, bool create) {
  std::shared_ptr<Expert> made;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = experts_.find(id);
    if (it != experts_.end()) return it->second;
  }
  if (!create && !(may_host_ && may_host_(id))) {
    CountReject(kRejectUnknownExpert);
    return absl::NotFoundError(absl::StrCat("expert_id ", id, " is not hosted by this peer"));
  }
  made = std::make_shared<Expert>(id, config_);
  SWARM_RETURN_IF_ERROR(made->MaybeLoad());
  std::unique_lock<std::mutex> lock(mu_);
  auto it = experts_.find(id);
  if (it != experts_.end()) return it->second;  // created concurrently
  if (static_cast<int64_t>(experts_.size()) >= config_.experts_max) {
    ++rejected_[kRejectTooManyExperts];
    return absl::ResourceExhaustedError(
        absl::StrCat("expert_id ", id, ": already hosting experts_max = ", config_.experts_max));
  }
  std::shared_ptr<Expert> e = made;
  const bool restored = made->loaded;
  experts_[id] = std::move(made);
  lock.unlock();
  if (hooks_.on_created) hooks_.on_created(id, restored);
  return e;
}

Status ExpertHost::Host(uint32_t id) { return Find(id, true).status(); }

bool ExpertHost::Hosts(uint32_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return experts_.count(id) > 0;
}

Status ExpertHost::CheckInput(const HostTensor& t, const char* field) {
  Status bad;
  if (t.shape.size() == 2 && t.shape[0] > config_.tokens_max) {
    CountReject(kRejectOversized);
    return absl::InvalidArgumentError(absl::StrCat("oversized: ", field, " has ", t.shape[0],
                                                   " tokens, tokens_max is ", config_.tokens_max));
  }
  if (t.shape.size() != 2 || t.shape[1] != config_.d_model || t.shape[0] < 1) {
    bad = absl::InvalidArgumentError(absl::StrCat(
        field, " shape [", absl::StrJoin(t.shape, ","), "], expected [1..", config_.tokens_max,
        ", ", config_.d_model, "]"));
  } else if (t.numel() != static_cast<int64_t>(t.data.size())) {
    bad = absl::InvalidArgumentError(absl::StrCat(field, " has ", t.data.size(),
                                                  " values for shape [", absl::StrJoin(t.shape, ","), "]"));
  }
  if (!bad.ok()) {
    CountReject(kRejectShape);
    return bad;
  }
  for (size_t i = 0; i < t.data.size(); ++i) {
    if (!std::isfinite(t.data[i])) {
      CountReject(DecodeRejectName(DecodeReject::kNonFinite));
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "] is not finite"));
    }
  }
  return absl::OkStatus();
}

StatusOr<HostTensor> ExpertHost::Forward(uint32_t id, const HostTensor& x) {
  SWARM_RETURN_IF_ERROR(CheckInput(x, "x"));
  SWARM_ASSIGN_OR_RETURN(std::shared_ptr<Expert> e, Find(id, false));
  SWARM_ASSIGN_OR_RETURN(HostTensor y, e->Forward(x));
  if (hooks_.on_activation) hooks_.on_activation(id, x.shape[0]);
  return y;
}

StatusOr<HostTensor> ExpertHost::Backward(uint32_t id, const HostTensor& x, const HostTensor& grad_y,
                                          int64_t* steps_applied) {
  SWARM_RETURN_IF_ERROR(CheckInput(x, "x"));
  SWARM_RETURN_IF_ERROR(CheckInput(grad_y, "grad_y"));
  if (x.shape != grad_y.shape) {
    CountReject(kRejectShape);
    return absl::InvalidArgumentError(absl::StrCat("grad_y shape [", absl::StrJoin(grad_y.shape, ","),
                                                   "] != x shape [", absl::StrJoin(x.shape, ","), "]"));
  }
  SWARM_ASSIGN_OR_RETURN(std::shared_ptr<Expert> e, Find(id, false));
  auto r = e->Backward(x, grad_y, steps_applied);
  if (!r.ok() && absl::IsInvalidArgument(r.status())) CountReject(kRejectNonFiniteStep);
  return r;
}

StatusOr<ExpertGradient> ExpertHost::Gradient(uint32_t id, const HostTensor& x, const HostTensor& grad_y) {
  SWARM_RETURN_IF_ERROR(CheckInput(x, "x"));
  SWARM_RETURN_IF_ERROR(CheckInput(grad_y, "grad_y"));
  if (x.shape != grad_y.shape) {
    CountReject(kRejectShape);
    return absl::InvalidArgumentError(absl::StrCat("grad_y shape [", absl::StrJoin(grad_y.shape, ","),
                                                   "] != x shape [", absl::StrJoin(x.shape, ","), "]"));
  }
  SWARM_ASSIGN_OR_RETURN(std::shared_ptr<Expert> e, Find(id, false));
  ExpertGradient out;
  bool nonfinite = false;
  SWARM_RETURN_IF_ERROR(e->Gradient(x, grad_y, &out.grad_x, &out.params, &nonfinite));
  if (nonfinite) {
    CountReject(kRejectNonFiniteStep);
    return absl::InvalidArgumentError(absl::StrCat("expert ", id, ": gradient is not finite"));
  }
  return out;
}

Status ExpertHost::ApplyGradient(uint32_t id, const std::vector<float>& flat, int64_t* steps_applied) {
  std::shared_ptr<Expert> e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = experts_.find(id);
    if (it == experts_.end()) {
      return absl::NotFoundError(absl::StrCat("expert_id ", id, " is not hosted by this peer"));
    }
    e = it->second;
  }
  for (size_t i = 0; i < flat.size(); ++i) {
    if (!std::isfinite(flat[i])) {
      return absl::InvalidArgumentError(absl::StrCat("expert ", id, ": gradient[", i, "] is not finite"));
    }
  }
  return e->Apply(flat, steps_applied);
}

StatusOr<HostTensor> ExpertHost::Parameters(uint32_t id, int64_t* steps_applied) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = experts_.find(id);
  if (it == experts_.end()) {
    return absl::NotFoundError(absl::StrCat("expert_id ", id, " is not hosted by this peer"));
  }
  std::shared_ptr<Expert> e = it->second;
  lock.unlock();
  return e->Flat(steps_applied);
}

Status ExpertHost::SetParameters(uint32_t id, const HostTensor& flat, int64_t steps_applied) {
  std::shared_ptr<Expert> e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = experts_.find(id);
    if (it == experts_.end()) {
      return absl::NotFoundError(absl::StrCat("expert_id ", id, " is not hosted by this peer"));
    }
    e = it->second;
  }
  return e->SetFlat(flat, steps_applied);
}

Status ExpertHost::Release(uint32_t id) {
  std::shared_ptr<Expert> e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = experts_.find(id);
    if (it == experts_.end()) {
      return absl::NotFoundError(absl::StrCat("expert_id ", id, " is not hosted by this peer"));
    }
    e = std::move(it->second);
    experts_.erase(it);
  }
  return e->Save();
}

bool ExpertHost::WasRestored(uint32_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = experts_.find(id);
  return it != experts_.end() && it->second->loaded;
}

Status ExpertHost::Checkpoint() {
  std::vector<std::shared_ptr<Expert>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, e] : experts_) all.push_back(e);
  }
  for (auto& e : all) SWARM_RETURN_IF_ERROR(e->Save());
  return absl::OkStatus();
}

std::vector<HostedExpertInfo> ExpertHost::Experts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<HostedExpertInfo> out;
  for (const auto& [id, e] : experts_) {
    std::lock_guard<std::mutex> el(e->mu);
    out.push_back({id, e->steps, e->forwards});
  }
  return out;
}

std::map<std::string, int64_t> ExpertHost::Rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

StatusOr<double> CosineSimilarity(const HostTensor& a, const HostTensor& b) {
  if (a.data.size() != b.data.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cosine: sizes differ (", a.data.size(), " vs ", b.data.size(), ")"));
  }
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    dot += static_cast<double>(a.data[i]) * b.data[i];
    na += static_cast<double>(a.data[i]) * a.data[i];
    nb += static_cast<double>(b.data[i]) * b.data[i];
  }
  if (na == 0 && nb == 0) return 1.0;
  if (na == 0 || nb == 0) return 0.0;
  return dot / std::sqrt(na * nb);
}

}  // namespace swarm::nn
