#include "node/evo_service.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <prometheus/counter.h>

#include "evo/presets.h"

namespace swarm::node {

StatusOr<std::unique_ptr<EvoEvaluatorService>> EvoEvaluatorService::Create(EvoServiceConfig cfg) {
  if (cfg.capacity < 1) {
    return absl::InvalidArgumentError(absl::StrCat("evo.capacity = ", cfg.capacity, " must be >= 1"));
  }
  std::unique_ptr<EvoEvaluatorService> s(new EvoEvaluatorService(std::move(cfg)));
  for (const auto& name : s->cfg_.tasks) {
    auto task = evo::MakeBuiltinTask(name);
    if (!task.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("evo.tasks contains '", name, "': ", task.status().message()));
    }
    s->tasks_[name] = std::move(*task);
  }
  if (s->tasks_.empty()) return absl::InvalidArgumentError("evo.tasks is empty: offer at least one task");
  s->pool_ = std::make_unique<evo::WorkerPool>(s->cfg_.capacity);
  return s;
}

EvoEvaluatorService::EvoEvaluatorService(EvoServiceConfig cfg) : cfg_(std::move(cfg)) {}

void EvoEvaluatorService::SetMetrics(prometheus::Counter* evaluations, prometheus::Counter* failures) {
  evaluations_metric_ = evaluations;
  failures_metric_ = failures;
}

grpc::Status EvoEvaluatorService::Register(grpc::ServerContext*, const swarm::v1::EvoRegisterRequest*,
                                           swarm::v1::EvoRegisterReply* reply) {
  reply->set_evaluator_id(cfg_.evaluator_id);
  reply->set_capacity(cfg_.capacity);
  for (const auto& [name, task] : tasks_) reply->add_tasks(name);
  reply->set_batch_genomes_max(cfg_.batch_genomes_max);
  return grpc::Status::OK;
}

grpc::Status EvoEvaluatorService::Evaluate(grpc::ServerContext* ctx,
                                           const swarm::v1::EvoEvaluateRequest* req,
                                           swarm::v1::EvoEvaluateReply* reply) {
  ++counters_.requests;
  auto it = tasks_.find(req->task());
  if (it == tasks_.end()) {
    ++counters_.rejected_requests;
    std::string offered;
    for (const auto& [name, t] : tasks_) offered += (offered.empty() ? "" : ", ") + name;
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("task '", req->task(), "' is not offered by evaluator '",
                                     cfg_.evaluator_id, "' (offers: ", offered, ")"));
  }
  if (static_cast<size_t>(req->genomes_size()) > cfg_.batch_genomes_max) {
    ++counters_.rejected_requests;
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("genomes: ", req->genomes_size(), " genomes exceed batch_genomes_max ",
                                     cfg_.batch_genomes_max));
  }
  const evo::Task* task = it->second.get();
  const size_t n = req->genomes_size();
  std::vector<StatusOr<double>> results(n, absl::UnavailableError("not evaluated"));
  std::mutex mu;
  std::condition_variable cv;
  size_t left = n;
  for (size_t i = 0; i < n; ++i) {
    pool_->Submit([&, i] {
      StatusOr<double> r = [&]() -> StatusOr<double> {
        SWARM_ASSIGN_OR_RETURN(evo::Genome g, evo::DecodeGenome(req->genomes(i), cfg_.limits));
        SWARM_ASSIGN_OR_RETURN(double f, task->Evaluate(g));
        return evo::CheckFitness(f, "task");
      }();
      std::lock_guard<std::mutex> lock(mu);
      results[i] = std::move(r);
      if (--left == 0) cv.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return left == 0; });
  }
  if (cfg_.latency > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(cfg_.latency));
  reply->set_request_id(req->request_id());
  uint64_t failed = 0;
  for (auto& r : results) {
    auto* out = reply->add_results();
    if (r.ok()) {
      out->set_ok(true);
      out->set_fitness(cfg_.lie ? 2 * *r + 1 : *r);
    } else {
      ++failed;
      out->set_ok(false);
      out->set_error(r.status().ToString());
    }
  }
  counters_.evaluations += n;
  counters_.failed_evaluations += failed;
  if (evaluations_metric_) evaluations_metric_->Increment(static_cast<double>(n));
  if (failures_metric_ && failed) failures_metric_->Increment(static_cast<double>(failed));
  return grpc::Status::OK;
}

}  // namespace swarm::node
