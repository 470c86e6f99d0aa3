// The [jobs] extension: the FHE job service (node/jobs/service.h) with its
// roles — queen (schedules), worker (evaluates), guardian (audits in sample
// mode), scout (probes throughput); see docs/jobs.md.
//
// Keys (all under [jobs]; `swarm node --print-config` lists them):
//   role               "off"   comma-separated: queen, worker, guardian, scout
//   quorum             3       workers per task (2f+1, odd); 1 = no cross-check
//   mode               "replicate" | "sample" (one worker + audits)
//   audit_fraction     0.2     sample mode: share of tasks re-run by a guardian
//   task_deadline_ms   30000   a task not answered in time is re-scheduled
//   worker_inflight_max 2      tasks outstanding per worker
//   task_attempts_max  16      assignments per task before the job fails
//   workers            []      worker addresses (empty = alive members)
//   guardians          []      addresses the queen treats as guardians
//   pheromone_*        see jobs/pheromone.h (initial, min, max, evaporation, deposit, miss_factor, alpha)
//   scout_interval_ms  10000   probe period (scout role)
//   worker_threads     1       evaluations at once on a worker
//   jobs_retained_max  16      finished jobs kept for JobStatus
//   lie                false   TEST ONLY: a worker that corrupts every result
// Metrics: swarm_jobs_tasks_total{outcome}, swarm_jobs_worker_exclusions_total,
// swarm_jobs_worker_pheromone{worker}, swarm_jobs_worker_tasks_run_total.
// Status JSON "jobs": roles, queen counters, workers (pheromone, excluded), jobs.
#pragma once

#include "node/extension.h"

namespace swarm::node {

ExtensionFactory JobsExtensionFactory();

}  // namespace swarm::node
