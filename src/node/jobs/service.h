// The peer side of the FHE job service (proto/swarm/v1/jobs.proto): one gRPC
// service whose three methods are served according to this peer's roles.
//   worker   RunTask: evaluate one task (jobs/wire.h), caching prepared jobs
//            by job_key; `lie` (TEST ONLY) corrupts every result.
//   queen    SubmitJob / JobStatus: checks the job before any work (circuit,
//            keys, every batch), then drives a jobs::Queen (sans-I/O) from one
//            thread: assignments become async RunTask calls, replies become
//            OnResult/OnFailure, a 50 ms loop calls OnTick.
//   scout    probes workers' throughput with RunTask{probe} (jobs::Scout) and
//            feeds the queen's starting pheromone.
//   guardian a worker the queen's sample mode prefers for audits (the queen
//            learns guardians from jobs.guardians).
// Who works (docs/security.md): the queen's workers are jobs.workers
// ("host:port" or "host:port@operator") when set, else the peers the
// admission source (SetAdmittedWorkers) names as holding a jobs_worker grant
// with their grant's operator — never every alive member. With neither, the
// queen has no workers and says so once.
// Whose results: each job records its submitter's peer id; JobStatus answers
// only that caller (else PERMISSION_DENIED), and the status JSON lists jobs
// without ids or results. A client holds at most jobs_per_client_max jobs and
// tasks_per_client_max tasks of running jobs; beyond, its own oldest finished
// job is forgotten first, and another client's finished job only once it is
// older than job_retention. Refusals are counted in
// swarm_rejected_calls_total{service="jobs",reason}. The gRPC methods take the
// caller from the call guard (node/call_guard.h); the *For methods are the core.
// Thread-safety: gRPC handlers run concurrently; all queen state is behind
// one mutex; StatusJson is thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "crypto/identity.h"
#include "net/server_auth.h"
#include "jobs/queen.h"
#include "jobs/scout.h"
#include "jobs/wire.h"
#include "swarm/v1/jobs.grpc.pb.h"

namespace swarm::node {

class Node;

struct JobsConfig {
  bool queen = false, worker = false, guardian = false, scout = false;
  jobs::QueenConfig queen_config;
  jobs::ScoutConfig scout_config;
  std::vector<std::string> workers;    // "host:port[@operator]"; empty = admitted jobs workers
  std::vector<std::string> guardians;  // addresses the queen treats as guardians
  uint32_t worker_threads = 1;
  uint32_t jobs_retained_max = 16;
  uint32_t jobs_per_client_max = 4;
  uint32_t tasks_per_client_max = 4096;  // tasks of one client's running jobs
  Nanos job_retention = Seconds(600);    // another client's finished job is kept at least this long
  uint32_t prepared_jobs_max = 8;      // worker cache of prepared jobs
  bool lie = false;
};

class JobsService final : public swarm::v1::Jobs::Service, public net::GuardedService {
 public:
  explicit JobsService(JobsConfig c);
  ~JobsService() override;
  const JobsConfig& config() const { return config_; }

  grpc::Status SubmitJob(grpc::ServerContext*, const swarm::v1::SubmitJobRequest*, swarm::v1::SubmitJobReply*) override;
  grpc::Status JobStatus(grpc::ServerContext*, const swarm::v1::JobStatusRequest*, swarm::v1::JobStatusReply*) override;
  grpc::Status RunTask(grpc::ServerContext*, const swarm::v1::RunTaskRequest*, swarm::v1::RunTaskReply*) override;

  // The cores of SubmitJob / JobStatus for an authenticated `caller`.
  grpc::Status SubmitJobFor(const crypto::PeerIdBytes& caller, const swarm::v1::SubmitJobRequest& req,
                            swarm::v1::SubmitJobReply* reply);
  grpc::Status JobStatusFor(const crypto::PeerIdBytes& caller, const swarm::v1::JobStatusRequest& req,
                            swarm::v1::JobStatusReply* reply);

  // A worker the admission state names: its address and its grant's operator.
  struct AdmittedWorker {
    std::string address;
    std::string operator_name;
  };
  // Before Start: where the queen learns admitted jobs workers (peers holding
  // a jobs_worker grant) when jobs.workers is empty. Called from the queen
  // thread without its lock held.
  void SetAdmittedWorkers(std::function<std::vector<AdmittedWorker>()> source);
  // Refusals by reason (also exported as swarm_rejected_calls_total{service="jobs"}).
  uint64_t refused(const std::string& reason);

  // Starts the queen loop (queen role) with the node's channels and metrics.
  void Start(Node& node);
  void Stop();
  nlohmann::json StatusJson();

 private:
  struct Completion {
    std::string worker;
    jobs::JobId job = 0;
    jobs::TaskId task = 0;
    bool probe = false;
    uint64_t nonce = 0;
    grpc::Status status;
    swarm::v1::RunTaskReply reply;
  };
  struct JobRecord {
    std::shared_ptr<const jobs::PreparedJob> prepared;
    swarm::v1::JobKeys keys;
    std::vector<swarm::v1::Batch> batches;
    std::set<std::string> keys_sent;  // workers holding this job_key
    std::map<jobs::TaskId, std::map<crypto::Digest256, swarm::v1::Batch>> outputs;
    crypto::PeerIdBytes submitter{};
    uint32_t tasks = 0;
    Nanos submitted_at = 0;
  };
  grpc::Status Refuse(grpc::StatusCode code, const std::string& reason, const std::string& message);
  // Makes room for one more job of `caller` with `tasks` tasks (mu_ held).
  grpc::Status MakeRoom(const crypto::PeerIdBytes& caller, uint32_t tasks, Nanos now);
  void ForgetJobLocked(jobs::JobId id);
  void Loop();
  void RefreshWorkers(Nanos now);
  void Dispatch(Nanos now);
  void Handle(Completion&& c, Nanos now);
  void ExportMetrics(Nanos now);
  struct PendingSend {
    std::string worker;
    swarm::v1::RunTaskRequest req;
    jobs::JobId job = 0;
    jobs::TaskId task = 0;
    bool probe = false;
    uint64_t nonce = 0;
    Nanos timeout = 0;
  };
  // Called without mu_ held (a gRPC callback may take it).
  void Send(PendingSend p);
  Nanos Now() const;

  JobsConfig config_;
  Node* node_ = nullptr;

  // Worker side.
  std::mutex cache_mu_;
  std::list<std::shared_ptr<const jobs::PreparedJob>> cache_;  // most recent first
  std::mutex slots_mu_;
  std::condition_variable slots_cv_;
  uint32_t slots_busy_ = 0;
  std::atomic<uint64_t> tasks_run_{0}, tasks_refused_{0}, probes_run_{0};

  // Queen side (mu_).
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<jobs::Queen> queen_;
  std::optional<jobs::Scout> scout_;
  std::map<std::string, jobs::WorkerId> worker_ids_;
  std::map<jobs::WorkerId, std::string> worker_addrs_;
  jobs::WorkerId next_worker_ = 1;
  std::map<std::string, Nanos> not_workers_;  // address -> retry time
  std::function<std::vector<AdmittedWorker>()> admitted_workers_;
  bool warned_no_workers_ = false;
  std::mutex refused_mu_;
  std::map<std::string, uint64_t> refused_;
  std::map<jobs::JobId, JobRecord> jobs_;
  std::deque<jobs::JobId> job_order_;
  // Starts at a random value in [1, 2^53) (exact in JSON): jobs live in
  // memory only, and a restarted queen must not hand a client polling an old
  // id the results of a new job under the same id.
  jobs::JobId next_job_ = 1;
  std::deque<Completion> completions_;
  std::vector<PendingSend> sends_;
  std::atomic<int> calls_in_flight_{0};
  bool stop_ = false;
  std::thread thread_;
  jobs::QueenCounters exported_{};

  // Metrics (null until Start).
  prometheus::Family<prometheus::Counter>* tasks_family_ = nullptr;
  prometheus::Counter* exclusions_ = nullptr;
  prometheus::Family<prometheus::Gauge>* pheromone_ = nullptr;
  prometheus::Counter* worker_tasks_ = nullptr;
};

}  // namespace swarm::node
