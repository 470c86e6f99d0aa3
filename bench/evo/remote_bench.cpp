// Remote fitness evaluation over gRPC on loopback (client/evo_pool.h against
// evaluator processes serving node/evo/service.h):
//   * CPU-bound task: evaluations/s with 1, 2, 4 evaluator processes
//     (capacity 1 each), as parallel efficiency = speedup over 1 evaluator /
//     min(evaluators, cores). Anchor: the same genomes evaluated in this
//     process on one thread.
//   * 10 ms simulated latency per request (evo.latency_ms) with a light task
//     (XOR): evaluations/s with 1, 2, 4 evaluators; speedup over 1 should be
//     close to the evaluator count since waiting costs no CPU.
//   * Per-evaluation RPC overhead in µs: XOR through 1 evaluator minus the
//     same evaluations done locally.
//
//   bench_evo_remote [--rounds N]
// Evaluator processes are forked before any gRPC use in this process and
// die with it (PR_SET_PDEATHSIG).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "evo/island.h"
#include "evo/operators.h"
#include "evo/presets.h"
#include "evo/tasks.h"
#include "net/rpc.h"
#include "client/evo_pool.h"
#include "node/evo/service.h"

namespace {

using namespace swarm;
using Clock = std::chrono::steady_clock;

struct Child {
  pid_t pid = -1;
  std::string address;
};

// Forks one evaluator process; returns after it reported its port.
Child ForkEvaluator(uint32_t capacity, int latency_ms) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    close(fds[0]);
    node::EvoServiceConfig cfg;
    cfg.evaluator_id = "bench";
    cfg.capacity = capacity;
    cfg.latency = Millis(latency_ms);
    auto svc = node::EvoEvaluatorService::Create(cfg);
    if (!svc.ok()) _exit(3);
    auto srv = net::RpcServer::Start("127.0.0.1:0", net::NetOptions{}, {svc->get()});
    if (!srv.ok()) _exit(4);
    const int port = (*srv)->port();
    if (write(fds[1], &port, sizeof port) != sizeof port) _exit(5);
    close(fds[1]);
    for (;;) pause();
  }
  close(fds[1]);
  int port = 0;
  if (read(fds[0], &port, sizeof port) != sizeof port) {
    std::fprintf(stderr, "bench_evo_remote: evaluator process failed to start\n");
    std::exit(1);
  }
  close(fds[0]);
  return {pid, "127.0.0.1:" + std::to_string(port)};
}

// CPU seconds (user + system) a process has used so far, from /proc.
double CpuSeconds(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return 0;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');  // fields after "(comm)"
  if (!p) return 0;
  unsigned long utime = 0, stime = 0;
  // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    return 0;
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

double LoadAverage() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : 0;
}

std::vector<const evo::Genome*> Ptrs(const std::vector<evo::Genome>& v) {
  std::vector<const evo::Genome*> p;
  for (const auto& g : v) p.push_back(&g);
  return p;
}

// Evaluations/s of `genomes` through a pool of the given evaluators.
// `cores_used` (optional) receives the evaluators' CPU seconds per wall second.
double PoolRate(const std::vector<Child>& evaluators, size_t k, const std::string& task_name,
                const evo::Task& task, const std::vector<evo::Genome>& genomes, int rounds,
                uint64_t* failed, double* cores_used = nullptr) {
  node::RemotePoolConfig pc;
  pc.task = task_name;
  pc.dispatch.spot_check_fraction = 0;
  pc.dispatch.evaluation_timeout = Seconds(60);
  node::RemoteEvaluatorPool pool(pc, &task);
  for (size_t i = 0; i < k; ++i) {
    if (!pool.AddEvaluator(evaluators[i].address).ok()) std::abort();
  }
  auto ptrs = Ptrs(genomes);
  pool.EvaluateBatch(ptrs);  // warm up channels
  double cpu0 = 0;
  for (size_t i = 0; i < k; ++i) cpu0 += CpuSeconds(evaluators[i].pid);
  const auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r) pool.EvaluateBatch(ptrs);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu1 = 0;
  for (size_t i = 0; i < k; ++i) cpu1 += CpuSeconds(evaluators[i].pid);
  if (cores_used) *cores_used = (cpu1 - cpu0) / s;
  *failed += pool.counters().failed_evaluations + pool.counters().local_results;
  return rounds * genomes.size() / s;
}

double LocalRate(const evo::Task& task, const std::vector<evo::Genome>& genomes, int rounds) {
  const auto t0 = Clock::now();
  for (int r = 0; r < rounds; ++r)
    for (const auto& g : genomes)
      if (!task.Evaluate(g).ok()) std::abort();
  return rounds * genomes.size() / std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::atoi(argv[++i]));
  const std::string cmd = "build/bench/evo/bench_evo_remote";

  std::vector<Child> plain, slow;
  for (int i = 0; i < 4; ++i) plain.push_back(ForkEvaluator(1, 0));
  for (int i = 0; i < 4; ++i) slow.push_back(ForkEvaluator(1, 10));
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

  // CPU-bound genomes: a single-pole controller NEAT found that balances the
  // full 100,000 steps (each evaluation simulates all of them).
  evo::PoleTask pole(evo::PoleTask::Kind::kSingle);
  evo::TaskEvaluator local_eval(&pole);
  evo::Island island(*evo::PresetConfig("single-pole"), &pole, 7);
  for (int g = 0; g < 200 && !island.solved(); ++g)
    if (!island.Step(local_eval).ok()) std::abort();
  const evo::Scored champion = island.solution() ? *island.solution() : *island.champion();
  std::vector<evo::Genome> heavy(16, champion.genome);
  const double local_heavy = LocalRate(pole, heavy, rounds);
  uint64_t failed = 0;
  double rate1 = 0;
  for (size_t k : {1, 2, 4}) {
    double cores_used = 0;
    const double load = LoadAverage();
    const double r = PoolRate(plain, k, "single-pole", pole, heavy, rounds, &failed, &cores_used);
    if (k == 1) rate1 = r;
    const double eff = (r / rate1) / std::min<double>(k, cores);
    char ctx[256];
    std::snprintf(ctx, sizeof ctx,
                  "; the evaluators got %.2f CPU cores in total (1-min load average %.1f), "
                  "%.1f evaluations per evaluator CPU-second",
                  cores_used, load, cores_used > 0 ? r / cores_used : 0.0);
    swarm::bench::Emit({"evo", "remote evaluations/s, CPU-bound (single-pole, " +
                                   std::to_string(static_cast<long>(champion.fitness)) +
                                   " steps), " + std::to_string(k) + " evaluator process(es)",
                        r, "evals/s", "same genomes evaluated in this process, 1 thread", local_heavy,
                        "", "parallel efficiency = speedup over 1 evaluator / min(evaluators, " +
                                std::to_string(cores) + " cores) = " + std::to_string(eff) + ctx,
                        cmd});
  }

  // Light task with 10 ms simulated latency per request.
  evo::XorTask xor_task;
  evo::NeatConfig xcfg = *evo::PresetConfig("xor");
  Rng rng(11);
  std::vector<evo::Genome> light;
  for (int i = 0; i < 200; ++i) light.push_back(evo::RandomInitialGenome(2, 1, xcfg, rng));
  double slow1 = 0;
  for (size_t k : {1, 2, 4}) {
    const double r = PoolRate(slow, k, "xor", xor_task, light, 1, &failed);
    if (k == 1) slow1 = r;
    swarm::bench::Emit({"evo", "remote evaluations/s, 10 ms latency per request (xor), " +
                                   std::to_string(k) + " evaluator process(es)",
                        r, "evals/s", "1 evaluator with the same latency", slow1, "",
                        "ratio = speedup over 1 evaluator (ideal: the evaluator count); capacity 1, "
                        "pipeline depth 2 per evaluator",
                        cmd});
  }

  // Per-evaluation RPC overhead: XOR via one evaluator vs locally.
  std::vector<evo::Genome> xs(light.begin(), light.begin() + 100);
  const double local_x = LocalRate(xor_task, xs, 20);
  const double remote_x = PoolRate(plain, 1, "xor", xor_task, xs, 5, &failed);
  const double overhead_us = (1.0 / remote_x - 1.0 / local_x) * 1e6;
  swarm::bench::Emit({"evo", "remote evaluation overhead per genome (xor, 1 evaluator, <= 2 genomes per request)",
                      overhead_us, "us", "local xor evaluation", 1e6 / local_x, "us",
                      "remote time per evaluation minus local; includes JSON genome encoding/decoding, "
                      "gRPC round trip and dispatch",
                      cmd});
  if (failed) std::fprintf(stderr, "bench_evo_remote: %llu evaluations failed or fell back locally\n",
                           static_cast<unsigned long long>(failed));
  for (auto& c : plain) kill(c.pid, SIGKILL);
  for (auto& c : slow) kill(c.pid, SIGKILL);
  while (wait(nullptr) > 0) {
  }
  return 0;
}
