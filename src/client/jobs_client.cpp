#include "client/jobs_client.h"
#include "net/dial.h"
#include "net/grpc_status.h"

#include <chrono>
#include <climits>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "jobs/wire.h"
#include "swarm/v1/jobs.grpc.pb.h"

namespace swarm::jobs {

struct JobsClient::Impl {
  std::string address;
  std::unique_ptr<swarm::v1::Jobs::Stub> stub;
};

namespace {
Status FromGrpc(const std::string& address, const char* what, const grpc::Status& s) {
  return net::FromGrpc(s, absl::StrCat(what, " at ", address));
}
}  // namespace

JobsClient::JobsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JobsClient::~JobsClient() = default;

StatusOr<std::unique_ptr<JobsClient>> JobsClient::Connect(const std::string& address, int64_t size_max) {
  if (address.empty()) return absl::InvalidArgumentError("jobs client: peer address is empty");
  net::DialOptions o;
  o.net.message_size_bytes_max = size_max;
  SWARM_ASSIGN_OR_RETURN(auto channel, net::Dial(address, o));
  auto impl = std::make_unique<Impl>();
  impl->address = address;
  impl->stub = swarm::v1::Jobs::NewStub(channel);
  return std::unique_ptr<JobsClient>(new JobsClient(std::move(impl)));
}

StatusOr<uint64_t> JobsClient::Submit(const EvalJob& job) {
  swarm::v1::SubmitJobRequest req;
  req.set_circuit(job.circuit);
  req.mutable_keys()->set_params(std::string(job.params.begin(), job.params.end()));
  req.mutable_keys()->set_relin_key(std::string(job.relin_key.begin(), job.relin_key.end()));
  req.mutable_keys()->set_galois_keys(std::string(job.galois_keys.begin(), job.galois_keys.end()));
  for (const auto& b : job.batches) *req.add_batches() = ToBatch(b);
  swarm::v1::SubmitJobReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  SWARM_RETURN_IF_ERROR(FromGrpc(impl_->address, "SubmitJob", impl_->stub->SubmitJob(&ctx, req, &reply)));
  return reply.job_id();
}

namespace {
EvalProgress ToProgress(const swarm::v1::JobStatusReply& r) {
  EvalProgress p;
  p.state = r.state();
  p.tasks_done = r.tasks_done();
  p.tasks_total = r.tasks_total();
  p.exclusions = r.exclusions();
  p.error = r.error();
  for (const auto& w : r.workers()) p.workers += !w.excluded();
  return p;
}
}  // namespace

StatusOr<EvalProgress> JobsClient::Progress(uint64_t job_id) {
  swarm::v1::JobStatusRequest req;
  req.set_job_id(job_id);
  swarm::v1::JobStatusReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  SWARM_RETURN_IF_ERROR(FromGrpc(impl_->address, "JobStatus", impl_->stub->JobStatus(&ctx, req, &reply)));
  return ToProgress(reply);
}

StatusOr<std::vector<std::map<std::string, Bytes>>> JobsClient::Wait(
    uint64_t job_id, Nanos timeout, const std::function<void(const EvalProgress&)>& on_progress, Nanos poll) {
  const auto start = std::chrono::steady_clock::now();
  EvalProgress last;
  last.tasks_done = UINT32_MAX;
  while (true) {
    swarm::v1::JobStatusRequest req;
    req.set_job_id(job_id);
    req.set_want_results(true);
    swarm::v1::JobStatusReply reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    SWARM_RETURN_IF_ERROR(FromGrpc(impl_->address, "JobStatus", impl_->stub->JobStatus(&ctx, req, &reply)));
    const EvalProgress p = ToProgress(reply);
    if (on_progress && (p.tasks_done != last.tasks_done || p.exclusions != last.exclusions ||
                        p.workers != last.workers || p.state != last.state)) {
      on_progress(p);
    }
    last = p;
    if (p.state == "failed") {
      return absl::AbortedError(absl::StrCat("job ", job_id, " failed at ", impl_->address, ": ", p.error));
    }
    if (p.state == "done") {
      if (reply.results_size() != static_cast<int>(p.tasks_total)) {
        return absl::InternalError(absl::StrCat("job ", job_id, ": queen returned ", reply.results_size(),
                                                " results for ", p.tasks_total, " tasks"));
      }
      std::vector<std::map<std::string, Bytes>> out;
      for (const auto& b : reply.results()) out.push_back(FromBatch(b));
      return out;
    }
    const Nanos elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > timeout) {
      return absl::DeadlineExceededError(absl::StrCat("job ", job_id, ": not done after ", ToSeconds(timeout), " s (",
                                                      p.tasks_done, "/", p.tasks_total, " tasks)"));
    }
    std::this_thread::sleep_for(std::chrono::nanoseconds(poll));
  }
}

StatusOr<std::vector<std::map<std::string, Bytes>>> JobsClient::Run(
    const EvalJob& job, Nanos timeout, const std::function<void(const EvalProgress&)>& on_progress) {
  SWARM_ASSIGN_OR_RETURN(uint64_t id, Submit(job));
  return Wait(id, timeout, on_progress);
}

}  // namespace swarm::jobs
