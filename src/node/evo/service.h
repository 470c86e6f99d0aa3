// The EvoEvaluator gRPC service (proto/swarm/v1/evo.proto): a peer that
// evaluates NEAT genomes for remote coordinators.
//
// Register answers with this evaluator's id, capacity, offered tasks and
// batch limit. Evaluate decodes every genome with the validating decoder
// (evo/genome_codec.h), evaluates them on `capacity` worker threads and
// answers one EvoResult per genome, in order: a bad genome, a genome of the
// wrong shape or a task error is a per-genome error with its reason, never a
// failed call. A request for a task not offered, or with more than
// batch_genomes_max genomes, fails as INVALID_ARGUMENT naming the field.
//
// IslandStep hosts islands for a coordinator (`swarm evolve --remote-islands`),
// keyed by (caller, run_id, island): one caller can neither step nor evict
// another caller's island. Sizes are bounded before anything is allocated:
// population_size <= island_population_max, genome_nodes_max /
// genome_connections_max within the genome decoder's limits, emigrants <=
// population. A caller holds at most islands_per_caller_max islands (its own
// least recently used one is dropped beyond); the peer holds at most
// islands_max, and when full a new island may only replace another caller's
// island idle for island_idle_evict; otherwise RESOURCE_EXHAUSTED. Each island
// steps under its own lock and evaluates on the same worker threads. Bad
// sizes, overrides, immigrants or run ids are INVALID_ARGUMENT naming the
// field and the value. The gRPC method passes the caller from the call guard
// (node/call_guard.h); the core method takes it as a parameter.
//
// Test and benchmark knobs: `latency` is slept once per Evaluate request
// (simulated remote latency); `lie` makes this a Byzantine evaluator that
// reports 2 f + 1 instead of f (the coordinator's spot checks must catch it).
//
// Thread-safety: gRPC calls may arrive concurrently; counters are atomic.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "net/server_auth.h"
#include "common/clock.h"
#include "crypto/identity.h"
#include "evo/genome_codec.h"
#include "evo/island.h"
#include "evo/task.h"
#include "evo_runtime/worker_pool.h"
#include "swarm/v1/evo.grpc.pb.h"

namespace prometheus {
class Counter;
}

namespace swarm::node {

struct EvoServiceConfig {
  std::string evaluator_id;
  uint32_t capacity = 1;
  std::vector<std::string> tasks = {"xor", "single-pole", "double-pole", "double-pole-nv"};
  uint32_t batch_genomes_max = 256;
  uint32_t islands_max = 32;
  uint32_t islands_per_caller_max = 8;
  uint32_t island_population_max = 1000;
  Nanos island_idle_evict = Seconds(600);
  Nanos latency = 0;
  bool lie = false;
  evo::GenomeLimits limits;
};

struct EvoServiceCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> rejected_requests{0};
  std::atomic<uint64_t> evaluations{0};
  std::atomic<uint64_t> failed_evaluations{0};
};

class EvoEvaluatorService final : public swarm::v1::EvoEvaluator::Service, public net::GuardedService {
 public:
  // Builds the offered tasks; an unknown task name is an InvalidArgument
  // naming evo.tasks and the value.
  static StatusOr<std::unique_ptr<EvoEvaluatorService>> Create(EvoServiceConfig cfg);

  // Optional Prometheus counters incremented as evaluations happen (not owned).
  void SetMetrics(prometheus::Counter* evaluations, prometheus::Counter* failures);
  // Runs with the reason of each refused IslandStep (invalid_argument,
  // rate_limited): swarm_rejected_calls_total{service="evo",reason}.
  void SetOnRefused(std::function<void(const std::string&)> fn) { on_refused_ = std::move(fn); }

  grpc::Status Register(grpc::ServerContext*, const swarm::v1::EvoRegisterRequest*,
                        swarm::v1::EvoRegisterReply*) override;
  grpc::Status Evaluate(grpc::ServerContext*, const swarm::v1::EvoEvaluateRequest*,
                        swarm::v1::EvoEvaluateReply*) override;
  grpc::Status IslandStep(grpc::ServerContext*, const swarm::v1::EvoIslandStepRequest*,
                          swarm::v1::EvoIslandStepReply*) override;
  // The core of IslandStep for an authenticated `caller`.
  grpc::Status IslandStepFor(const crypto::PeerIdBytes& caller, const swarm::v1::EvoIslandStepRequest& req,
                             swarm::v1::EvoIslandStepReply* reply);
  size_t hosted_islands();

  const EvoServiceConfig& config() const { return cfg_; }
  const EvoServiceCounters& counters() const { return counters_; }

 private:
  explicit EvoEvaluatorService(EvoServiceConfig cfg);
  EvoServiceConfig cfg_;
  std::map<std::string, std::unique_ptr<evo::Task>> tasks_;
  std::unique_ptr<evo::WorkerPool> pool_;
  struct Hosted {
    std::mutex mu;  // one step at a time per island
    std::unique_ptr<evo::Island> island;
    std::unique_ptr<evo::ParallelEvaluator> evaluator;
    uint64_t last_used = 0;
    crypto::PeerIdBytes owner{};
    std::chrono::steady_clock::time_point last_step{};
  };
  std::mutex islands_mu_;
  std::map<std::string, std::shared_ptr<Hosted>> islands_;  // "run_id/island"
  uint64_t use_clock_ = 0;
  EvoServiceCounters counters_;
  prometheus::Counter* evaluations_metric_ = nullptr;
  prometheus::Counter* failures_metric_ = nullptr;
  std::function<void(const std::string&)> on_refused_;
};

}  // namespace swarm::node
