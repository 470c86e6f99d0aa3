#include "node/experts/extension.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "nn/expert_host.h"
#include "nn/expert_service.h"
#include "nn/remote_experts.h"
#include "node/config.h"
#include "node/node.h"

namespace swarm::node {
namespace {

constexpr const char* kSection = "experts";
constexpr size_t kExpertIdsMax = 4096;

void AddKeys(ConfigSchema& s) {
  s.Bool("experts.host", false, "Host experts (serve swarm.v1.ExpertService)");
  s.StringList("experts.ids", {},
               "Expert ids to host, e.g. [\"0\", \"3\"]; empty = the ids the placement ring assigns "
               "to this peer");
  s.Int("experts.d_model", 64, 1, 1 << 16, "Expert input/output width");
  s.Int("experts.hidden", 64, 1, 1 << 16, "Expert FFN hidden width");
  s.Int("experts.layers", 1, 1, 16, "Hidden layers per expert FFN");
  s.String("experts.optimizer", "adam", {"adam", "sgd"}, "Optimizer applied by the host");
  s.Double("experts.lr", 1e-3, 1e-9, 10.0, "Learning rate of the host's optimizer");
  s.Double("experts.momentum", 0.9, 0.0, 0.999, "Momentum (sgd only)");
  s.Double("experts.grad_clip", 0.0, 0.0, 1e9,
           "Max L2 norm of one Backward's parameter gradient (0 = off)");
  s.Int("experts.seed", 1, 0, INT64_MAX, "Expert e initializes from seed + e on every replica");
  s.Int("experts.tokens_max", 65536, 1, 1 << 24, "Tokens accepted in one request");
  s.Int("experts.checkpoint_every", 30, 0, 86400,
        "Seconds between checkpoints to <node.data_dir>/experts/ (0 = only at shutdown)");
  s.Int("experts.agreement_interval_ms", 2000, 100, 3600000,
        "How often to refresh hosted experts from the ring and measure replica agreement");
  s.Int("experts.message_size_bytes_max", 64 << 20, 1024, 1 << 30,
        "Largest tensor message accepted or fetched");
}

StatusOr<std::vector<uint32_t>> ParseIds(const std::vector<std::string>& ids) {
  if (ids.size() > kExpertIdsMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("experts.ids: ", ids.size(), " ids, at most ", kExpertIdsMax));
  }
  std::vector<uint32_t> out;
  for (const auto& s : ids) {
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("experts.ids: '", s, "' is not an expert id (0..4294967295)"));
    }
    out.push_back(v);
  }
  return out;
}

class ExpertsExtension final : public Extension {
 public:
  ExpertsExtension(nn::ExpertHostConfig hc, std::vector<uint32_t> ids, Nanos interval,
                   Nanos checkpoint_every, uint64_t message_bytes_max)
      : ids_(ids.begin(), ids.end()), interval_(interval), checkpoint_every_(checkpoint_every),
        message_bytes_max_(message_bytes_max) {
    nn::ExpertHost::Hooks hooks;
    hooks.on_activation = [this](uint32_t e, int64_t tokens) {
      if (auto* f = activations_.load()) f->Add({{"expert", std::to_string(e)}}).Increment(static_cast<double>(tokens));
    };
    hooks.on_reject = [this](const std::string& reason) {
      if (auto* f = failures_.load()) f->Add({{"reason", reason}}).Increment();
    };
    // A replica new to this peer continues from a co-replica's trained state.
    // (A restored one too, if a co-replica applied more steps meanwhile.)
    hooks.on_created = [this](uint32_t id, bool) {
      if (node_.load()) CatchUp(id);
    };
    host_ = std::make_unique<nn::ExpertHost>(
        hc, [this](uint32_t id) { return MayHost(id); }, std::move(hooks));
    nn::TensorLimits limits;
    limits.message_size_bytes_max = message_bytes_max;
    service_ = std::make_unique<nn::ExpertServiceImpl>(host_.get(), limits);
  }

  std::string name() const override { return kSection; }
  std::vector<grpc::Service*> services() override { return {service_.get()}; }

  Status Start(Node& node) override {
    auto& reg = node.metrics().registry();
    activations_ = &prometheus::BuildCounter()
                        .Name("swarm_expert_activations_total")
                        .Help("Tokens served by this host's experts (Forward), by expert")
                        .Register(reg);
    failures_ = &prometheus::BuildCounter()
                     .Name("swarm_expert_call_failures_total")
                     .Help("Expert requests rejected by this host, by reason")
                     .Register(reg);
    agreement_ = &prometheus::BuildGauge()
                      .Name("swarm_replica_agreement")
                      .Help("Cosine similarity of this host's expert parameters with a co-replica's")
                      .Register(reg);
    steps_ = &prometheus::BuildGauge()
                  .Name("swarm_expert_steps_applied")
                  .Help("Gradient steps applied by this host, by expert")
                  .Register(reg);
    node.metrics().AddScrapeHook([this] {
      for (const auto& e : host_->Experts()) {
        steps_->Add({{"expert", std::to_string(e.id)}}).Set(static_cast<double>(e.steps_applied));
      }
    });
    self_ = node.grpc_address();
    node_ = &node;
    for (uint32_t id : ids_) SWARM_RETURN_IF_ERROR(host_->Host(id));
    thread_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (auto s = host_->Checkpoint(); !s.ok()) spdlog::warn("experts: final checkpoint: {}", std::string(s.message()));
    node_ = nullptr;
  }

  nlohmann::json StatusJson() override {
    nlohmann::json experts = nlohmann::json::array();
    std::map<uint32_t, double> agreement;
    {
      std::lock_guard<std::mutex> lock(mu_);
      agreement = agreement_values_;
    }
    for (const auto& e : host_->Experts()) {
      nlohmann::json j = {{"id", e.id}, {"steps_applied", e.steps_applied}, {"forwards", e.forwards}};
      if (auto it = agreement.find(e.id); it != agreement.end()) j["replica_agreement"] = it->second;
      experts.push_back(j);
    }
    return {{"hosted", experts}, {"rejected", host_->Rejected()},
            {"ids", ids_.empty() ? "ring" : "configured"}};
  }

 private:
  // Owners of `id` in the ring as this peer sees it (empty before Start).
  std::vector<std::string> Owners(uint32_t id) {
    Node* n = node_;
    if (!n) return {};
    const PlacementView v = n->Placement();
    auto it = v.owners.find(id);
    return it == v.owners.end() ? std::vector<std::string>{} : it->second;
  }

  bool MayHost(uint32_t id) {
    if (!ids_.empty()) return ids_.count(id) > 0;
    const auto owners = Owners(id);
    return std::find(owners.begin(), owners.end(), self_) != owners.end();
  }

  nn::ChannelFactory Channels() {
    return [this](const std::string& a) { return node_.load()->ChannelTo(a); };
  }

  // A newly hosted expert copies a co-replica that has applied more steps.
  void CatchUp(uint32_t id) {
    int64_t mine = 0;
    if (!host_->Parameters(id, &mine).ok()) return;
    for (const auto& a : Owners(id)) {
      if (a == self_) continue;
      auto info = nn::QueryExpertHost(a, Seconds(2), Channels());
      if (!info.ok()) continue;
      for (const auto& e : info->experts) {
        if (e.id != id || e.steps_applied <= mine) continue;
        auto p = nn::FetchExpertParameters(a, id, Seconds(5), Channels(), message_bytes_max_);
        if (p.ok() && host_->SetParameters(id, *p, e.steps_applied).ok()) {
          spdlog::info("experts: expert {} caught up from {} at step {}", id, a, e.steps_applied);
          return;
        }
      }
    }
  }

  void MeasureAgreement(uint32_t id) {
    auto mine = host_->Parameters(id);
    if (!mine.ok()) return;
    for (const auto& a : Owners(id)) {
      if (a == self_) continue;
      auto theirs = nn::FetchExpertParameters(a, id, Seconds(5), Channels(), message_bytes_max_);
      if (!theirs.ok()) continue;
      auto cos = nn::CosineSimilarity(*mine, *theirs);
      if (!cos.ok()) continue;
      agreement_->Add({{"expert", std::to_string(id)}}).Set(*cos);
      std::lock_guard<std::mutex> lock(mu_);
      agreement_values_[id] = *cos;
      return;
    }
  }

  void Step() {
    if (ids_.empty()) {
      const PlacementView v = node_.load()->Placement();
      std::set<uint32_t> mine;
      for (const auto& [id, owners] : v.owners) {
        if (std::find(owners.begin(), owners.end(), self_) != owners.end()) mine.insert(id);
      }
      // The ring moved an expert away: stop hosting it (checkpointed) and
      // stop reporting its agreement; it catches up if it comes back.
      if (!v.owners.empty()) {
        for (const auto& e : host_->Experts()) {
          if (mine.count(e.id)) continue;
          (void)host_->Release(e.id);
          agreement_->Remove(&agreement_->Add({{"expert", std::to_string(e.id)}}));
          steps_->Remove(&steps_->Add({{"expert", std::to_string(e.id)}}));
          std::lock_guard<std::mutex> lock(mu_);
          agreement_values_.erase(e.id);
        }
      }
      for (uint32_t id : mine) {
        if (!host_->Hosts(id)) (void)host_->Host(id);  // catches up through on_created
      }
    }
    for (const auto& e : host_->Experts()) MeasureAgreement(e.id);
  }

  void Loop() {
    Nanos since_checkpoint = 0;
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::nanoseconds(interval_));
      if (stop_) break;
      lock.unlock();
      Step();
      since_checkpoint += interval_;
      if (checkpoint_every_ > 0 && since_checkpoint >= checkpoint_every_) {
        since_checkpoint = 0;
        if (auto s = host_->Checkpoint(); !s.ok()) spdlog::warn("experts: checkpoint: {}", std::string(s.message()));
      }
      lock.lock();
    }
  }

  const std::set<uint32_t> ids_;
  const Nanos interval_, checkpoint_every_;
  const uint64_t message_bytes_max_;
  std::unique_ptr<nn::ExpertHost> host_;
  std::unique_ptr<nn::ExpertServiceImpl> service_;
  std::atomic<Node*> node_{nullptr};
  std::string self_;
  std::atomic<prometheus::Family<prometheus::Counter>*> activations_{nullptr}, failures_{nullptr};
  prometheus::Family<prometheus::Gauge>* agreement_ = nullptr;
  prometheus::Family<prometheus::Gauge>* steps_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<uint32_t, double> agreement_values_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace

ExtensionFactory ExpertsExtensionFactory() {
  ExtensionFactory f;
  f.section = kSection;
  f.add_config_keys = AddKeys;
  f.make = [](const Config& c, const NodeConfig& nc) -> StatusOr<std::unique_ptr<Extension>> {
    if (!c.GetBool("experts.host")) return std::unique_ptr<Extension>();
    SWARM_ASSIGN_OR_RETURN(std::vector<uint32_t> ids, ParseIds(c.GetStringList("experts.ids")));
    if (ids.empty() && !nc.membership) {
      return absl::InvalidArgumentError(
          "experts.ids is empty (host what the ring assigns) but node.membership is off: "
          "set experts.ids or enable membership");
    }
    nn::ExpertHostConfig hc;
    hc.d_model = c.GetInt("experts.d_model");
    hc.hidden = c.GetInt("experts.hidden");
    hc.layers = c.GetInt("experts.layers");
    hc.optimizer = c.GetString("experts.optimizer");
    hc.lr = c.GetDouble("experts.lr");
    hc.momentum = c.GetDouble("experts.momentum");
    hc.grad_clip = c.GetDouble("experts.grad_clip");
    hc.seed = static_cast<uint64_t>(c.GetInt("experts.seed"));
    hc.tokens_max = c.GetInt("experts.tokens_max");
    if (!nc.data_dir.empty()) hc.checkpoint_dir = nc.data_dir + "/experts";
    SWARM_RETURN_IF_ERROR(hc.Validate());
    return std::unique_ptr<Extension>(new ExpertsExtension(
        hc, std::move(ids), Millis(c.GetInt("experts.agreement_interval_ms")),
        Seconds(static_cast<double>(c.GetInt("experts.checkpoint_every"))),
        static_cast<uint64_t>(c.GetInt("experts.message_size_bytes_max"))));
  };
  return f;
}

}  // namespace swarm::node
