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
// IslandStep hosts islands for a coordinator (`swarm evolve --remote-islands`):
// at most islands_max per peer (the least recently used is dropped beyond),
// keyed by (run_id, island); each island steps under its own lock and
// evaluates on the same worker threads. Bad overrides, immigrants or run ids
// are INVALID_ARGUMENT naming the field.
//
// Test and benchmark knobs: `latency` is slept once per Evaluate request
// (simulated remote latency); `lie` makes this a Byzantine evaluator that
// reports 2 f + 1 instead of f (the coordinator's spot checks must catch it).
//
// Thread-safety: gRPC calls may arrive concurrently; counters are atomic.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include "net/server_auth.h"
#include "common/clock.h"
#include "evo/genome_codec.h"
#include "evo/island.h"
#include "evo/task.h"
#include "evo/worker_pool.h"
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
  uint32_t islands_max = 16;
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

  grpc::Status Register(grpc::ServerContext*, const swarm::v1::EvoRegisterRequest*,
                        swarm::v1::EvoRegisterReply*) override;
  grpc::Status Evaluate(grpc::ServerContext*, const swarm::v1::EvoEvaluateRequest*,
                        swarm::v1::EvoEvaluateReply*) override;
  grpc::Status IslandStep(grpc::ServerContext*, const swarm::v1::EvoIslandStepRequest*,
                          swarm::v1::EvoIslandStepReply*) override;
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
  };
  std::mutex islands_mu_;
  std::map<std::string, std::shared_ptr<Hosted>> islands_;  // "run_id/island"
  uint64_t use_clock_ = 0;
  EvoServiceCounters counters_;
  prometheus::Counter* evaluations_metric_ = nullptr;
  prometheus::Counter* failures_metric_ = nullptr;
};

}  // namespace swarm::node
