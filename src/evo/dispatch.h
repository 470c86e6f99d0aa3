// Dispatch policy for remote fitness evaluation, as a sans-I/O state machine.
//
// The driver (client/evo_pool.h over gRPC, or a test) owns the transport, the
// clock and the local evaluation threads:
//
//   Dispatcher d(cfg, seed);
//   d.AddEvaluator("10.0.0.2:7000", /*capacity=*/4);
//   d.StartBatch(n, now);                       // jobs 0..n-1
//   while (!d.done()) {
//     Work w = d.Poll(now);                     // 1. send w.remote requests
//                                               // 2. evaluate w.local and w.checks
//     ... d.OnRemoteReply(id, results, now) / d.OnRemoteFailure(id, why, now)
//     ... d.OnLocalResult(job, r) / d.OnCheckResult(job, r)
//   }
//   std::vector<StatusOr<double>> r = d.TakeOutbox();
//
// Policy:
//   * Each pending job goes to the local evaluator with probability
//     `prefer_local` when a local slot is free (work-conserving: with the
//     local slots busy it goes remote), else to a usable evaluator
//     drawn with probability proportional to its free capacity
//     (capacity * pipeline_depth - jobs in flight). Jobs drawn for the same
//     evaluator in one Poll share one request (at most batch_genomes_max).
//   * A request not answered within `evaluation_timeout` fails; its jobs are
//     re-dispatched (preferring another evaluator) up to `retries` times, then
//     evaluated locally. An evaluator with `failures_to_down` consecutive
//     failed requests is skipped for `down_cooldown`.
//   * With no usable evaluator, pending jobs fall back to local evaluation.
//   * NaN/Inf from an evaluator, or an error for one genome, is a failed
//     evaluation of that job (counted) and the job is retried like above.
//   * Spot checks (deterministic tasks): each remote fitness is, with
//     probability `spot_check_fraction`, re-evaluated locally before it is
//     accepted. A disagreement beyond `spot_check_tolerance` (relative)
//     excludes the evaluator for the rest of the run: its other results of the
//     current batch are discarded and re-dispatched, late replies ignored.
//     Results accepted in earlier batches stay (the island's solution check
//     always runs locally, so a lie cannot fake a solution).
//   * Local results are trusted (the local Task checks NaN/Inf itself); a
//     failed local evaluation is final for that job.
//
// Thread-safety: none; one driver thread. Deterministic from the seed and the
// sequence of calls.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/rng.h"
#include "common/status.h"

namespace swarm::evo {

struct DispatchConfig {
  double prefer_local = 0.0;           // probability a job is evaluated locally
  Nanos evaluation_timeout = Seconds(10);  // per remote request
  uint32_t retries = 2;                // remote re-dispatches of a job before local fall-back
  double spot_check_fraction = 0.05;   // of remote results, re-evaluated locally
  double spot_check_tolerance = 1e-9;  // relative difference that still agrees
  bool deterministic = true;           // spot checks only make sense for deterministic tasks
  uint32_t failures_to_down = 2;       // consecutive failed requests before a cooldown
  Nanos down_cooldown = Seconds(2);
  uint32_t local_slots = 1;            // local evaluations at once (>= 1)
  uint32_t pipeline_depth = 2;         // in-flight jobs per unit of evaluator capacity
  uint32_t batch_genomes_max = 64;     // jobs per remote request

  Status Validate() const;
};

struct DispatchCounters {
  uint64_t remote_results = 0;      // accepted fitness values from evaluators
  uint64_t local_results = 0;       // jobs whose final value came from local evaluation
  uint64_t fallback_local = 0;      // of those, after retries ran out or no evaluator was usable
  uint64_t failed_evaluations = 0;  // remote per-genome errors, NaN/Inf, timed-out or failed jobs
  uint64_t non_finite = 0;          // of those, NaN or Inf fitness
  uint64_t timeouts = 0;            // requests that exceeded evaluation_timeout
  uint64_t request_failures = 0;    // requests failed by the transport or timeout
  uint64_t requests_sent = 0;
  uint64_t spot_checks = 0;
  uint64_t spot_check_mismatches = 0;
  uint64_t exclusions = 0;          // evaluators excluded
};

struct EvaluatorView {
  std::string id;
  uint32_t capacity = 0;
  uint32_t in_flight = 0;
  bool excluded = false;
  bool down = false;  // in cooldown after consecutive failures
  uint64_t results = 0;
};

class Dispatcher {
 public:
  struct Request {
    uint64_t id = 0;
    std::string evaluator;
    std::vector<size_t> jobs;  // indices into the batch
    Nanos deadline = 0;
  };
  struct Work {
    std::vector<Request> remote;  // send each; answer with OnRemoteReply / OnRemoteFailure
    std::vector<size_t> local;    // evaluate; answer with OnLocalResult
    std::vector<size_t> checks;   // evaluate; answer with OnCheckResult
  };

  Dispatcher(DispatchConfig cfg, uint64_t seed);

  // Registers (or re-registers with a new capacity) an evaluator. An excluded
  // evaluator stays excluded. Capacity must be >= 1.
  Status AddEvaluator(const std::string& id, uint32_t capacity);
  // Forgets an evaluator; its in-flight requests count as failed.
  void RemoveEvaluator(const std::string& id, Nanos now);

  // Starts a batch of `jobs` evaluations. The previous batch must be done.
  void StartBatch(size_t jobs, Nanos now);
  // Handles time-outs and returns the work to start now.
  Work Poll(Nanos now);
  // One result per job of the request, in order; a size mismatch fails the
  // whole request. Replies to unknown (timed-out, excluded) requests are ignored.
  void OnRemoteReply(uint64_t request_id, const std::vector<StatusOr<double>>& results, Nanos now);
  void OnRemoteFailure(uint64_t request_id, const Status& why, Nanos now);
  void OnLocalResult(size_t job, const StatusOr<double>& result);
  void OnCheckResult(size_t job, const StatusOr<double>& result);

  bool done() const;
  // Earliest request deadline or cooldown end (0 = none): when to Poll next
  // at the latest if nothing arrives.
  Nanos NextDeadline() const;
  // The batch's results in job order (valid once done()); resets the batch.
  std::vector<StatusOr<double>> TakeOutbox();

  const DispatchCounters& counters() const { return counters_; }
  std::vector<EvaluatorView> evaluators(Nanos now) const;
  size_t usable_evaluators(Nanos now) const;
  const DispatchConfig& config() const { return cfg_; }

 private:
  enum class JobState { kPending, kRemote, kLocal, kChecking, kDone };
  struct Job {
    JobState state = JobState::kPending;
    uint32_t attempts = 0;       // failed remote dispatches
    std::string last_evaluator;  // to avoid on retry, and to blame on a check
    double remote_fitness = 0;   // while kChecking
    StatusOr<double> result = absl::UnavailableError("not evaluated");
  };
  struct Evaluator {
    uint32_t capacity = 1;
    uint32_t in_flight = 0;
    uint32_t consecutive_failures = 0;
    Nanos down_until = 0;
    bool excluded = false;
    uint64_t results = 0;
  };
  bool Usable(const Evaluator& e, Nanos now) const;
  uint32_t Free(const Evaluator& e) const;
  void FailJob(size_t job, const std::string& evaluator);
  void FailRequest(uint64_t request_id, Nanos now);
  void Exclude(const std::string& id);

  DispatchConfig cfg_;
  Rng rng_;
  std::map<std::string, Evaluator> evaluators_;
  std::map<uint64_t, Request> requests_;  // in flight
  std::vector<Job> jobs_;
  std::vector<size_t> checks_to_start_;  // handed out by the next Poll
  uint32_t local_in_flight_ = 0;
  uint64_t next_request_id_ = 1;
  size_t done_jobs_ = 0;
  DispatchCounters counters_;
};

}  // namespace swarm::evo
