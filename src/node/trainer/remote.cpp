#include "node/trainer/remote.h"

#include <chrono>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "node/node.h"
#include "swarm/v1/node.grpc.pb.h"

#if __has_include("node/experts/extension.h") && __has_include("nn/remote_experts.h")
#define SWARM_TRAINER_REMOTE_EXPERTS 1
#include "nn/remote_experts.h"
#endif

namespace swarm::node {

RemoteExperts::~RemoteExperts() {
  stop_ = true;
  if (watcher_.joinable()) watcher_.join();
}

StatusOr<std::unique_ptr<RemoteExperts>> RemoteExperts::Create(Node& node, int64_t num_experts,
                                                               RemoteExpertSettings settings) {
#ifndef SWARM_TRAINER_REMOTE_EXPERTS
  (void)node;
  (void)num_experts;
  (void)settings;
  return absl::UnimplementedError(
      "trainer.experts = \"remote\": this binary was built without the experts extension; use \"local\"");
#else
  if (settings.hosts.empty()) {
    return absl::InvalidArgumentError("trainer.expert_hosts is empty; trainer.experts = \"remote\" needs them");
  }
  std::unique_ptr<RemoteExperts> r(new RemoteExperts());
  r->node_ = &node;
  r->s_ = std::move(settings);
  auto counters = std::make_shared<nn::RemoteExpertCounters>();
  r->counters_ = counters;
  nn::RemoteExpertOptions opts;
  opts.call_deadline = r->s_.call_deadline;
  opts.wire_dtype = r->s_.wire_dtype;
  opts.channel_for = [n = &node](const std::string& a) { return n->ChannelTo(a); };
  SWARM_RETURN_IF_ERROR(opts.Validate());
  RemoteExperts* self = r.get();
  for (int64_t e = 0; e < num_experts; ++e) {
    const auto id = static_cast<uint32_t>(e);
    auto client = nn::MakeGrpcExpertClient(id, [self, id] { return self->Owners(id); }, opts, counters);
    r->backends_.push_back(nn::MakeRemoteExpert(client));
  }
  r->Refresh();
  r->watcher_ = std::thread([self] { self->Watch(); });
  return r;
#endif
}

std::vector<std::string> RemoteExperts::Owners(uint32_t expert) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = owners_.find(expert);
  if (it != owners_.end() && !it->second.empty()) return it->second;
  return s_.hosts;
}

void RemoteExperts::Watch() {
  while (!stop_) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(s_.refresh);
    Refresh();
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

// Asks the hosts in turn for their status; takes the first answer's ring.
bool RemoteExperts::Refresh() {
  for (const auto& host : s_.hosts) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    swarm::v1::InfoRequest req;
    swarm::v1::InfoReply reply;
    auto stub = swarm::v1::Node::NewStub(node_->ChannelTo(host));
    if (!stub->Info(&ctx, req, &reply).ok()) continue;
    auto j = nlohmann::json::parse(reply.status_json(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("ring") || !j.contains("members")) continue;
    std::map<std::string, std::string> address;  // display name -> address
    for (const auto& m : j["members"]) {
      if (m.contains("id") && m.contains("address") && m.value("state", "") != "dead") {
        address[m["id"].get<std::string>()] = m["address"].get<std::string>();
      }
    }
    std::map<uint32_t, std::vector<std::string>> owners;
    const auto& o = j["ring"]["owners"];
    if (!o.is_object()) continue;
    for (const auto& [k, names] : o.items()) {
      uint32_t id = 0;
      try {
        id = static_cast<uint32_t>(std::stoul(k));
      } catch (...) {
        continue;
      }
      for (const auto& n : names) {
        if (!n.is_string()) continue;
        auto it = address.find(n.get<std::string>());
        if (it != address.end()) owners[id].push_back(it->second);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    owners_ = std::move(owners);
    return true;
  }
  return false;
}

std::map<std::string, int64_t> RemoteExperts::Failures() const {
#ifdef SWARM_TRAINER_REMOTE_EXPERTS
  if (auto c = std::static_pointer_cast<nn::RemoteExpertCounters>(counters_)) return c->FailuresByReason();
#endif
  return {};
}

int64_t RemoteExperts::failovers() const {
#ifdef SWARM_TRAINER_REMOTE_EXPERTS
  if (auto c = std::static_pointer_cast<nn::RemoteExpertCounters>(counters_)) return c->failovers.load();
#endif
  return 0;
}

}  // namespace swarm::node
