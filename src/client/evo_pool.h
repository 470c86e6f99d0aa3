// RemoteEvaluatorPool: the coordinator's evo::Evaluator that spreads each
// batch of genomes over remote EvoEvaluator peers (proto/swarm/v1/evo.proto)
// and a local fall-back, following the sans-I/O policy in evo/dispatch.h
// (weighted by free capacity, prefer_local, time-outs, retries, local
// fall-back, spot checks and exclusion of lying evaluators).
//
//   RemoteEvaluatorPool pool(cfg, &task);
//   SWARM_RETURN_IF_ERROR(pool.AddEvaluator("127.0.0.1:7001"));  // Register RPC
//   Island island(neat, &task, seed);
//   island.Step(pool);   // Island / Archipelago use it like any Evaluator
//
// Genomes travel as canonical JSON (evo/genome_codec.h); requests use the
// gRPC callback API, so one driver thread keeps every evaluator busy. Local
// evaluations and spot checks run on `dispatch.local_slots` threads with the
// local Task, which is trusted.
//
// Thread-safety: AddEvaluator, Evaluate/EvaluateBatch and the accessors must
// be called from one thread (the coordinator's). The destructor cancels calls
// still in flight and waits for their callbacks.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "evo/dispatch.h"
#include "evo/task.h"
#include "evo/worker_pool.h"
#include "net/options.h"
#include "swarm/v1/evo.grpc.pb.h"

namespace swarm::node {

struct RemotePoolConfig {
  std::string task;  // name sent to evaluators; each must offer it
  evo::DispatchConfig dispatch;
  net::NetOptions net;
  Nanos register_timeout = Seconds(3);
  std::string coordinator_name = "swarm evolve";
  uint64_t seed = 1;
};

struct EvaluatorInfo {
  std::string address;
  std::string id;  // the evaluator's node.id
  uint32_t capacity = 0;
};

class RemoteEvaluatorPool final : public evo::Evaluator {
 public:
  // `local_task` is not owned and must outlive the pool.
  RemoteEvaluatorPool(RemotePoolConfig cfg, const evo::Task* local_task);
  ~RemoteEvaluatorPool() override;

  // Calls Register on `address`; fails (naming the address) when it cannot be
  // reached, does not offer the task, or accepts fewer genomes per request
  // than dispatch.batch_genomes_max.
  StatusOr<EvaluatorInfo> AddEvaluator(const std::string& address);

  StatusOr<double> Evaluate(const evo::Genome& g) override;
  std::vector<StatusOr<double>> EvaluateBatch(std::span<const evo::Genome* const> genomes) override;

  const evo::DispatchCounters& counters() const { return dispatcher_.counters(); }
  std::vector<evo::EvaluatorView> evaluators() const;
  size_t evaluators_alive() const;  // registered, not excluded, not in cooldown

 private:
  struct Completion {
    enum class Kind { kRemote, kLocal, kCheck } kind;
    uint64_t request_id = 0;
    size_t job = 0;
    StatusOr<double> local = 0.0;
    grpc::Status status;
    swarm::v1::EvoEvaluateReply reply;
  };
  struct Call {
    grpc::ClientContext ctx;
    swarm::v1::EvoEvaluateRequest request;
    swarm::v1::EvoEvaluateReply reply;
  };
  void StartRemote(const evo::Dispatcher::Request& r, const std::vector<std::string>& encoded);
  void StartLocal(Completion::Kind kind, size_t job, const evo::Genome* g);
  void Handle(Completion c, Nanos now);

  RemotePoolConfig cfg_;
  const evo::Task* task_;
  RealClock clock_;
  evo::Dispatcher dispatcher_;
  evo::WorkerPool local_;
  std::map<std::string, std::unique_ptr<swarm::v1::EvoEvaluator::Stub>> stubs_;

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<Completion> done_;
  std::map<uint64_t, std::unique_ptr<Call>> calls_;  // in flight, by request id
};

}  // namespace swarm::node
