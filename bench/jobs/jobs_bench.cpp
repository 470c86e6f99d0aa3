// bench_jobs: throughput of the job service's scheduling and cross-checking.
// A 1,000-task job (each task: y = rescale(relinearize(x * x)), CKKS N = 4096)
// runs through the real jobs::Queen with W worker threads in this process (no
// network: assignments and results pass through in-memory queues; each worker
// really evaluates, serializes and hashes its outputs). Rows:
//   tasks/s with 1, 2 and 4 workers at quorum 1, and at quorum 3 (f = 1,
//   every task on 3 workers: the cost of guardians) — each beside the
//   single-process evaluation of the same 1,000 tasks in a plain loop,
//   measured in the same run.
// The machine has 2 cores shared with other work: more than 2 workers cannot
// scale here. Flags: --tasks N (default 1000).
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "bench_util.h"
#include "fhe/ckks.h"
#include "fhe/keys.h"
#include "fhe/serialize.h"
#include "jobs/evaluate.h"
#include "jobs/queen.h"

using namespace swarm;

namespace {

const char* kCircuit = R"(
scheme = "ckks"
inputs = ["x"]
outputs = ["y"]
[[op]]
id = "xx"
op = "mul"
args = ["x", "x"]
[[op]]
id = "r"
op = "relinearize"
args = ["xx"]
[[op]]
id = "y"
op = "rescale"
args = ["r"]
)";

struct Setup {
  jobs::Circuit circuit;
  jobs::EvalKeys keys;
  std::vector<jobs::Values> pool;  // inputs; task t uses pool[t % size]
};

crypto::Digest256 RunOne(const Setup& s, uint32_t task) {
  auto out = jobs::Evaluate(s.circuit, s.keys, s.pool[task % s.pool.size()]);
  if (!out.ok()) {
    std::fprintf(stderr, "bench_jobs: %s\n", std::string(out.status().message()).c_str());
    std::exit(1);
  }
  return jobs::ResultDigest(jobs::SerializeOutputs(s.circuit, s.keys, *out));
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Seconds to finish a job of `tasks` tasks with `workers` worker threads.
double RunJob(const Setup& s, uint32_t tasks, uint32_t workers, uint32_t f, uint64_t* exclusions) {
  jobs::QueenConfig qc;
  qc.f = f;
  qc.worker_inflight_max = 2;
  qc.task_deadline = Seconds(600);
  qc.task_attempts_max = std::max<uint32_t>(16, 2 * f + 1);
  auto queen = *jobs::Queen::Create(qc);
  struct Done {
    uint32_t worker;
    jobs::Assignment a;
    crypto::Digest256 d;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::deque<jobs::Assignment>> inbox(workers);
  std::deque<Done> results;
  bool stop = false;
  std::vector<std::thread> threads;
  for (uint32_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      std::unique_lock<std::mutex> lock(mu);
      while (true) {
        cv.wait(lock, [&] { return stop || !inbox[w].empty(); });
        if (stop) return;
        const jobs::Assignment a = inbox[w].front();
        inbox[w].pop_front();
        lock.unlock();
        const auto d = RunOne(s, a.task);
        lock.lock();
        results.push_back(Done{w, a, d});
        cv.notify_all();
      }
    });
  }
  const double start = Now();
  std::unique_lock<std::mutex> lock(mu);
  for (uint32_t w = 0; w < workers; ++w) (void)queen.AddWorker(w, false, 1.0, 0);
  (void)queen.SubmitJob(1, tasks, 0);
  while (true) {
    for (const auto& a : queen.TakeAssignments()) inbox[a.worker].push_back(a);
    cv.notify_all();
    if (queen.Progress(1)->state != jobs::JobState::kRunning) break;
    cv.wait(lock, [&] { return !results.empty(); });
    const Nanos now = static_cast<Nanos>((Now() - start) * 1e9);
    while (!results.empty()) {
      const Done r = results.front();
      results.pop_front();
      queen.OnResult(r.worker, r.a.job, r.a.task, r.d, now);
    }
  }
  const double secs = Now() - start;
  stop = true;
  cv.notify_all();
  lock.unlock();
  for (auto& t : threads) t.join();
  if (queen.Progress(1)->state != jobs::JobState::kDone) {
    std::fprintf(stderr, "bench_jobs: job failed: %s\n", queen.Progress(1)->error.c_str());
    std::exit(1);
  }
  *exclusions = queen.counters().exclusions;
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t tasks = 1000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--tasks") == 0 && i + 1 < argc) tasks = static_cast<uint32_t>(std::atoi(argv[++i]));
  }
  if (tasks < 1) tasks = 1;
  Setup s;
  s.circuit = *jobs::ParseCircuit(kCircuit);
  s.keys.ctx = *fhe::Context::Create(*fhe::CkksPreset(4096));
  auto kg = *fhe::KeyGenerator::Create(s.keys.ctx);
  auto sk = kg.GenerateSecretKey();
  s.keys.relin = std::make_shared<const fhe::RelinKey>(*kg.GenerateRelinKey(sk));
  auto enc = *fhe::Encryptor::Create(s.keys.ctx, sk);
  fhe::CkksEncoder encoder(s.keys.ctx);
  for (int i = 0; i < 16; ++i) {
    const std::vector<double> v = {1.0 + i, 0.5, -2.0};
    s.pool.push_back({{"x", *enc.Encrypt(*encoder.Encode(std::span<const double>(v)))}});
  }
  const std::string cmd = "build/bench/jobs/bench_jobs --tasks " + std::to_string(tasks);
  const std::string what = std::to_string(tasks) + "-task job (x*x, relin, rescale; CKKS N=4096)";

  // Anchor: the same tasks evaluated in one plain loop, no scheduling.
  const double t0 = Now();
  for (uint32_t t = 0; t < tasks; ++t) (void)RunOne(s, t);
  const double single = static_cast<double>(tasks) / (Now() - t0);

  uint64_t excl = 0;
  double q1_3workers = 0;
  for (uint32_t w : {1u, 2u, 3u, 4u}) {
    const double secs = RunJob(s, tasks, w, 0, &excl);
    const double rate = tasks / secs;
    if (w == 3) q1_3workers = rate;
    if (w == 3) continue;  // only the anchor of the quorum-3 row
    bench::Emit({"jobs", what + ", quorum 1, " + std::to_string(w) + " worker thread(s) in one process", rate, "tasks/s",
                 "single-process evaluation of the same tasks (plain loop)", single, "tasks/s",
                 "queen (jobs::Queen) + in-process worker threads, no network; 2 shared cores: >2 workers cannot scale; job took " +
                     std::to_string(secs) + " s",
                 cmd});
  }
  const double secs3 = RunJob(s, tasks, 3, 1, &excl);
  bench::Emit({"jobs", what + ", quorum 3 (f=1, every task on 3 of 3 workers)", tasks / secs3, "tasks/s",
               "quorum 1 with the same 3 worker threads, same run", q1_3workers, "tasks/s",
               "ratio = cost of cross-checking (ideal 1/3 of the work per accepted task when cores are the limit); job took " +
                   std::to_string(secs3) + " s",
               cmd});
  return 0;
}
