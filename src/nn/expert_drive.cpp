#include "nn/expert_drive.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <grpcpp/grpcpp.h>

#include "common/rng.h"
#include "swarm/v1/node.grpc.pb.h"

namespace swarm::nn {
namespace {

// Ring owners refreshed in the background from Node.Info.
class RingWatcher {
 public:
  RingWatcher(std::vector<std::string> peers, Nanos period)
      : peers_(std::move(peers)), period_(period) {}
  ~RingWatcher() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool RefreshOnce() {
    for (const auto& p : peers_) {
      auto ch = MakeExpertChannel(p, 16 << 20);
      auto stub = swarm::v1::Node::NewStub(ch);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      swarm::v1::InfoReply reply;
      if (!stub->Info(&ctx, swarm::v1::InfoRequest{}, &reply).ok()) continue;
      auto j = nlohmann::json::parse(reply.status_json(), nullptr, false);
      if (j.is_discarded()) continue;
      auto owners = OwnersFromStatus(j);
      if (owners.empty()) continue;
      std::lock_guard<std::mutex> lock(mu_);
      owners_ = std::move(owners);
      return true;
    }
    return false;
  }
  void Start() {
    thread_ = std::thread([this] {
      while (!stop_) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(period_);
        while (!stop_ && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (!stop_) RefreshOnce();
      }
    });
  }
  std::vector<std::string> Owners(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owners_.find(id);
    return it == owners_.end() ? std::vector<std::string>{} : it->second;
  }

 private:
  const std::vector<std::string> peers_;
  const Nanos period_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<uint32_t, std::vector<std::string>> owners_;
  std::thread thread_;
};

HostTensor RandomTokens(Rng& rng, int64_t rows, int64_t cols) {
  HostTensor t;
  t.shape = {rows, cols};
  t.data.resize(static_cast<size_t>(rows * cols));
  for (auto& v : t.data) v = static_cast<float>(rng.Normal());
  return t;
}

}  // namespace

Status DriveOptions::Validate() const {
  if (peers.empty()) return absl::InvalidArgumentError("drive: no peer to ask for the ring (--peer)");
  if (experts.empty()) return absl::InvalidArgumentError("drive: no expert ids (--experts)");
  if (d_model < 1 || d_model > (1 << 16)) {
    return absl::InvalidArgumentError(absl::StrCat("drive: d_model = ", d_model, " out of [1, 65536]"));
  }
  if (batch < 1 || batch > (1 << 20)) {
    return absl::InvalidArgumentError(absl::StrCat("drive: batch = ", batch, " out of [1, 1048576]"));
  }
  if (steps < 0 || (steps == 0 && !(seconds > 0))) {
    return absl::InvalidArgumentError(
        absl::StrCat("drive: steps = ", steps, " and seconds = ", seconds, ": give one of them > 0"));
  }
  return remote.Validate();
}

nlohmann::json DriveReport::ToJson() const {
  return {{"steps", steps},
          {"expert_steps", expert_steps},
          {"masked", masked},
          {"backward_failed", backward_failed},
          {"max_consecutive_masked", max_consecutive_masked},
          {"failovers", failovers},
          {"failures", failures},
          {"loss_first", loss_first},
          {"loss_last", loss_last},
          {"seconds", seconds},
          {"tokens_per_second", tokens_per_second}};
}

std::map<uint32_t, std::vector<std::string>> OwnersFromStatus(const nlohmann::json& j) {
  std::map<uint32_t, std::vector<std::string>> out;
  if (!j.is_object() || !j.contains("members") || !j.contains("ring")) return out;
  std::map<std::string, std::string> address;
  for (const auto& m : j["members"]) {
    if (!m.is_object() || !m.contains("id") || !m.contains("address")) continue;
    if (!m["id"].is_string() || !m["address"].is_string()) continue;
    const std::string state = m.value("state", "");
    if (state == "dead" || state == "left") continue;
    address[m["id"].get<std::string>()] = m["address"].get<std::string>();
  }
  const auto& ring = j["ring"];
  if (!ring.is_object() || !ring.contains("owners") || !ring["owners"].is_object()) return out;
  for (const auto& [k, names] : ring["owners"].items()) {
    uint32_t id = 0;
    auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), id);
    if (ec != std::errc() || p != k.data() + k.size() || !names.is_array()) continue;
    for (const auto& n : names) {
      if (!n.is_string()) continue;
      auto it = address.find(n.get<std::string>());
      if (it != address.end()) out[id].push_back(it->second);
    }
  }
  return out;
}

StatusOr<DriveReport> DriveExperts(const DriveOptions& o) {
  SWARM_RETURN_IF_ERROR(o.Validate());
  RingWatcher ring(o.peers, o.refresh);
  if (!ring.RefreshOnce()) {
    return absl::UnavailableError(absl::StrCat("drive: no peer among ", o.peers.size(),
                                               " answered Node.Info with a ring (is membership on?)"));
  }
  ring.Start();
  auto counters = std::make_shared<RemoteExpertCounters>();
  const size_t E = o.experts.size();
  // Each drive step is a training round (hosts with experts.update = round
  // apply one step per round); the caller's name is unique per process.
  auto round = std::make_shared<std::atomic<uint64_t>>(0);
  RemoteExpertOptions remote = o.remote;
  if (!remote.round) remote.round = [round] { return round->load(); };
  if (remote.trainer.empty()) {
    remote.trainer = absl::StrCat(o.rogue_grad != 0 ? "rogue-" : "drive-", getpid(), "-", o.seed);
  }
  std::vector<std::shared_ptr<ExpertClient>> clients;
  for (uint32_t id : o.experts) {
    clients.push_back(MakeGrpcExpertClient(
        id, [&ring, id] { return ring.Owners(id); }, remote, counters));
  }
  DriveReport r;
  std::vector<int64_t> run(E, 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  Rng seed_rng(o.seed);
  while ((o.steps == 0 || r.steps < o.steps) && (o.seconds <= 0 || elapsed() < o.seconds)) {
    // Each expert's step runs on its own thread, like the MoE layer's dispatch.
    struct Outcome {
      bool masked = false, backward_ok = false;
      double loss = 0;
    };
    std::vector<std::future<Outcome>> pending;
    round->store(static_cast<uint64_t>(r.steps) + 1);
    for (size_t e = 0; e < E; ++e) {
      const uint64_t s = seed_rng.Next();
      pending.push_back(std::async(std::launch::async, [&, e, s] {
        Outcome out;
        Rng rng(s);
        const HostTensor x = RandomTokens(rng, o.batch, o.d_model);
        auto y = clients[e]->Forward(x);
        if (!y.ok()) {
          out.masked = true;
          return out;
        }
        // loss = mean((y + x)^2): the expert learns y = -x.
        HostTensor g;
        g.shape = x.shape;
        g.data.resize(x.data.size());
        const double n = static_cast<double>(x.data.size());
        for (size_t i = 0; i < x.data.size(); ++i) {
          const double d = static_cast<double>(y->data[i]) + x.data[i];
          out.loss += d * d / n;
          g.data[i] = static_cast<float>(2.0 * d / n);
        }
        if (o.rogue_grad != 0) std::fill(g.data.begin(), g.data.end(), static_cast<float>(o.rogue_grad));
        out.backward_ok = clients[e]->Backward(x, g).ok();
        return out;
      }));
    }
    double loss = 0;
    int answered = 0;
    for (size_t e = 0; e < E; ++e) {
      const Outcome out = pending[e].get();
      ++r.expert_steps;
      if (out.masked) {
        ++r.masked;
        r.max_consecutive_masked = std::max(r.max_consecutive_masked, ++run[e]);
        continue;
      }
      run[e] = 0;
      if (!out.backward_ok) ++r.backward_failed;
      loss += out.loss;
      ++answered;
    }
    if (answered > 0) {
      if (r.steps == 0 || r.loss_first == 0) r.loss_first = loss / answered;
      r.loss_last = loss / answered;
    }
    ++r.steps;
  }
  r.seconds = elapsed();
  r.failovers = counters->failovers.load();
  r.failures = counters->FailuresByReason();
  const double tokens = static_cast<double>((r.expert_steps - r.masked) * o.batch);
  r.tokens_per_second = r.seconds > 0 ? tokens / r.seconds : 0;
  return r;
}

}  // namespace swarm::nn
