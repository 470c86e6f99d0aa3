// The queen: a sans-I/O scheduler that splits jobs into tasks, assigns each
// task to a quorum of workers chosen by pheromone weight (pheromone.h),
// accepts a task's result when enough workers returned the same digest
// (SHA3-256 of the serialized outputs; evaluation is deterministic, so honest
// results are byte-identical), excludes and counts a worker whose digest
// disagrees with an accepted one, and re-schedules the tasks of a worker that
// died, failed or missed its deadline.
//
// Quorum modes:
//   kReplicate — every task goes to 2f+1 distinct workers and is accepted when
//     f+1 digests match. With at most f liars among the workers that answer a
//     task, the accepted digest is the honest one (f+1 matching votes include
//     an honest worker). f = 0 is "quorum 1": the first result is accepted.
//   kSample — every task goes to one worker; a fraction `audit_fraction` of
//     tasks (chosen by the seeded Rng) also goes to a guardian (a worker
//     registered with guardian = true, else any other worker) and needs both
//     digests to match. An unaudited task accepts its single result: a liar
//     escapes with probability (1 - audit_fraction) per task, and is excluded
//     on the first audited task it lies on.
//   In both modes a disagreement escalates the task to "f+1 matching of 2f+1"
//   (f >= 1), adding workers until some digest reaches f+1 or
//   task_attempts_max assignments were made (then the job fails, naming the
//   task).
//
// Operators (Sybil resistance): every worker belongs to an operator (from its
// admission grant; a worker added without one is its own operator). A task is
// never outstanding or answered twice by one operator (two of its workers),
// and matching digests count once per operator (a late answer after a missed
// deadline included). So any number of Sybils of one operator is one vote: liars of one
// operator can neither form an f+1 quorum nor outvote (and so get excluded) an
// honest worker; that takes f+1 colluding operators. A task waits while fewer
// operators than its fan-out have free workers.
//
// Driving (etcd-raft style): the caller feeds events — AddWorker/RemoveWorker,
// SubmitJob, OnResult/OnFailure from workers, OnTick(now) — and after each
// call takes TakeOutbox() and sends each (job, task) to its worker.
// Results that arrive after a deadline still count as votes. Nothing here
// reads a clock, a socket or a thread; randomness is the seeded Rng.
//
// Thread-safety: none; one thread (or one lock) drives a Queen.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/rng.h"
#include "common/status.h"
#include "crypto/hash.h"
#include "jobs/pheromone.h"

namespace swarm::jobs {

using WorkerId = uint32_t;
using JobId = uint64_t;
using TaskId = uint32_t;

enum class QuorumMode { kReplicate, kSample };

struct QueenConfig {
  QuorumMode mode = QuorumMode::kReplicate;
  uint32_t f = 1;                       // tolerated liars per task (replicate: 2f+1 workers)
  double audit_fraction = 0.2;          // kSample: share of tasks re-run by a guardian
  Nanos task_deadline = Seconds(10);
  uint32_t worker_inflight_max = 4;     // assignments outstanding per worker
  uint32_t task_attempts_max = 16;      // assignments per task before the job fails
  uint32_t job_tasks_max = 1u << 20;
  uint32_t jobs_active_max = 64;
  PheromoneParams pheromone;
  uint64_t seed = 1;
  Status Validate() const;
};

struct Assignment {
  JobId job = 0;
  TaskId task = 0;
  WorkerId worker = 0;
  Nanos deadline = 0;
};

enum class JobState { kRunning, kDone, kFailed };

struct JobProgress {
  JobState state = JobState::kRunning;
  uint32_t tasks_total = 0;
  uint32_t tasks_done = 0;
  uint64_t exclusions = 0;  // workers excluded for a disagreeing digest on this job
  std::string error;         // kFailed
};

struct WorkerInfo {
  WorkerId id = 0;
  std::string operator_name;
  bool guardian = false;
  bool excluded = false;
  double tau = 0;
  uint32_t inflight = 0;
  uint64_t matched = 0;      // results equal to the accepted digest
  uint64_t disagreed = 0;    // results different from it
  uint64_t missed = 0;       // deadlines missed or failures reported
};

struct QueenCounters {
  uint64_t assignments = 0;
  uint64_t results_matching = 0;
  uint64_t results_disagreeing = 0;
  uint64_t results_ignored = 0;   // unknown task, excluded sender, duplicate vote
  uint64_t deadline_misses = 0;
  uint64_t failures = 0;
  uint64_t rescheduled_dead = 0;
  uint64_t exclusions = 0;
  uint64_t tasks_accepted = 0;
  uint64_t escalations = 0;
  uint64_t jobs_done = 0;
  uint64_t jobs_failed = 0;
};

class Queen {
 public:
  static StatusOr<Queen> Create(QueenConfig config);

  // A worker joins (guardian: may audit in kSample). hint: scout throughput
  // ratio. `operator_name` from the worker's grant; "" = its own operator.
  Status AddWorker(WorkerId w, bool guardian, double hint, Nanos now, const std::string& operator_name = "");
  // Scout result for a worker that has no results yet (ignored otherwise).
  void SetThroughputHint(WorkerId w, double hint, Nanos now);
  // The worker died or left: its outstanding tasks are re-scheduled.
  void RemoveWorker(WorkerId w, Nanos now);

  // A job of `task_count` tasks (per-ciphertext batches, numbered 0..count-1).
  Status SubmitJob(JobId job, uint32_t task_count, Nanos now);
  // Forget a finished job (frees its state).
  void ForgetJob(JobId job);

  // The worker's result digest for a task. Unknown job/task or an excluded
  // worker: ignored (counted), not an error to the caller.
  void OnResult(WorkerId from, JobId job, TaskId task, const crypto::Digest256& digest, Nanos now);
  // The worker could not run the task (error, refused): penalized, re-scheduled.
  void OnFailure(WorkerId from, JobId job, TaskId task, Nanos now);
  // Expires deadlines and assigns pending tasks.
  void OnTick(Nanos now);
  // Earliest outstanding deadline (to schedule the next OnTick), if any.
  std::optional<Nanos> NextDeadline() const;

  std::vector<Assignment> TakeOutbox();

  StatusOr<JobProgress> Progress(JobId job) const;
  // The accepted digest of a task (once accepted).
  std::optional<crypto::Digest256> Accepted(JobId job, TaskId task) const;
  std::vector<WorkerInfo> Workers(Nanos now) const;
  const QueenCounters& counters() const { return counters_; }
  const QueenConfig& config() const { return config_; }

 private:
  struct Task {
    uint32_t need = 1;       // matching digests to accept
    uint32_t fanout = 1;     // assignments wanted in total (votes + outstanding)
    bool audited = false;    // kSample: one assignment must go to a guardian if possible
    uint32_t attempts = 0;
    std::map<crypto::Digest256, std::vector<WorkerId>> votes;
    std::set<WorkerId> voted;
    std::map<WorkerId, Nanos> outstanding;  // worker -> deadline
    std::set<WorkerId> expired;             // asked, deadline passed or task accepted: a late answer still counts
    std::optional<crypto::Digest256> accepted;
  };
  struct Job {
    std::vector<Task> tasks;
    JobProgress progress;
  };
  struct Worker {
    bool guardian = false;
    std::string op;  // operator; "#<id>" when the worker has none
    bool excluded = false;
    uint32_t inflight = 0;
    uint64_t matched = 0, disagreed = 0, missed = 0;
  };
  using Key = std::pair<JobId, TaskId>;

  explicit Queen(QueenConfig c) : config_(c), pheromone_(c.pheromone), rng_(c.seed) {}
  void Pump(Nanos now);
  bool AssignOne(JobId job, TaskId t, Task& task, Nanos now);
  void Vote(WorkerId from, JobId job, TaskId t, const crypto::Digest256& d, Nanos now);
  void Judge(WorkerId w, Task& task, const crypto::Digest256& d, JobId job, Nanos now);
  void Exclude(WorkerId w, JobId job, Nanos now);
  void DropOutstanding(WorkerId w, JobId job, TaskId t);
  void Escalate(Task& task);
  void Fail(JobId job, const std::string& why);
  void MaybeFinish(JobId job);
  // Distinct operators among `ws`.
  size_t Operators(const std::vector<WorkerId>& ws) const;
  // True when w's operator already answered or holds this task.
  bool OperatorTaken(const Task& task, WorkerId w) const;

  QueenConfig config_;
  PheromoneTable pheromone_;
  Rng rng_;
  std::map<WorkerId, Worker> workers_;
  std::map<JobId, Job> jobs_;
  std::set<Key> open_;  // tasks not yet accepted (of running jobs), in submission order
  std::vector<Assignment> outbox_;
  QueenCounters counters_;
};

}  // namespace swarm::jobs
