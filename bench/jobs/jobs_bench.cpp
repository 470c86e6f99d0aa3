// bench_jobs: what the FHE job service costs per task, on a 1,000-task job
// of small tasks (y = x + x on CKKS N = 4096 ciphertexts at level 0, 64 KiB
// each: the arithmetic is cheap, so scheduling, cross-checking, transport and
// the per-task serialization and hashing show). Rows:
//   * in-process: the same tasks through the real jobs::Queen with one worker
//     thread in this process (no network), beside the plain loop — the cost
//     of the scheduler's state machine alone;
//   * distributed (jobs_remote.cpp): `swarm node` worker processes and a
//     queen process on loopback gRPC; tasks/s with 1, 2 and 4 worker
//     processes at quorum 1 (ratio = speedup over 1 worker), and quorum 3 vs
//     quorum 1 with the same 4 workers (the cost of guardians), and sample
//     mode (one worker per task, 20 % audited by a second one) vs quorum 1.
// The machine's core count is printed in each row: with 2 cores, more than 2
// busy processes cannot scale.
//   bench_jobs [--tasks N] [--swarm PATH]   (default: the build's swarm binary)
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "bench_util.h"
#include "fhe/serialize.h"
#include "jobs/queen.h"
#include "jobs_bench.h"

namespace swarm::benchjobs {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Setup MakeSetup(size_t pool_size) {
  Setup s;
  s.circuit_text = "scheme = \"ckks\"\ninputs = [\"x\"]\noutputs = [\"y\"]\n[[op]]\nid = \"y\"\nop = \"add\"\nargs = [\"x\", \"x\"]\n";
  s.circuit = *jobs::ParseCircuit(s.circuit_text);
  s.keys.ctx = *fhe::Context::Create(*fhe::CkksPreset(4096));
  auto kg = *fhe::KeyGenerator::Create(s.keys.ctx);
  s.sk = kg.GenerateSecretKey();
  auto enc = *fhe::Encryptor::Create(s.keys.ctx, *s.sk);
  fhe::CkksEncoder encoder(s.keys.ctx);
  fhe::CkksEvaluator eval(s.keys.ctx);
  for (size_t i = 0; i < pool_size; ++i) {
    s.plain.push_back({1.0 + static_cast<double>(i), 0.5, -2.0});
    auto ct = *enc.Encrypt(*encoder.Encode(std::span<const double>(s.plain.back())));
    s.pool.push_back({{"x", *eval.ModSwitchTo(ct, 0)}});  // level 0: the smallest ciphertext
  }
  return s;
}

crypto::Digest256 RunOne(const Setup& s, uint32_t task) {
  auto out = jobs::Evaluate(s.circuit, s.keys, s.pool[task % s.pool.size()]);
  if (!out.ok()) {
    std::fprintf(stderr, "bench_jobs: %s\n", std::string(out.status().message()).c_str());
    std::exit(1);
  }
  return jobs::ResultDigest(jobs::SerializeOutputs(s.circuit, s.keys, *out));
}

namespace {

// Seconds to finish a job of `tasks` tasks through jobs::Queen with one
// worker thread fed by in-memory queues.
double RunInProcess(const Setup& s, uint32_t tasks) {
  jobs::QueenConfig qc;
  qc.f = 0;
  qc.worker_inflight_max = 2;
  qc.task_deadline = Seconds(600);
  auto queen = *jobs::Queen::Create(qc);
  struct Done {
    jobs::Assignment a;
    crypto::Digest256 d;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<jobs::Assignment> inbox;
  std::deque<Done> results;
  bool stop = false;
  std::thread worker([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stop || !inbox.empty(); });
      if (stop) return;
      const jobs::Assignment a = inbox.front();
      inbox.pop_front();
      lock.unlock();
      const auto d = RunOne(s, a.task);
      lock.lock();
      results.push_back(Done{a, d});
      cv.notify_all();
    }
  });
  const double start = Now();
  std::unique_lock<std::mutex> lock(mu);
  (void)queen.AddWorker(0, false, 1.0, 0);
  (void)queen.SubmitJob(1, tasks, 0);
  while (true) {
    for (const auto& a : queen.TakeOutbox()) inbox.push_back(a);
    cv.notify_all();
    if (queen.Progress(1)->state != jobs::JobState::kRunning) break;
    cv.wait(lock, [&] { return !results.empty(); });
    const Nanos now = static_cast<Nanos>((Now() - start) * 1e9);
    while (!results.empty()) {
      const Done r = results.front();
      results.pop_front();
      queen.OnResult(0, r.a.job, r.a.task, r.d, now);
    }
  }
  const double secs = Now() - start;
  stop = true;
  cv.notify_all();
  lock.unlock();
  worker.join();
  if (queen.Progress(1)->state != jobs::JobState::kDone) {
    std::fprintf(stderr, "bench_jobs: in-process job failed: %s\n", queen.Progress(1)->error.c_str());
    std::exit(1);
  }
  return secs;
}

std::string DefaultSwarmBinary() {
#ifdef SWARM_BINARY_DIR
  return std::string(SWARM_BINARY_DIR) + "/swarm";
#else
  return "swarm";
#endif
}

}  // namespace
}  // namespace swarm::benchjobs

int main(int argc, char** argv) {
  using namespace swarm;
  using namespace swarm::benchjobs;
  uint32_t tasks = 1000;
  std::string swarm_binary = DefaultSwarmBinary();
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--tasks") == 0) tasks = static_cast<uint32_t>(std::max(1, std::atoi(argv[++i])));
    else if (std::strcmp(argv[i], "--swarm") == 0) swarm_binary = argv[++i];
  }
  const Setup s = MakeSetup(16);
  const std::string cmd = "build/bench/jobs/bench_jobs --tasks " + std::to_string(tasks);
  const std::string what = std::to_string(tasks) + "-task job (y = x + x, CKKS N=4096, level 0)";

  // Anchor: the same tasks evaluated in one plain loop, no scheduling. Each
  // in-process figure is the best of 2 runs (the machine is shared).
  double single = 0, secs = 1e300;
  for (int rep = 0; rep < 2; ++rep) {
    const double t0 = Now();
    for (uint32_t t = 0; t < tasks; ++t) (void)RunOne(s, t);
    single = std::max(single, static_cast<double>(tasks) / (Now() - t0));
    secs = std::min(secs, RunInProcess(s, tasks));
  }
  bench::Emit({"jobs", what + ", in-process: jobs::Queen + 1 worker thread, no network", tasks / secs, "tasks/s",
               "single-process evaluation of the same tasks (plain loop)", single, "tasks/s",
               "ratio = what the scheduler's state machine and the hand-off between threads leave of the plain "
               "loop; job took " + std::to_string(secs) + " s (best of 2)",
               cmd});

#ifdef SWARM_BENCH_JOBS_IN_PROCESS_ONLY
  std::fprintf(stderr, "bench_jobs: built without proto: distributed rows skipped\n");
  return 0;
#else
  if (!std::filesystem::exists(swarm_binary)) {
    std::fprintf(stderr, "bench_jobs: %s not found (build the swarm binary, or pass --swarm PATH): "
                 "distributed rows skipped\n", swarm_binary.c_str());
    return 1;
  }
  return RunRemoteRows(s, tasks, single, swarm_binary, cmd) ? 0 : 1;
#endif
}
