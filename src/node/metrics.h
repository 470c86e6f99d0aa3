// The peer's Prometheus registry. Modules keep plain counters; the node turns
// them into metric families. Scrape hooks run before each /metrics render so
// gauges mirror protocol state at scrape time.
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace swarm::node {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  prometheus::Registry& registry() { return *registry_; }
  // Adds a function run (under a lock) before each scrape.
  void AddScrapeHook(std::function<void()> hook);
  // Prometheus text exposition format (version 0.0.4).
  std::string Render();

  // Declared first: the families below are registered in it.
 private:
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  // Families shared by several modules.
  prometheus::Family<prometheus::Counter>& rpc_requests;  // swarm_rpc_requests_total{method}
  prometheus::Family<prometheus::Counter>& rejected_messages;  // swarm_rejected_messages_total{reason}
  // swarm_rejected_calls_total{service,reason}: calls refused by a guard or a limit.
  prometheus::Family<prometheus::Counter>& rejected_calls;

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> hooks_;
};

}  // namespace swarm::node
