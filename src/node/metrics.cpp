#include "node/metrics.h"

#include <prometheus/text_serializer.h>

namespace swarm::node {
Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      rpc_requests(prometheus::BuildCounter()
                       .Name("swarm_rpc_requests_total")
                       .Help("gRPC requests served, by method")
                       .Register(*registry_)),
      rejected_messages(prometheus::BuildCounter()
                            .Name("swarm_rejected_messages_total")
                            .Help("Peer messages dropped, by reason (malformed, oversized, forged, replayed, ...)")
                            .Register(*registry_)),
      rejected_calls(prometheus::BuildCounter()
                         .Name("swarm_rejected_calls_total")
                         .Help("Calls refused, by service and reason (unauthenticated, oversized, rate_limited, ...)")
                         .Register(*registry_)) {}

void Metrics::AddScrapeHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hooks_.push_back(std::move(hook));
}

std::string Metrics::Render() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& h : hooks_) h();
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace swarm::node
