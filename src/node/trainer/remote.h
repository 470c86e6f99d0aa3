// Remote experts for a trainer peer (trainer.experts = "remote"): one
// nn::ExpertBackend per expert id, each an nn::MakeGrpcExpertClient whose
// owners come from the expert hosts' ring.
//
// Trainers do not join the hosts' membership (they would otherwise be placed
// on the ring and own experts they do not host). Instead a watcher thread asks
// one of trainer.expert_hosts for its status every `refresh` (Node.Info) and
// keeps the ring owners (expert id -> host addresses, primary first) and the
// members it reports alive. owners(e) is that list; before any host answered,
// or for an expert the ring has no owner for, it is every configured host.
// Thread-safety: owners() and counters are thread-safe; the watcher stops
// when the RemoteExperts object is destroyed.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "nn/expert.h"

namespace swarm::node {

class Node;

struct RemoteExpertSettings {
  std::vector<std::string> hosts;  // trainer.expert_hosts
  Nanos call_deadline = Millis(2000);
  Nanos refresh = Millis(500);
  std::string wire_dtype = "f32";
};

class RemoteExperts {
 public:
  ~RemoteExperts();
  // Unimplemented when the binary has no remote expert client (experts
  // extension not built); InvalidArgument when hosts is empty.
  static StatusOr<std::unique_ptr<RemoteExperts>> Create(Node& node, int64_t num_experts,
                                                         RemoteExpertSettings settings);
  const std::vector<std::shared_ptr<nn::ExpertBackend>>& backends() const { return backends_; }
  std::vector<std::string> Owners(uint32_t expert) const;
  // Expert call failures by reason, summed over experts.
  std::map<std::string, int64_t> Failures() const;
  int64_t failovers() const;

 private:
  RemoteExperts() = default;
  void Watch();
  bool Refresh();

  Node* node_ = nullptr;
  RemoteExpertSettings s_;
  std::vector<std::shared_ptr<nn::ExpertBackend>> backends_;
  std::shared_ptr<void> counters_;  // nn::RemoteExpertCounters when built
  mutable std::mutex mu_;
  std::map<uint32_t, std::vector<std::string>> owners_;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace swarm::node
