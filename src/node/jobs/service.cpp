#include "node/jobs/service.h"

#include <algorithm>
#include <cstring>
#include <chrono>
#include <random>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "crypto/hash.h"
#include "node/node.h"

namespace swarm::node {
namespace {

using net::ToGrpc;

const char* StateName(jobs::JobState s) {
  switch (s) {
    case jobs::JobState::kRunning: return "running";
    case jobs::JobState::kDone: return "done";
    case jobs::JobState::kFailed: return "failed";
  }
  return "?";
}

constexpr size_t kProbeBytes = size_t{1} << 20;
constexpr int kProbeRounds = 8;
constexpr Nanos kLoopPeriod = Millis(50);
constexpr Nanos kNotWorkerRetry = Seconds(30);

}  // namespace

JobsService::JobsService(JobsConfig c) : config_(std::move(c)) {
  std::random_device rd;
  const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  next_job_ = 1 + r % ((uint64_t{1} << 53) - 1);
  if (config_.queen) {
    queen_.emplace(*jobs::Queen::Create(config_.queen_config));  // validated by the factory
    if (config_.scout) scout_.emplace(config_.scout_config);
  }
}

JobsService::~JobsService() { Stop(); }

Nanos JobsService::Now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------- worker side

grpc::Status JobsService::RunTask(grpc::ServerContext* ctx, const swarm::v1::RunTaskRequest* req,
                                  swarm::v1::RunTaskReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "Jobs.RunTask", *req);
  if (!config_.worker) {
    ++tasks_refused_;
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "jobs: this peer is not a jobs worker (jobs.role)");
  }
  {  // bounded concurrency: at most worker_threads evaluations at once
    std::unique_lock<std::mutex> lock(slots_mu_);
    slots_cv_.wait(lock, [&] { return slots_busy_ < config_.worker_threads; });
    ++slots_busy_;
  }
  struct Release {
    JobsService* s;
    ~Release() {
      std::lock_guard<std::mutex> lock(s->slots_mu_);
      --s->slots_busy_;
      s->slots_cv_.notify_one();
    }
  } release{this};

  if (req->probe()) {
    const auto start = std::chrono::steady_clock::now();
    Bytes buf(kProbeBytes, 0x5c);
    for (int i = 0; i < kProbeRounds; ++i) {
      const auto d = crypto::Sha3_256(buf);
      buf[static_cast<size_t>(i)] = d[0];
    }
    reply->set_probe_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ++probes_run_;
    return grpc::Status::OK;
  }
  if (req->job_key().size() != 32) {
    ++tasks_refused_;
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("jobs: job_key has ", req->job_key().size(), " bytes, expected 32"));
  }
  std::shared_ptr<const jobs::PreparedJob> job;
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (std::memcmp((*it)->job_key.data(), req->job_key().data(), 32) == 0) {
        job = *it;
        cache_.splice(cache_.begin(), cache_, it);
        break;
      }
    }
  }
  if (!job) {
    if (req->circuit().empty()) {
      ++tasks_refused_;
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "jobs: job_key unknown to this worker; send circuit and keys");
    }
    auto prepared = jobs::PrepareJob(req->circuit(), req->keys());
    if (!prepared.ok()) {
      ++tasks_refused_;
      return ToGrpc(prepared.status());
    }
    if (std::memcmp((*prepared)->job_key.data(), req->job_key().data(), 32) != 0) {
      ++tasks_refused_;
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "jobs: job_key does not match the circuit and keys sent");
    }
    job = *prepared;
    std::lock_guard<std::mutex> lock(cache_mu_);
    cache_.push_front(job);
    while (cache_.size() > config_.prepared_jobs_max) cache_.pop_back();
  }
  Status s = jobs::RunTask(*job, req->inputs(), config_.lie, reply);
  if (!s.ok()) {
    ++tasks_refused_;
    return ToGrpc(s);
  }
  ++tasks_run_;
  if (worker_tasks_) worker_tasks_->Increment();
  return grpc::Status::OK;
}

// ----------------------------------------------------------------- queen side

// The guard authenticates the caller; the cores take its peer id.
grpc::Status JobsService::SubmitJob(grpc::ServerContext* ctx, const swarm::v1::SubmitJobRequest* req,
                                    swarm::v1::SubmitJobReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "Jobs.SubmitJob", *req);
  return SubmitJobFor(caller.peer, *req, reply);
}

grpc::Status JobsService::JobStatus(grpc::ServerContext* ctx, const swarm::v1::JobStatusRequest* req,
                                    swarm::v1::JobStatusReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "Jobs.JobStatus", *req);
  return JobStatusFor(caller.peer, *req, reply);
}

void JobsService::SetAdmittedWorkers(std::function<std::vector<AdmittedWorker>()> source) {
  admitted_workers_ = std::move(source);
}

uint64_t JobsService::refused(const std::string& reason) {
  std::lock_guard<std::mutex> lock(refused_mu_);
  auto it = refused_.find(reason);
  return it == refused_.end() ? 0 : it->second;
}

grpc::Status JobsService::Refuse(grpc::StatusCode code, const std::string& reason, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(refused_mu_);
    ++refused_[reason];
  }
  if (node_) node_->metrics().rejected_calls.Add({{"service", "jobs"}, {"reason", reason}}).Increment();
  return grpc::Status(code, absl::StrCat(reason, ": ", message));
}

void JobsService::ForgetJobLocked(jobs::JobId id) {
  queen_->ForgetJob(id);
  jobs_.erase(id);
  job_order_.erase(std::remove(job_order_.begin(), job_order_.end(), id), job_order_.end());
}

grpc::Status JobsService::MakeRoom(const crypto::PeerIdBytes& caller, uint32_t tasks, Nanos now) {
  auto running = [&](jobs::JobId id) {
    auto p = queen_->Progress(id);
    return p.ok() && p->state == jobs::JobState::kRunning;
  };
  uint32_t own_jobs = 0;
  uint64_t own_tasks = 0;
  for (jobs::JobId id : job_order_) {
    const JobRecord& r = jobs_.at(id);
    if (r.submitter != caller) continue;
    ++own_jobs;
    if (running(id)) own_tasks += r.tasks;
  }
  if (own_tasks + tasks > config_.tasks_per_client_max) {
    return Refuse(grpc::StatusCode::RESOURCE_EXHAUSTED, "rate_limited",
                  absl::StrCat("jobs: ", own_tasks, " tasks of this client are running and this job adds ", tasks,
                               "; the limit is jobs.tasks_per_client_max = ", config_.tasks_per_client_max));
  }
  // The oldest finished job of this client, else (when the queen is full)
  // another client's finished job older than job_retention.
  auto oldest = [&](bool own) -> std::optional<jobs::JobId> {
    for (jobs::JobId id : job_order_) {
      const JobRecord& r = jobs_.at(id);
      if (running(id)) continue;
      if (own ? r.submitter == caller : (r.submitter != caller && now - r.submitted_at >= config_.job_retention)) {
        return id;
      }
    }
    return std::nullopt;
  };
  if (own_jobs >= config_.jobs_per_client_max) {
    auto id = oldest(true);
    if (!id) {
      return Refuse(grpc::StatusCode::RESOURCE_EXHAUSTED, "rate_limited",
                    absl::StrCat("jobs: this client has ", own_jobs,
                                 " jobs running; the limit is jobs.jobs_per_client_max = ", config_.jobs_per_client_max));
    }
    ForgetJobLocked(*id);
  }
  while (job_order_.size() >= config_.jobs_retained_max) {
    auto id = oldest(true);
    if (!id) id = oldest(false);
    if (!id) {
      return Refuse(grpc::StatusCode::RESOURCE_EXHAUSTED, "rate_limited",
                    absl::StrCat("jobs: the queen holds ", job_order_.size(),
                                 " jobs (jobs.jobs_retained_max) and none of another client is finished and older than ",
                                 ToSeconds(config_.job_retention), " s"));
    }
    ForgetJobLocked(*id);
  }
  return grpc::Status::OK;
}

grpc::Status JobsService::SubmitJobFor(const crypto::PeerIdBytes& caller, const swarm::v1::SubmitJobRequest& request,
                                       swarm::v1::SubmitJobReply* reply) {
  const auto* req = &request;
  if (!config_.queen) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "jobs: this peer is not a jobs queen (jobs.role)");
  }
  if (req->batches_size() == 0) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "jobs: the job has no batches");
  if (static_cast<size_t>(req->batches_size()) > jobs::kJobBatchesMax) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("jobs: ", req->batches_size(), " batches exceeds job_batches_max ", jobs::kJobBatchesMax));
  }
  // Everything is checked before any work is scheduled.
  auto prepared = jobs::PrepareJob(req->circuit(), req->keys());
  if (!prepared.ok()) return ToGrpc(prepared.status());
  for (int b = 0; b < req->batches_size(); ++b) {
    auto values = jobs::DecodeBatch(**prepared, req->batches(b));
    Status s = values.ok() ? jobs::CheckCircuit((*prepared)->circuit, (*prepared)->keys, *values) : values.status();
    if (!s.ok()) {
      return ToGrpc(absl::Status(s.code(), absl::StrCat("batch ", b, ": ", s.message())));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  const Nanos now = Now();
  if (grpc::Status room = MakeRoom(caller, static_cast<uint32_t>(req->batches_size()), now); !room.ok()) return room;
  const jobs::JobId id = next_job_++;
  Status s = queen_->SubmitJob(id, static_cast<uint32_t>(req->batches_size()), now);
  if (!s.ok()) return ToGrpc(s);
  JobRecord& r = jobs_[id];
  r.submitter = caller;
  r.tasks = static_cast<uint32_t>(req->batches_size());
  r.submitted_at = now;
  r.prepared = *prepared;
  r.keys = req->keys();
  r.batches.assign(req->batches().begin(), req->batches().end());
  job_order_.push_back(id);
  reply->set_job_id(id);
  reply->set_tasks(static_cast<uint32_t>(req->batches_size()));
  spdlog::info("jobs: job {} submitted ({} tasks)", id, req->batches_size());
  cv_.notify_one();
  return grpc::Status::OK;
}

grpc::Status JobsService::JobStatusFor(const crypto::PeerIdBytes& caller, const swarm::v1::JobStatusRequest& request,
                                       swarm::v1::JobStatusReply* reply) {
  const auto* req = &request;
  if (!config_.queen) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "jobs: this peer is not a jobs queen (jobs.role)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto p = queen_->Progress(req->job_id());
  if (!p.ok()) return grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("jobs: no job ", req->job_id()));
  if (jobs_.at(req->job_id()).submitter != caller) {
    return Refuse(grpc::StatusCode::PERMISSION_DENIED, "permission_denied",
                  absl::StrCat("jobs: job ", req->job_id(), " was submitted by another client"));
  }
  reply->set_state(StateName(p->state));
  reply->set_tasks_total(p->tasks_total);
  reply->set_tasks_done(p->tasks_done);
  reply->set_exclusions(p->exclusions);
  reply->set_error(p->error);
  for (const auto& w : queen_->Workers(Now())) {
    auto* jw = reply->add_workers();
    jw->set_address(worker_addrs_[w.id]);
    jw->set_pheromone(w.tau);
    jw->set_excluded(w.excluded);
    jw->set_matched(w.matched);
    jw->set_disagreed(w.disagreed);
    jw->set_missed(w.missed);
  }
  if (req->want_results() && p->state == jobs::JobState::kDone) {
    const JobRecord& r = jobs_.at(req->job_id());
    for (jobs::TaskId t = 0; t < p->tasks_total; ++t) {
      const auto d = queen_->Accepted(req->job_id(), t);
      auto oit = r.outputs.find(t);
      if (!d || oit == r.outputs.end() || !oit->second.count(*d)) {
        return grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat("jobs: accepted outputs of task ", t, " are missing"));
      }
      *reply->add_results() = oit->second.at(*d);
    }
  }
  return grpc::Status::OK;
}

void JobsService::Start(Node& node) {
  node_ = &node;
  auto& reg = node.metrics().registry();
  tasks_family_ = &prometheus::BuildCounter()
                       .Name("swarm_jobs_tasks_total")
                       .Help("Queen: task results by outcome (accepted, matching, disagreeing, deadline_missed, failed, rescheduled_dead)")
                       .Register(reg);
  exclusions_ = &prometheus::BuildCounter()
                     .Name("swarm_jobs_worker_exclusions_total")
                     .Help("Queen: workers excluded for returning a digest that disagrees with the accepted one")
                     .Register(reg)
                     .Add({});
  pheromone_ = &prometheus::BuildGauge()
                    .Name("swarm_jobs_worker_pheromone")
                    .Help("Queen: pheromone weight tau of each worker")
                    .Register(reg);
  worker_tasks_ = &prometheus::BuildCounter()
                       .Name("swarm_jobs_worker_tasks_run_total")
                       .Help("Worker: tasks this peer evaluated")
                       .Register(reg)
                       .Add({});
  if (config_.queen) thread_ = std::thread([this] { Loop(); });
}

void JobsService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Callbacks of calls still in flight touch this object: wait for them.
  for (int i = 0; i < 200 && calls_in_flight_.load() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

void JobsService::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::nanoseconds(kLoopPeriod), [&] { return stop_ || !completions_.empty(); });
    if (stop_) break;
    const Nanos now = Now();
    while (!completions_.empty()) {
      Completion c = std::move(completions_.front());
      completions_.pop_front();
      Handle(std::move(c), now);
    }
    lock.unlock();
    // Membership is read outside our lock (the node has its own).
    // Workers: the configured list, else the admitted jobs workers — never
    // membership alone (any identity can become a member).
    std::vector<AdmittedWorker> want;
    if (config_.workers.empty() && admitted_workers_) want = admitted_workers_();
    lock.lock();
    for (const auto& entry : config_.workers) {
      const size_t at = entry.find('@');
      want.push_back(at == std::string::npos ? AdmittedWorker{entry, ""}
                                             : AdmittedWorker{entry.substr(0, at), entry.substr(at + 1)});
    }
    if (want.empty() && !warned_no_workers_) {
      warned_no_workers_ = true;
      spdlog::warn("jobs: the queen has no workers: set jobs.workers, or admit peers with the jobs_worker role");
    }
    const std::string self = node_ ? node_->grpc_address() : "";
    std::map<std::string, std::string> desired;  // address -> operator
    for (const auto& w : want) {
      if (w.address == self && !config_.worker) continue;
      auto nw = not_workers_.find(w.address);
      if (nw != not_workers_.end() && nw->second > now) continue;
      desired.emplace(w.address, w.operator_name);
    }
    for (auto it = worker_ids_.begin(); it != worker_ids_.end();) {
      if (!desired.count(it->first)) {
        queen_->RemoveWorker(it->second, now);
        if (scout_) scout_->RemoveWorker(it->second);
        worker_addrs_.erase(it->second);
        it = worker_ids_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [a, op] : desired) {
      if (worker_ids_.count(a)) continue;
      const jobs::WorkerId id = next_worker_++;
      worker_ids_[a] = id;
      worker_addrs_[id] = a;
      const bool guardian = std::find(config_.guardians.begin(), config_.guardians.end(), a) != config_.guardians.end();
      (void)queen_->AddWorker(id, guardian, 1.0, now, op);
      if (scout_) scout_->AddWorker(id);
    }
    queen_->OnTick(now);
    Dispatch(now);
    ExportMetrics(now);
    std::vector<PendingSend> sends;
    sends.swap(sends_);
    if (!sends.empty()) {
      lock.unlock();
      for (auto& p : sends) Send(std::move(p));
      lock.lock();
    }
  }
}

void JobsService::Handle(Completion&& c, Nanos now) {
  auto wit = worker_ids_.find(c.worker);
  if (wit == worker_ids_.end()) return;  // removed meanwhile
  const jobs::WorkerId w = wit->second;
  if (c.probe) {
    if (c.status.ok() && scout_) {
      scout_->OnProbeReply(w, c.nonce, now);
      for (const auto& [id, hint] : scout_->Hints()) queen_->SetThroughputHint(id, hint, now);
    }
    return;
  }
  auto jit = jobs_.find(c.job);
  if (c.status.ok() && c.reply.digest().size() == 32 && jit != jobs_.end()) {
    crypto::Digest256 d;
    std::copy(c.reply.digest().begin(), c.reply.digest().end(), d.begin());
    auto& slot = jit->second.outputs[c.task];
    if (!slot.count(d)) slot[d] = std::move(*c.reply.mutable_outputs());
    queen_->OnResult(w, c.job, c.task, d, now);
    return;
  }
  if (c.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
      c.status.error_message().find("not a jobs worker") != std::string::npos) {
    not_workers_[c.worker] = now + kNotWorkerRetry;
  }
  if (c.status.error_code() == grpc::StatusCode::NOT_FOUND && jit != jobs_.end()) {
    jit->second.keys_sent.erase(c.worker);  // the worker lost the job (restart): resend keys
  }
  spdlog::debug("jobs: task {}/{} on {} failed: {}", c.job, c.task, c.worker, c.status.error_message());
  queen_->OnFailure(w, c.job, c.task, now);
}

void JobsService::Dispatch(Nanos now) {
  if (scout_) {
    scout_->OnTick(now);
    for (const auto& p : scout_->TakeOutbox()) {
      swarm::v1::RunTaskRequest req;
      req.set_probe(true);
      sends_.push_back(PendingSend{worker_addrs_[p.worker], std::move(req), 0, 0, true, p.nonce,
                                   config_.scout_config.probe_timeout});
    }
  }
  for (const auto& a : queen_->TakeOutbox()) {
    auto jit = jobs_.find(a.job);
    auto wit = worker_addrs_.find(a.worker);
    if (jit == jobs_.end() || wit == worker_addrs_.end()) continue;
    JobRecord& r = jit->second;
    swarm::v1::RunTaskRequest req;
    req.set_job_id(a.job);
    req.set_task_id(a.task);
    req.set_job_key(std::string(r.prepared->job_key.begin(), r.prepared->job_key.end()));
    if (!r.keys_sent.count(wit->second)) {
      req.set_circuit(r.prepared->circuit_text);
      *req.mutable_keys() = r.keys;
      r.keys_sent.insert(wit->second);
    }
    *req.mutable_inputs() = r.batches[a.task];
    sends_.push_back(PendingSend{wit->second, std::move(req), a.job, a.task, false, 0, a.deadline - now});
  }
}

void JobsService::Send(PendingSend p) {
  struct Call {
    grpc::ClientContext ctx;
    swarm::v1::RunTaskRequest req;
    Completion c;
    std::unique_ptr<swarm::v1::Jobs::Stub> stub;
  };
  auto* call = new Call;
  call->req = std::move(p.req);
  call->c.worker = p.worker;
  call->c.job = p.job;
  call->c.task = p.task;
  call->c.probe = p.probe;
  call->c.nonce = p.nonce;
  call->ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::nanoseconds(std::max<Nanos>(p.timeout, Millis(10))));
  call->stub = swarm::v1::Jobs::NewStub(node_->ChannelTo(p.worker));
  ++calls_in_flight_;
  call->stub->async()->RunTask(&call->ctx, &call->req, &call->c.reply, [this, call](grpc::Status s) {
    call->c.status = std::move(s);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_) completions_.push_back(std::move(call->c));
    }
    cv_.notify_one();
    delete call;
    --calls_in_flight_;
  });
}

void JobsService::ExportMetrics(Nanos now) {
  if (!tasks_family_) return;
  const auto& k = queen_->counters();
  const auto bump = [&](const char* outcome, uint64_t cur, uint64_t& seen) {
    if (cur > seen) tasks_family_->Add({{"outcome", outcome}}).Increment(static_cast<double>(cur - seen));
    seen = cur;
  };
  bump("accepted", k.tasks_accepted, exported_.tasks_accepted);
  bump("matching", k.results_matching, exported_.results_matching);
  bump("disagreeing", k.results_disagreeing, exported_.results_disagreeing);
  bump("deadline_missed", k.deadline_misses, exported_.deadline_misses);
  bump("failed", k.failures, exported_.failures);
  bump("rescheduled_dead", k.rescheduled_dead, exported_.rescheduled_dead);
  if (k.exclusions > exported_.exclusions) exclusions_->Increment(static_cast<double>(k.exclusions - exported_.exclusions));
  exported_.exclusions = k.exclusions;
  for (const auto& w : queen_->Workers(now)) pheromone_->Add({{"worker", worker_addrs_[w.id]}}).Set(w.tau);
}

nlohmann::json JobsService::StatusJson() {
  nlohmann::json roles = nlohmann::json::array();
  if (config_.queen) roles.push_back("queen");
  if (config_.worker) roles.push_back("worker");
  if (config_.guardian) roles.push_back("guardian");
  if (config_.scout) roles.push_back("scout");
  nlohmann::json j = {{"roles", roles},
                      {"lie", config_.lie},
                      {"tasks_run", tasks_run_.load()},
                      {"tasks_refused", tasks_refused_.load()},
                      {"probes_run", probes_run_.load()}};
  if (!config_.queen) return j;
  std::lock_guard<std::mutex> lock(mu_);
  const auto& k = queen_->counters();
  j["queen"] = {{"assignments", k.assignments},         {"tasks_accepted", k.tasks_accepted},
                {"results_matching", k.results_matching}, {"results_disagreeing", k.results_disagreeing},
                {"deadline_misses", k.deadline_misses},   {"failures", k.failures},
                {"rescheduled_dead", k.rescheduled_dead}, {"exclusions", k.exclusions},
                {"jobs_done", k.jobs_done},               {"jobs_failed", k.jobs_failed}};
  nlohmann::json ws = nlohmann::json::array();
  for (const auto& w : queen_->Workers(Now())) {
    ws.push_back({{"address", worker_addrs_[w.id]}, {"pheromone", w.tau}, {"excluded", w.excluded},
                  {"guardian", w.guardian}, {"inflight", w.inflight}, {"matched", w.matched},
                  {"disagreed", w.disagreed}, {"missed", w.missed}});
  }
  j["workers"] = ws;
  nlohmann::json js = nlohmann::json::array();
  // No job ids here (only the submitter may ask for a job, by its id) and no
  // results; the submitter as its peer id's first 8 hex digits.
  for (jobs::JobId id : job_order_) {
    auto p = queen_->Progress(id);
    if (!p.ok()) continue;
    const auto& sub = jobs_.at(id).submitter;
    js.push_back({{"submitter", ToHex(ByteSpan(sub.data(), 4))}, {"state", StateName(p->state)},
                  {"tasks_done", p->tasks_done}, {"tasks_total", p->tasks_total}, {"exclusions", p->exclusions},
                  {"error", p->error}});
  }
  j["jobs"] = js;
  return j;
}

}  // namespace swarm::node
