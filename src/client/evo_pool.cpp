#include "client/evo_pool.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_join.h"
#include "evo/genome_codec.h"
#include "net/rpc.h"

namespace swarm::node {

RemoteEvaluatorPool::RemoteEvaluatorPool(RemotePoolConfig cfg, const evo::Task* local_task)
    : cfg_(std::move(cfg)),
      task_(local_task),
      dispatcher_(cfg_.dispatch, cfg_.seed),
      local_(cfg_.dispatch.local_slots) {}

RemoteEvaluatorPool::~RemoteEvaluatorPool() {
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& [id, call] : calls_) call->ctx.TryCancel();
  // Callbacks push a completion and never touch the Call afterwards; wait for
  // every one of them, then drop the Calls.
  cv_.wait(lock, [this] {
    size_t remote_done = 0;
    for (const auto& c : done_) remote_done += c.kind == Completion::Kind::kRemote;
    return remote_done >= calls_.size();
  });
}

StatusOr<EvaluatorInfo> RemoteEvaluatorPool::AddEvaluator(const std::string& address) {
  SWARM_ASSIGN_OR_RETURN(auto client, net::PeerClient::Create(address, cfg_.net));
  auto stub = swarm::v1::EvoEvaluator::NewStub(client->channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(cfg_.register_timeout));
  swarm::v1::EvoRegisterRequest req;
  req.set_coordinator(cfg_.coordinator_name);
  swarm::v1::EvoRegisterReply reply;
  grpc::Status s = stub->Register(&ctx, req, &reply);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("evaluator ", address, ": Register failed: ", net::GrpcStatusText(s)));
  }
  const auto& tasks = reply.tasks();
  if (std::find(tasks.begin(), tasks.end(), cfg_.task) == tasks.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "evaluator ", address, " ('", reply.evaluator_id(), "') does not offer task '", cfg_.task,
        "' (offers: ", absl::StrJoin(tasks, ", "), ")"));
  }
  if (reply.batch_genomes_max() < cfg_.dispatch.batch_genomes_max) {
    return absl::FailedPreconditionError(absl::StrCat(
        "evaluator ", address, " accepts ", reply.batch_genomes_max(),
        " genomes per request, the coordinator sends up to ", cfg_.dispatch.batch_genomes_max));
  }
  SWARM_RETURN_IF_ERROR(dispatcher_.AddEvaluator(address, reply.capacity()));
  stubs_[address] = std::move(stub);
  return EvaluatorInfo{address, reply.evaluator_id(), reply.capacity()};
}

StatusOr<double> RemoteEvaluatorPool::Evaluate(const evo::Genome& g) {
  const evo::Genome* one[] = {&g};
  return EvaluateBatch(one).front();
}

void RemoteEvaluatorPool::StartRemote(const evo::Dispatcher::Request& r,
                                      const std::vector<std::string>& encoded) {
  auto call = std::make_unique<Call>();
  call->ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::nanoseconds(cfg_.dispatch.evaluation_timeout));
  call->request.set_task(cfg_.task);
  call->request.set_request_id(r.id);
  for (size_t j : r.jobs) call->request.add_genomes(encoded[j]);
  Call* raw = call.get();
  {
    std::lock_guard<std::mutex> lock(mu_);
    calls_[r.id] = std::move(call);
  }
  const uint64_t id = r.id;
  stubs_.at(r.evaluator)->async()->Evaluate(
      &raw->ctx, &raw->request, &raw->reply, [this, raw, id](grpc::Status s) {
        Completion c{Completion::Kind::kRemote};
        c.request_id = id;
        c.status = std::move(s);
        c.reply = std::move(raw->reply);
        std::lock_guard<std::mutex> lock(mu_);
        done_.push_back(std::move(c));
        cv_.notify_all();
      });
}

void RemoteEvaluatorPool::StartLocal(Completion::Kind kind, size_t job, const evo::Genome* g) {
  local_.Submit([this, kind, job, g] {
    StatusOr<double> r = task_->Evaluate(*g);
    if (r.ok()) r = evo::CheckFitness(*r, "local task");
    Completion c{kind};
    c.job = job;
    c.local = std::move(r);
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back(std::move(c));
    cv_.notify_all();
  });
}

void RemoteEvaluatorPool::Handle(Completion c, Nanos now) {
  switch (c.kind) {
    case Completion::Kind::kLocal:
      dispatcher_.OnLocalResult(c.job, c.local);
      return;
    case Completion::Kind::kCheck:
      dispatcher_.OnCheckResult(c.job, c.local);
      return;
    case Completion::Kind::kRemote:
      break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.erase(c.request_id);
  }
  if (!c.status.ok()) {
    dispatcher_.OnRemoteFailure(c.request_id, net::FromGrpc(c.status), now);
    return;
  }
  std::vector<StatusOr<double>> results;
  results.reserve(c.reply.results_size());
  for (const auto& r : c.reply.results()) {
    if (r.ok()) results.emplace_back(r.fitness());  // NaN/Inf: the dispatcher counts it
    else results.emplace_back(absl::DataLossError(absl::StrCat("evaluator: ", r.error())));
  }
  dispatcher_.OnRemoteReply(c.request_id, results, now);
}

std::vector<StatusOr<double>> RemoteEvaluatorPool::EvaluateBatch(
    std::span<const evo::Genome* const> genomes) {
  std::vector<std::string> encoded;
  encoded.reserve(genomes.size());
  for (const evo::Genome* g : genomes) encoded.push_back(evo::EncodeGenome(*g));
  dispatcher_.StartBatch(genomes.size(), clock_.Now());
  for (;;) {
    std::deque<Completion> ready;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready.swap(done_);
    }
    for (auto& c : ready) Handle(std::move(c), clock_.Now());
    if (dispatcher_.done()) break;
    const Nanos now = clock_.Now();
    evo::Dispatcher::Work w = dispatcher_.Poll(now);
    for (const auto& r : w.remote) StartRemote(r, encoded);
    for (size_t j : w.local) StartLocal(Completion::Kind::kLocal, j, genomes[j]);
    for (size_t j : w.checks) StartLocal(Completion::Kind::kCheck, j, genomes[j]);
    Nanos wake = now + Millis(100);
    const Nanos next = dispatcher_.NextDeadline();
    if (next > 0) wake = std::min(wake, std::max(next, now + Millis(1)));
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::nanoseconds(wake - now), [this] { return !done_.empty(); });
  }
  return dispatcher_.TakeOutbox();
}

std::vector<evo::EvaluatorView> RemoteEvaluatorPool::evaluators() const {
  return dispatcher_.evaluators(clock_.Now());
}

size_t RemoteEvaluatorPool::evaluators_alive() const {
  return dispatcher_.usable_evaluators(clock_.Now());
}

}  // namespace swarm::node
