#include "jobs/queen.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace swarm::jobs {

Status QueenConfig::Validate() const {
  const auto bad = [](const char* f, double v, const char* range) {
    return absl::InvalidArgumentError(absl::StrCat("jobs queen: ", f, " = ", v, " is outside ", range));
  };
  if (f > 16) return bad("f", f, "[0, 16]");
  if (!(audit_fraction >= 0 && audit_fraction <= 1)) return bad("audit_fraction", audit_fraction, "[0, 1]");
  if (task_deadline <= 0) return bad("task_deadline", static_cast<double>(task_deadline), "(0, inf) ns");
  if (worker_inflight_max < 1 || worker_inflight_max > (1u << 20)) {
    return bad("worker_inflight_max", worker_inflight_max, "[1, 2^20]");
  }
  if (task_attempts_max < 2 * f + 1 || task_attempts_max > 1024) {
    return bad("task_attempts_max", task_attempts_max, "[2f+1, 1024]");
  }
  if (job_tasks_max < 1) return bad("job_tasks_max", job_tasks_max, "[1, 2^32)");
  if (jobs_active_max < 1) return bad("jobs_active_max", jobs_active_max, "[1, 2^32)");
  return pheromone.Validate();
}

StatusOr<Queen> Queen::Create(QueenConfig config) {
  SWARM_RETURN_IF_ERROR(config.Validate());
  return Queen(config);
}

Status Queen::AddWorker(WorkerId w, bool guardian, double hint, Nanos now, const std::string& operator_name) {
  if (workers_.count(w)) return absl::AlreadyExistsError(absl::StrCat("jobs queen: worker ", w, " is already known"));
  Worker info;
  info.guardian = guardian;
  info.op = operator_name.empty() ? absl::StrCat("#", w) : operator_name;
  workers_[w] = std::move(info);
  pheromone_.Add(w, hint, now);
  Pump(now);
  return absl::OkStatus();
}

void Queen::SetThroughputHint(WorkerId w, double hint, Nanos now) {
  auto it = workers_.find(w);
  if (it == workers_.end() || it->second.matched + it->second.missed + it->second.disagreed > 0) return;
  pheromone_.SetHint(w, hint, now);
}

void Queen::RemoveWorker(WorkerId w, Nanos now) {
  if (!workers_.count(w)) return;
  for (auto& [id, job] : jobs_) {
    for (auto& task : job.tasks) {
      if (task.outstanding.erase(w) && !task.accepted) ++counters_.rescheduled_dead;
    }
  }
  workers_.erase(w);
  pheromone_.Remove(w);
  Pump(now);
}

Status Queen::SubmitJob(JobId id, uint32_t task_count, Nanos now) {
  if (task_count < 1 || task_count > config_.job_tasks_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("jobs queen: task count ", task_count, " is outside [1, job_tasks_max = ", config_.job_tasks_max, "]"));
  }
  if (jobs_.count(id)) return absl::AlreadyExistsError(absl::StrCat("jobs queen: job ", id, " already exists"));
  size_t active = 0;
  for (const auto& [_, j] : jobs_) active += j.progress.state == JobState::kRunning;
  if (active >= config_.jobs_active_max) {
    return absl::ResourceExhaustedError(
        absl::StrCat("jobs queen: ", active, " jobs running, the limit jobs_active_max is ", config_.jobs_active_max));
  }
  Job job;
  job.progress.tasks_total = task_count;
  job.tasks.resize(task_count);
  for (TaskId t = 0; t < task_count; ++t) {
    Task& task = job.tasks[t];
    if (config_.mode == QuorumMode::kReplicate) {
      task.need = config_.f + 1;
      task.fanout = 2 * config_.f + 1;
    } else {
      task.audited = rng_.Bernoulli(config_.audit_fraction);
      task.need = task.fanout = task.audited ? 2 : 1;
    }
    open_.insert({id, t});
  }
  jobs_.emplace(id, std::move(job));
  Pump(now);
  return absl::OkStatus();
}

void Queen::ForgetJob(JobId id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  for (TaskId t = 0; t < it->second.tasks.size(); ++t) {
    open_.erase({id, t});
    for (const auto& [w, _] : it->second.tasks[t].outstanding) {
      if (auto wi = workers_.find(w); wi != workers_.end() && wi->second.inflight > 0) --wi->second.inflight;
    }
  }
  jobs_.erase(it);
}

bool Queen::AssignOne(JobId job, TaskId t, Task& task, Nanos now) {
  bool want_guardian = false;
  if (task.audited) {
    want_guardian = true;
    for (WorkerId v : task.voted) want_guardian = want_guardian && !workers_[v].guardian;
    for (const auto& [v, _] : task.outstanding) want_guardian = want_guardian && !workers_[v].guardian;
  }
  std::vector<std::pair<WorkerId, double>> cands;
  for (int pass = 0; pass < 2 && cands.empty(); ++pass) {
    for (const auto& [w, info] : workers_) {
      if (info.excluded || info.inflight >= config_.worker_inflight_max) continue;
      if (OperatorTaken(task, w)) continue;
      if (pass == 0 && want_guardian && !info.guardian) continue;
      cands.emplace_back(w, pheromone_.Weight(w, now) / (1.0 + info.inflight));
    }
    if (!want_guardian) break;
  }
  if (cands.empty()) return false;
  double total = 0;
  for (const auto& c : cands) total += c.second;
  double x = rng_.UniformDouble() * total;
  WorkerId pick = cands.back().first;
  for (const auto& c : cands) {
    if (x < c.second) {
      pick = c.first;
      break;
    }
    x -= c.second;
  }
  const Nanos deadline = now + config_.task_deadline;
  task.outstanding[pick] = deadline;
  ++workers_[pick].inflight;
  ++task.attempts;
  ++counters_.assignments;
  outbox_.push_back(Assignment{job, t, pick, deadline});
  return true;
}

void Queen::Pump(Nanos now) {
  std::vector<Key> keys(open_.begin(), open_.end());
  for (const Key& k : keys) {
    bool capacity = false;
    for (const auto& [_, w] : workers_) capacity = capacity || (!w.excluded && w.inflight < config_.worker_inflight_max);
    if (!capacity) return;
    auto jit = jobs_.find(k.first);
    if (jit == jobs_.end() || jit->second.progress.state != JobState::kRunning) continue;
    Task& task = jit->second.tasks[k.second];
    if (task.accepted) continue;
    while (task.voted.size() + task.outstanding.size() < task.fanout) {
      if (task.attempts >= config_.task_attempts_max) {
        Fail(k.first, absl::StrCat("task ", k.second, ": no ", task.need, " matching results after ", task.attempts,
                                   " assignments (task_attempts_max)"));
        break;
      }
      if (!AssignOne(k.first, k.second, task, now)) break;
    }
  }
}

void Queen::Escalate(Task& task) {
  const uint32_t f = std::max<uint32_t>(config_.f, 1);
  const uint32_t need = f + 1, fanout = 2 * f + 1;
  if (task.need < need || task.fanout < fanout) ++counters_.escalations;
  task.need = std::max(task.need, need);
  task.fanout = std::max(task.fanout, fanout);
}

void Queen::OnResult(WorkerId from, JobId job, TaskId t, const crypto::Digest256& d, Nanos now) {
  auto jit = jobs_.find(job);
  auto wit = workers_.find(from);
  if (jit == jobs_.end() || t >= jit->second.tasks.size() || wit == workers_.end() || wit->second.excluded) {
    ++counters_.results_ignored;
    return;
  }
  Task& task = jit->second.tasks[t];
  const bool was_outstanding = task.outstanding.erase(from) > 0;
  if (was_outstanding && wit->second.inflight > 0) --wit->second.inflight;
  if (task.voted.count(from) || (!was_outstanding && !task.expired.count(from))) {
    ++counters_.results_ignored;  // duplicate, or never asked
    Pump(now);
    return;
  }
  task.expired.erase(from);
  if (jit->second.progress.state == JobState::kFailed) {
    Pump(now);
    return;
  }
  task.voted.insert(from);
  if (task.accepted) {
    Judge(from, task, d, job, now);
    Pump(now);
    return;
  }
  auto& voters = task.votes[d];
  voters.push_back(from);
  if (Operators(voters) >= task.need) {
    task.accepted = d;
    ++counters_.tasks_accepted;
    ++jit->second.progress.tasks_done;
    open_.erase({job, t});
    // The rest of the quorum may still answer; their results are judged then.
    for (const auto& [w, _] : task.outstanding) {
      if (auto o = workers_.find(w); o != workers_.end() && o->second.inflight > 0) --o->second.inflight;
      task.expired.insert(w);
    }
    task.outstanding.clear();
    const auto votes = task.votes;
    for (const auto& [digest, ws] : votes) {
      for (WorkerId w : ws) Judge(w, task, digest, job, now);
    }
    MaybeFinish(job);
  } else {
    if (task.votes.size() > 1) Escalate(task);
    // Every wanted answer is in but too few agree: ask one more worker.
    if (task.outstanding.empty() && task.voted.size() >= task.fanout) ++task.fanout;
  }
  Pump(now);
}

void Queen::Judge(WorkerId w, Task& task, const crypto::Digest256& d, JobId job, Nanos now) {
  auto it = workers_.find(w);
  if (it == workers_.end() || it->second.excluded) return;
  if (d == *task.accepted) {
    ++it->second.matched;
    ++counters_.results_matching;
    pheromone_.Reinforce(w, now);
  } else {
    ++it->second.disagreed;
    ++counters_.results_disagreeing;
    Exclude(w, job, now);
  }
}

void Queen::Exclude(WorkerId w, JobId job, Nanos now) {
  auto it = workers_.find(w);
  if (it == workers_.end() || it->second.excluded) return;
  it->second.excluded = true;
  it->second.inflight = 0;
  ++counters_.exclusions;
  if (auto j = jobs_.find(job); j != jobs_.end()) ++j->second.progress.exclusions;
  // A proven liar's other votes and assignments no longer count.
  for (const Key& k : open_) {
    Task& task = jobs_.at(k.first).tasks[k.second];
    task.outstanding.erase(w);
    task.expired.erase(w);
    if (task.voted.erase(w)) {
      for (auto vit = task.votes.begin(); vit != task.votes.end();) {
        auto& ws = vit->second;
        ws.erase(std::remove(ws.begin(), ws.end(), w), ws.end());
        vit = ws.empty() ? task.votes.erase(vit) : std::next(vit);
      }
    }
  }
}

void Queen::OnFailure(WorkerId from, JobId job, TaskId t, Nanos now) {
  auto jit = jobs_.find(job);
  auto wit = workers_.find(from);
  if (jit == jobs_.end() || t >= jit->second.tasks.size() || wit == workers_.end()) {
    ++counters_.results_ignored;
    return;
  }
  Task& task = jit->second.tasks[t];
  if (!task.outstanding.erase(from)) {
    ++counters_.results_ignored;
    return;
  }
  if (wit->second.inflight > 0) --wit->second.inflight;
  ++wit->second.missed;
  ++counters_.failures;
  pheromone_.Penalize(from, now);
  Pump(now);
}

void Queen::OnTick(Nanos now) {
  for (const Key& k : open_) {
    Task& task = jobs_.at(k.first).tasks[k.second];
    for (auto it = task.outstanding.begin(); it != task.outstanding.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      auto& w = workers_[it->first];
      if (w.inflight > 0) --w.inflight;
      ++w.missed;
      ++counters_.deadline_misses;
      pheromone_.Penalize(it->first, now);
      task.expired.insert(it->first);
      it = task.outstanding.erase(it);
    }
  }
  Pump(now);
}

std::optional<Nanos> Queen::NextDeadline() const {
  std::optional<Nanos> best;
  for (const Key& k : open_) {
    for (const auto& [_, d] : jobs_.at(k.first).tasks[k.second].outstanding) {
      if (!best || d < *best) best = d;
    }
  }
  return best;
}

std::vector<Assignment> Queen::TakeOutbox() {
  std::vector<Assignment> out;
  out.swap(outbox_);
  return out;
}

void Queen::Fail(JobId job, const std::string& why) {
  Job& j = jobs_.at(job);
  if (j.progress.state != JobState::kRunning) return;
  j.progress.state = JobState::kFailed;
  j.progress.error = why;
  ++counters_.jobs_failed;
  for (TaskId t = 0; t < j.tasks.size(); ++t) {
    open_.erase({job, t});
    for (const auto& [w, _] : j.tasks[t].outstanding) {
      if (auto o = workers_.find(w); o != workers_.end() && o->second.inflight > 0) --o->second.inflight;
    }
    j.tasks[t].outstanding.clear();
  }
}

void Queen::MaybeFinish(JobId job) {
  Job& j = jobs_.at(job);
  if (j.progress.state == JobState::kRunning && j.progress.tasks_done == j.progress.tasks_total) {
    j.progress.state = JobState::kDone;
    ++counters_.jobs_done;
  }
}

StatusOr<JobProgress> Queen::Progress(JobId job) const {
  auto it = jobs_.find(job);
  if (it == jobs_.end()) return absl::NotFoundError(absl::StrCat("jobs queen: no job ", job));
  return it->second.progress;
}

std::optional<crypto::Digest256> Queen::Accepted(JobId job, TaskId t) const {
  auto it = jobs_.find(job);
  if (it == jobs_.end() || t >= it->second.tasks.size()) return std::nullopt;
  return it->second.tasks[t].accepted;
}

std::vector<WorkerInfo> Queen::Workers(Nanos now) const {
  std::vector<WorkerInfo> out;
  for (const auto& [id, w] : workers_) {
    out.push_back(WorkerInfo{id, w.op, w.guardian, w.excluded, pheromone_.Tau(id, now), w.inflight, w.matched,
                             w.disagreed, w.missed});
  }
  return out;
}

size_t Queen::Operators(const std::vector<WorkerId>& ws) const {
  std::set<std::string> ops;
  for (WorkerId w : ws) {
    auto it = workers_.find(w);
    ops.insert(it == workers_.end() ? absl::StrCat("#", w) : it->second.op);
  }
  return ops.size();
}

bool Queen::OperatorTaken(const Task& task, WorkerId w) const {
  const std::string& op = workers_.at(w).op;
  const auto same = [&](WorkerId v) {
    if (v == w) return true;
    auto it = workers_.find(v);
    return it != workers_.end() && it->second.op == op;
  };
  for (WorkerId v : task.voted) {
    if (same(v)) return true;
  }
  for (const auto& [v, _] : task.outstanding) {
    if (same(v)) return true;
  }
  return false;
}

}  // namespace swarm::jobs
