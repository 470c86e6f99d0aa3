#include "evo/dispatch.h"

#include <algorithm>
#include <cmath>

namespace swarm::evo {

Status DispatchConfig::Validate() const {
  auto bad = [](const char* key, double v, const char* allowed) {
    return absl::InvalidArgumentError(absl::StrCat("dispatch '", key, "' = ", v, " ", allowed));
  };
  if (!(prefer_local >= 0 && prefer_local <= 1)) return bad("prefer_local", prefer_local, "is not in [0, 1]");
  if (!(spot_check_fraction >= 0 && spot_check_fraction <= 1))
    return bad("spot_check_fraction", spot_check_fraction, "is not in [0, 1]");
  if (!(spot_check_tolerance >= 0)) return bad("spot_check_tolerance", spot_check_tolerance, "is negative");
  if (evaluation_timeout <= 0) return bad("evaluation_timeout", ToSeconds(evaluation_timeout), "must be > 0 s");
  if (local_slots < 1) return bad("local_slots", local_slots, "must be >= 1");
  if (pipeline_depth < 1) return bad("pipeline_depth", pipeline_depth, "must be >= 1");
  if (batch_genomes_max < 1) return bad("batch_genomes_max", batch_genomes_max, "must be >= 1");
  if (failures_to_down < 1) return bad("failures_to_down", failures_to_down, "must be >= 1");
  return absl::OkStatus();
}

Dispatcher::Dispatcher(DispatchConfig cfg, uint64_t seed) : cfg_(cfg), rng_(seed) {
  SWARM_ASSERT(cfg_.Validate().ok());
}

Status Dispatcher::AddEvaluator(const std::string& id, uint32_t capacity) {
  if (capacity < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("evaluator '", id, "' capacity = ", capacity, " must be >= 1"));
  }
  evaluators_[id].capacity = capacity;
  return absl::OkStatus();
}

void Dispatcher::RemoveEvaluator(const std::string& id, Nanos now) {
  std::vector<uint64_t> ids;
  for (const auto& [rid, r] : requests_)
    if (r.evaluator == id) ids.push_back(rid);
  for (uint64_t rid : ids) FailRequest(rid, now);
  evaluators_.erase(id);
}

void Dispatcher::StartBatch(size_t jobs, Nanos now) {
  SWARM_ASSERT(done());
  jobs_.assign(jobs, Job{});
  done_jobs_ = 0;
}

bool Dispatcher::Usable(const Evaluator& e, Nanos now) const {
  return !e.excluded && e.down_until <= now;
}

uint32_t Dispatcher::Free(const Evaluator& e) const {
  const uint32_t limit = e.capacity * cfg_.pipeline_depth;
  return e.in_flight >= limit ? 0 : limit - e.in_flight;
}

size_t Dispatcher::usable_evaluators(Nanos now) const {
  size_t n = 0;
  for (const auto& [id, e] : evaluators_) n += Usable(e, now);
  return n;
}

Dispatcher::Work Dispatcher::Poll(Nanos now) {
  Work work;
  // Time-outs first, so their jobs are re-dispatched in this same poll.
  std::vector<uint64_t> expired;
  for (const auto& [rid, r] : requests_)
    if (r.deadline <= now) expired.push_back(rid);
  for (uint64_t rid : expired) {
    ++counters_.timeouts;
    FailRequest(rid, now);
  }
  work.checks = std::move(checks_to_start_);
  checks_to_start_.clear();

  std::map<std::string, std::vector<size_t>> assigned;
  const bool any_usable = usable_evaluators(now) > 0;
  for (size_t j = 0; j < jobs_.size(); ++j) {
    Job& job = jobs_[j];
    if (job.state != JobState::kPending) continue;
    const bool local_free = local_in_flight_ < cfg_.local_slots;
    const bool fallback = !any_usable || job.attempts > cfg_.retries;
    if (fallback || (local_free && cfg_.prefer_local > 0 && rng_.Bernoulli(cfg_.prefer_local))) {
      if (!local_free) continue;  // wait for a local slot
      if (fallback) ++counters_.fallback_local;
      job.state = JobState::kLocal;
      ++local_in_flight_;
      work.local.push_back(j);
      continue;
    }
    // Weighted by free capacity, avoiding the evaluator that just failed this job.
    std::vector<std::pair<const std::string*, uint32_t>> cands;
    uint64_t total = 0, total_other = 0;
    for (auto& [id, e] : evaluators_) {
      if (!Usable(e, now)) continue;
      const uint32_t f = Free(e);
      if (f == 0) continue;
      cands.push_back({&id, f});
      total += f;
      if (id != job.last_evaluator) total_other += f;
    }
    if (cands.empty()) continue;  // everyone busy: wait
    const bool avoid = total_other > 0 && total_other < total;
    uint64_t pick = rng_.Uniform(avoid ? total_other : total);
    const std::string* chosen = nullptr;
    for (const auto& [id, f] : cands) {
      if (avoid && *id == job.last_evaluator) continue;
      if (pick < f) {
        chosen = id;
        break;
      }
      pick -= f;
    }
    SWARM_ASSERT(chosen != nullptr);
    Evaluator& e = evaluators_[*chosen];
    ++e.in_flight;
    job.state = JobState::kRemote;
    job.last_evaluator = *chosen;
    assigned[*chosen].push_back(j);
  }
  for (auto& [id, js] : assigned) {
    for (size_t off = 0; off < js.size(); off += cfg_.batch_genomes_max) {
      Request r;
      r.id = next_request_id_++;
      r.evaluator = id;
      r.deadline = now + cfg_.evaluation_timeout;
      r.jobs.assign(js.begin() + off, js.begin() + std::min(js.size(), off + cfg_.batch_genomes_max));
      requests_[r.id] = r;
      ++counters_.requests_sent;
      work.remote.push_back(std::move(r));
    }
  }
  return work;
}

void Dispatcher::FailJob(size_t job, const std::string& evaluator) {
  Job& j = jobs_[job];
  ++counters_.failed_evaluations;
  ++j.attempts;
  j.last_evaluator = evaluator;
  j.state = JobState::kPending;
}

void Dispatcher::FailRequest(uint64_t request_id, Nanos now) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;
  Request r = std::move(it->second);
  requests_.erase(it);
  ++counters_.request_failures;
  auto e = evaluators_.find(r.evaluator);
  if (e != evaluators_.end()) {
    e->second.in_flight -= std::min<uint32_t>(e->second.in_flight, r.jobs.size());
    if (++e->second.consecutive_failures >= cfg_.failures_to_down) {
      e->second.down_until = now + cfg_.down_cooldown;
      e->second.consecutive_failures = 0;
    }
  }
  for (size_t j : r.jobs)
    if (jobs_[j].state == JobState::kRemote) FailJob(j, r.evaluator);
}

void Dispatcher::OnRemoteReply(uint64_t request_id, const std::vector<StatusOr<double>>& results,
                               Nanos now) {
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return;  // timed out or excluded: ignore
  if (results.size() != it->second.jobs.size()) {
    FailRequest(request_id, now);
    return;
  }
  Request r = std::move(it->second);
  requests_.erase(it);
  Evaluator& e = evaluators_[r.evaluator];
  e.in_flight -= std::min<uint32_t>(e.in_flight, r.jobs.size());
  e.consecutive_failures = 0;
  for (size_t k = 0; k < r.jobs.size(); ++k) {
    const size_t j = r.jobs[k];
    Job& job = jobs_[j];
    if (job.state != JobState::kRemote) continue;
    const StatusOr<double>& res = results[k];
    if (!res.ok() || !std::isfinite(*res)) {
      if (res.ok()) ++counters_.non_finite;
      FailJob(j, r.evaluator);
      continue;
    }
    if (cfg_.deterministic && cfg_.spot_check_fraction > 0 &&
        rng_.Bernoulli(cfg_.spot_check_fraction)) {
      job.state = JobState::kChecking;
      job.remote_fitness = *res;
      checks_to_start_.push_back(j);
      continue;
    }
    job.result = *res;
    job.state = JobState::kDone;
    ++done_jobs_;
    ++e.results;
    ++counters_.remote_results;
  }
}

void Dispatcher::OnRemoteFailure(uint64_t request_id, const Status& why, Nanos now) {
  FailRequest(request_id, now);
}

void Dispatcher::OnLocalResult(size_t job, const StatusOr<double>& result) {
  if (job >= jobs_.size() || jobs_[job].state != JobState::kLocal) return;
  Job& j = jobs_[job];
  --local_in_flight_;
  j.result = result;
  if (result.ok() && !std::isfinite(*result)) {
    ++counters_.non_finite;
    j.result = absl::DataLossError(absl::StrCat("local evaluation returned non-finite fitness ", *result));
  }
  if (!j.result.ok()) ++counters_.failed_evaluations;
  j.state = JobState::kDone;
  j.last_evaluator.clear();
  ++done_jobs_;
  ++counters_.local_results;
}

void Dispatcher::OnCheckResult(size_t job, const StatusOr<double>& result) {
  if (job >= jobs_.size() || jobs_[job].state != JobState::kChecking) return;
  Job& j = jobs_[job];
  ++counters_.spot_checks;
  j.state = JobState::kDone;
  ++done_jobs_;
  if (!result.ok() || !std::isfinite(*result)) {
    // The local evaluation could not run: keep its failure, blame nobody.
    j.result = result.ok() ? StatusOr<double>(absl::DataLossError("non-finite local check")) : result;
    ++counters_.failed_evaluations;
    return;
  }
  const double a = j.remote_fitness, b = *result;
  const double scale = std::max({1.0, std::fabs(a), std::fabs(b)});
  auto e = evaluators_.find(j.last_evaluator);
  if (std::fabs(a - b) <= cfg_.spot_check_tolerance * scale) {
    j.result = a;
    ++counters_.remote_results;
    if (e != evaluators_.end()) ++e->second.results;
    return;
  }
  ++counters_.spot_check_mismatches;
  j.result = b;  // the local value is trusted
  ++counters_.local_results;
  const std::string blamed = j.last_evaluator;
  j.last_evaluator.clear();
  if (e != evaluators_.end() && !e->second.excluded) Exclude(blamed);
}

void Dispatcher::Exclude(const std::string& id) {
  Evaluator& e = evaluators_[id];
  e.excluded = true;
  ++counters_.exclusions;
  std::vector<uint64_t> ids;
  for (const auto& [rid, r] : requests_)
    if (r.evaluator == id) ids.push_back(rid);
  for (uint64_t rid : ids) {
    for (size_t j : requests_[rid].jobs)
      if (jobs_[j].state == JobState::kRemote) jobs_[j].state = JobState::kPending;
    requests_.erase(rid);
  }
  e.in_flight = 0;
  // Its accepted results of this batch are no longer believed.
  for (auto& job : jobs_) {
    if (job.state == JobState::kDone && job.last_evaluator == id && job.result.ok()) {
      job.state = JobState::kPending;
      job.result = absl::UnavailableError("not evaluated");
      --done_jobs_;
    } else if (job.state == JobState::kChecking && job.last_evaluator == id) {
      // Its check will still arrive; OnCheckResult then keeps the local value.
    }
  }
}

bool Dispatcher::done() const { return done_jobs_ == jobs_.size(); }

Nanos Dispatcher::NextDeadline() const {
  Nanos t = 0;
  auto take = [&t](Nanos d) {
    if (d > 0 && (t == 0 || d < t)) t = d;
  };
  for (const auto& [rid, r] : requests_) take(r.deadline);
  for (const auto& [id, e] : evaluators_) take(e.down_until);
  return t;
}

std::vector<StatusOr<double>> Dispatcher::TakeOutbox() {
  SWARM_ASSERT(done());
  std::vector<StatusOr<double>> out;
  out.reserve(jobs_.size());
  for (auto& j : jobs_) out.push_back(std::move(j.result));
  jobs_.clear();
  checks_to_start_.clear();
  done_jobs_ = 0;
  return out;
}

std::vector<EvaluatorView> Dispatcher::evaluators(Nanos now) const {
  std::vector<EvaluatorView> out;
  for (const auto& [id, e] : evaluators_) {
    out.push_back({id, e.capacity, e.in_flight, e.excluded, e.down_until > now, e.results});
  }
  return out;
}

}  // namespace swarm::evo
