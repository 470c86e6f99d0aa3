#include "node/evo/service.h"

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

grpc::Status EvoEvaluatorService::Register(grpc::ServerContext* ctx, const swarm::v1::EvoRegisterRequest* req,
                                           swarm::v1::EvoRegisterReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "EvoEvaluator.Register", *req);
  reply->set_evaluator_id(cfg_.evaluator_id);
  reply->set_capacity(cfg_.capacity);
  for (const auto& [name, task] : tasks_) reply->add_tasks(name);
  reply->set_batch_genomes_max(cfg_.batch_genomes_max);
  return grpc::Status::OK;
}

grpc::Status EvoEvaluatorService::Evaluate(grpc::ServerContext* ctx,
                                           const swarm::v1::EvoEvaluateRequest* req,
                                           swarm::v1::EvoEvaluateReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "EvoEvaluator.Evaluate", *req);
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

size_t EvoEvaluatorService::hosted_islands() {
  std::lock_guard<std::mutex> lock(islands_mu_);
  return islands_.size();
}

grpc::Status EvoEvaluatorService::IslandStep(grpc::ServerContext* ctx,
                                             const swarm::v1::EvoIslandStepRequest* req,
                                             swarm::v1::EvoIslandStepReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "EvoEvaluator.IslandStep", *req);
  return IslandStepFor(caller.peer, *req, reply);
}

grpc::Status EvoEvaluatorService::IslandStepFor(const crypto::PeerIdBytes& caller,
                                                const swarm::v1::EvoIslandStepRequest& request,
                                                swarm::v1::EvoIslandStepReply* reply) {
  const auto* req = &request;
  ++counters_.requests;
  auto bad = [this](const std::string& msg) {
    ++counters_.rejected_requests;
    if (on_refused_) on_refused_("invalid_argument");
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, msg);
  };
  constexpr size_t kRunIdBytesMax = 64, kOverridesMax = 64, kEmigrantsMax = 1000;
  if (req->run_id().empty() || req->run_id().size() > kRunIdBytesMax)
    return bad(absl::StrCat("run_id must be 1..", kRunIdBytesMax, " bytes, got ", req->run_id().size()));
  auto it = tasks_.find(req->task());
  if (it == tasks_.end()) return bad(absl::StrCat("task '", req->task(), "' is not offered by evaluator '", cfg_.evaluator_id, "'"));
  if (req->neat_overrides_size() > static_cast<int>(kOverridesMax))
    return bad(absl::StrCat("neat_overrides: ", req->neat_overrides_size(), " exceed ", kOverridesMax));
  if (req->emigrants() > kEmigrantsMax) return bad(absl::StrCat("emigrants = ", req->emigrants(), " exceeds ", kEmigrantsMax));
  if (static_cast<size_t>(req->immigrants_size()) > cfg_.batch_genomes_max)
    return bad(absl::StrCat("immigrants: ", req->immigrants_size(), " exceed batch_genomes_max ", cfg_.batch_genomes_max));
  std::vector<evo::Genome> immigrants;
  for (int i = 0; i < req->immigrants_size(); ++i) {
    auto g = evo::DecodeGenome(req->immigrants(i), cfg_.limits);
    if (!g.ok()) return bad(absl::StrCat("immigrants[", i, "]: ", g.status().message()));
    immigrants.push_back(std::move(*g));
  }
  const std::string key = absl::StrCat(ToHex(ByteSpan(caller.data(), caller.size())), "/", req->run_id(), "/", req->island());
  const auto now = std::chrono::steady_clock::now();
  std::shared_ptr<Hosted> h;
  {
    std::lock_guard<std::mutex> lock(islands_mu_);
    auto found = islands_.find(key);
    if (found == islands_.end()) {
      auto neat = evo::PresetConfig(req->task());
      if (!neat.ok()) return bad(std::string(neat.status().message()));
      for (int i = 0; i < req->neat_overrides_size(); ++i) {
        if (auto st = evo::ApplyNeatOverride(*neat, req->neat_overrides(i)); !st.ok())
          return bad(absl::StrCat("neat_overrides[", i, "]: ", st.message()));
      }
      if (neat->population_size > cfg_.island_population_max) {
        return bad(absl::StrCat("population_size = ", neat->population_size, " exceeds island_population_max = ",
                                cfg_.island_population_max));
      }
      if (neat->genome_nodes_max > cfg_.limits.hidden_max + cfg_.limits.inputs_max + cfg_.limits.outputs_max) {
        return bad(absl::StrCat("genome_nodes_max = ", neat->genome_nodes_max, " exceeds this evaluator's limit ",
                                cfg_.limits.hidden_max + cfg_.limits.inputs_max + cfg_.limits.outputs_max));
      }
      if (neat->genome_connections_max > cfg_.limits.connections_max) {
        return bad(absl::StrCat("genome_connections_max = ", neat->genome_connections_max,
                                " exceeds this evaluator's limit ", cfg_.limits.connections_max));
      }
      if (req->emigrants() > neat->population_size) {
        return bad(absl::StrCat("emigrants = ", req->emigrants(), " exceeds population_size = ",
                                neat->population_size));
      }
      // The caller's own islands first: beyond its quota its least recently
      // used one goes. Another caller's island goes only when idle.
      auto lru_of = [&](auto pred) {
        auto best = islands_.end();
        for (auto j = islands_.begin(); j != islands_.end(); ++j) {
          if (pred(*j->second) && (best == islands_.end() || j->second->last_used < best->second->last_used)) best = j;
        }
        return best;
      };
      size_t own = 0;
      for (const auto& [k, v] : islands_) own += v->owner == caller;
      if (own >= cfg_.islands_per_caller_max) {
        islands_.erase(lru_of([&](const Hosted& x) { return x.owner == caller; }));
      } else if (islands_.size() >= cfg_.islands_max) {
        auto idle = lru_of([&](const Hosted& x) {
          return x.owner == caller || now - x.last_step >= std::chrono::nanoseconds(cfg_.island_idle_evict);
        });
        if (idle == islands_.end()) {
          ++counters_.rejected_requests;
          if (on_refused_) on_refused_("rate_limited");
          return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              absl::StrCat("islands_max = ", cfg_.islands_max,
                                           " islands are hosted and none is idle; other callers' islands are not evicted"));
        }
        islands_.erase(idle);
      }
      h = std::make_shared<Hosted>();
      h->owner = caller;
      h->island = std::make_unique<evo::Island>(*neat, it->second.get(), req->seed());
      h->evaluator = std::make_unique<evo::ParallelEvaluator>(it->second.get(), pool_.get());
      islands_[key] = h;
    } else {
      h = found->second;
    }
    h->last_used = ++use_clock_;
    h->last_step = now;
  }
  std::lock_guard<std::mutex> step_lock(h->mu);
  if (!immigrants.empty()) {
    if (auto st = h->island->Immigrate(immigrants); !st.ok()) return bad(absl::StrCat("immigrants: ", st.message()));
  }
  const uint64_t before = h->island->evaluations();
  auto stats = h->island->Step(*h->evaluator);
  if (!stats.ok()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(stats.status().message()));
  if (cfg_.latency > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(cfg_.latency));
  const uint64_t n = h->island->evaluations() - before;
  counters_.evaluations += n;
  if (evaluations_metric_) evaluations_metric_->Increment(static_cast<double>(n));
  reply->set_generation(stats->generation);
  reply->set_best_fitness(cfg_.lie ? 2 * stats->best_fitness + 1 : stats->best_fitness);
  reply->set_mean_fitness(stats->mean_fitness);
  reply->set_species(static_cast<uint32_t>(stats->species));
  reply->set_evaluations(h->island->evaluations());
  reply->set_solved(stats->solved || cfg_.lie);
  for (const auto& s : h->island->Best(req->emigrants())) reply->add_emigrants(evo::EncodeGenome(s.genome));
  if (const auto& c = h->island->champion()) {
    reply->set_champion(evo::EncodeGenome(c->genome));
    reply->set_champion_fitness(cfg_.lie ? 2 * c->fitness + 1 : c->fitness);
  }
  return grpc::Status::OK;
}

}  // namespace swarm::node
