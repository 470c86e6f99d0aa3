// The distributed rows of bench_jobs: `swarm node` processes on loopback —
// 4 workers (jobs.role=worker) started once, and for each configuration a
// fresh queen (jobs.role=queen, jobs.workers = the first k workers,
// jobs.quorum = q). The client (jobs::JobsClient, as `swarm fhe eval` uses)
// submits the 1,000-task job and polls JobStatus every 5 ms; the figure is
// tasks / (time from Submit to the first poll that sees "done"), so it
// includes uploading the job and the queen's checks of every batch, but not
// downloading the results (fetched afterwards and checked by decrypting the
// first and last task's output). Each configuration runs the job twice on
// its queen and keeps the faster run. Membership is off: the queen knows its
// workers from jobs.workers. Every process dies with the bench
// (PR_SET_PDEATHSIG) and logs to a temporary directory that is removed.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "fhe/ckks.h"
#include "fhe/encryptor.h"
#include "fhe/serialize.h"
#include "client/jobs_client.h"
#include "jobs_bench.h"

namespace swarm::benchjobs {
namespace {

constexpr double kStartTimeoutSeconds = 60;
constexpr double kJobTimeoutSeconds = 600;
constexpr int kWorkersMax = 4;
constexpr int kRepetitions = 2;
constexpr double kAuditFraction = 0.2;  // sample mode

struct Proc {
  pid_t pid = -1;
  std::string dir, grpc;
};

// CPU seconds (user + system) a process has used so far, from /proc.
double CpuSeconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(f, line);
  const auto p = line.rfind(')');
  if (p == std::string::npos) return 0;
  unsigned long utime = 0, stime = 0;
  // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  if (std::sscanf(line.c_str() + p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2) {
    return 0;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void Stop(Proc& p) {
  if (p.pid <= 0) return;
  kill(p.pid, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (waitpid(p.pid, nullptr, WNOHANG) == p.pid) {
      p.pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(p.pid, SIGKILL);
  waitpid(p.pid, nullptr, 0);
  p.pid = -1;
}

// Starts `swarm node` with the given --set overrides; returns once its
// node.json names its gRPC address (ports are chosen by the kernel).
bool StartNode(const std::string& swarm, const std::string& dir, const std::string& id,
               const std::vector<std::string>& sets, Proc* out) {
  std::filesystem::create_directories(dir);
  std::vector<std::string> args = {swarm, "node", "--id", id, "--grpc-listen", "127.0.0.1:0", "--http-listen",
                                   "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn",
                                   "--set", "membership.enabled=false",
                                   // bare peers without grants: dev mode (closed mode refuses every call)
                                   "--set", "admission.open=true"};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  const std::string log = dir + "/node.log";
  // Built before fork: the child of a multi-threaded process (gRPC) may only
  // make async-signal-safe calls until execv.
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid < 0) return false;
  out->pid = pid;
  out->dir = dir;
  const double deadline = Now() + kStartTimeoutSeconds;
  while (Now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      out->pid = -1;
      break;
    }
    std::ifstream in(dir + "/node.json");
    if (in) {
      auto j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_object() && j.contains("grpc")) {
        out->grpc = j["grpc"].get<std::string>();
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "bench_jobs: %s did not start; its log:\n%s\n", id.c_str(), text.c_str());
  Stop(*out);
  return false;
}

struct Run {
  double seconds = 0, submit_seconds = 0;  // Submit to "done"; Submit alone
  double queen_cpu = 0, workers_cpu = 0;   // CPU seconds during the job
};

// Submits `job` to the queen, polls until done and checks the accepted
// outputs of the first and last task decrypt to 2x.
bool TimeJob(const Setup& s, const jobs::EvalJob& job, jobs::JobsClient& client, const Proc& queen,
             const std::vector<Proc>& workers, size_t k, Run* r, std::string* why) {
  double cpu_w0 = 0;
  for (size_t i = 0; i < k; ++i) cpu_w0 += CpuSeconds(workers[i].pid);
  const double cpu_q0 = CpuSeconds(queen.pid);
  const double t0 = Now();
  auto id = client.Submit(job);
  const double t_submit = Now();
  if (!id.ok()) {
    *why = std::string(id.status().message());
    return false;
  }
  while (true) {
    auto p = client.Progress(*id);
    if (!p.ok() || p->state == "failed") {
      *why = p.ok() ? p->error : std::string(p.status().message());
      return false;
    }
    if (p->state == "done") break;
    if (Now() - t0 > kJobTimeoutSeconds) {
      *why = "timed out";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r->seconds = Now() - t0;
  r->submit_seconds = t_submit - t0;
  r->queen_cpu = CpuSeconds(queen.pid) - cpu_q0;
  r->workers_cpu = -cpu_w0;
  for (size_t i = 0; i < k; ++i) r->workers_cpu += CpuSeconds(workers[i].pid);
  auto results = client.Wait(*id, Seconds(120));
  if (!results.ok() || results->size() != job.batches.size()) {
    *why = results.ok() ? "wrong result count" : std::string(results.status().message());
    return false;
  }
  fhe::CkksEncoder encoder(s.keys.ctx);
  auto dec = *fhe::Decryptor::Create(s.keys.ctx, *s.sk);
  for (size_t t : {size_t{0}, job.batches.size() - 1}) {
    auto ct = fhe::DeserializeCiphertext(*s.keys.ctx, results->at(t).at("y"));
    auto pt = ct.ok() ? dec.Decrypt(*ct) : StatusOr<fhe::Plaintext>(ct.status());
    auto v = pt.ok() ? encoder.Decode(*pt) : StatusOr<std::vector<double>>(pt.status());
    const auto& want = s.plain[t % s.plain.size()];
    if (!v.ok() || std::fabs((*v)[0] - 2 * want[0]) > 1e-2) {
      *why = "task " + std::to_string(t) + ": output does not decrypt to 2x";
      return false;
    }
  }
  return true;
}

// A fresh queen over the first `k` workers at `quorum`; the job runs
// kRepetitions times and the fastest run is kept (the machine is shared).
bool RunConfig(const Setup& s, const jobs::EvalJob& job, const std::string& swarm, const std::string& root,
               const std::vector<Proc>& workers, size_t k, int quorum, const std::string& mode, Run* best) {
  std::string list = "[";
  for (size_t i = 0; i < k; ++i) list += (i ? ",\"" : "\"") + workers[i].grpc + "\"";
  list += "]";
  Proc queen;
  const std::string id = "queen-w" + std::to_string(k) + "-q" + std::to_string(quorum) + "-" + mode;
  if (!StartNode(swarm, root + "/" + id, id,
                 {"jobs.role=queen", "jobs.workers=" + list, "jobs.quorum=" + std::to_string(quorum), "jobs.mode=" + mode,
                  "jobs.audit_fraction=" + std::to_string(kAuditFraction),
                  "jobs.task_deadline_ms=120000", "net.message_size_bytes_max=1073741824"},
                 &queen)) {
    return false;
  }
  auto client = jobs::JobsClient::Connect(queen.grpc);
  std::string why = client.ok() ? "" : std::string(client.status().message());
  bool ok = client.ok();
  for (int rep = 0; ok && rep < kRepetitions; ++rep) {
    Run r;
    ok = TimeJob(s, job, **client, queen, workers, k, &r, &why);
    if (ok && (rep == 0 || r.seconds < best->seconds)) *best = r;
  }
  Stop(queen);
  if (!ok) std::fprintf(stderr, "bench_jobs: job on %s failed: %s\n", id.c_str(), why.c_str());
  return ok;
}

}  // namespace

bool RunRemoteRows(const Setup& s, uint32_t tasks, double single_rate, const std::string& swarm,
                   const std::string& command) {
  jobs::EvalJob job;
  job.circuit = s.circuit_text;
  job.params = fhe::SerializeParams(*s.keys.ctx);
  std::vector<Bytes> blobs;
  for (const auto& in : s.pool) blobs.push_back(fhe::Serialize(*s.keys.ctx, in.at("x")));
  for (uint32_t t = 0; t < tasks; ++t) job.batches.push_back({{"x", blobs[t % blobs.size()]}});

  char tmpl[] = "/tmp/bench-jobs-XXXXXX";
  if (!mkdtemp(tmpl)) return false;
  const std::string root = tmpl;
  std::vector<Proc> workers(kWorkersMax);
  bool ok = true;
  for (int i = 0; i < kWorkersMax && ok; ++i) {
    ok = StartNode(swarm, root + "/w" + std::to_string(i), "w" + std::to_string(i), {"jobs.role=worker"}, &workers[i]);
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::string what = std::to_string(tasks) + "-task job (y = x + x, CKKS N=4096, level 0)";
  const auto costs = [&](const Run& r) {
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "job took %.2f s from Submit to done (%.3f jobs/s; best of %d), of which Submit (upload, checks "
                  "of every batch) %.2f s; after Submit %.0f tasks/s; CPU per task: queen %.2f ms, workers %.2f ms; "
                  "%u cores, worker_inflight_max 2",
                  r.seconds, 1.0 / r.seconds, kRepetitions, r.submit_seconds, tasks / (r.seconds - r.submit_seconds),
                  1e3 * r.queen_cpu / tasks, 1e3 * r.workers_cpu / tasks, cores);
    return std::string(buf);
  };
  double rate1 = 0, rate4 = 0;
  for (size_t k : {1, 2, 4}) {
    Run r;
    if (!ok || !(ok = RunConfig(s, job, swarm, root, workers, k, 1, "replicate", &r))) break;
    const double rate = tasks / r.seconds;
    if (k == 1) rate1 = rate;
    if (k == 4) rate4 = rate;
    const std::string figure = what + ", " + std::to_string(k) + " worker process(es) + queen process, quorum 1";
    if (k == 1) {
      bench::Emit({"jobs", figure, rate, "tasks/s", "single-process evaluation of the same tasks (plain loop)",
                   single_rate, "tasks/s",
                   "ratio = what queen, loopback gRPC and the worker process leave of the plain loop; " + costs(r),
                   command});
    } else {
      bench::Emit({"jobs", figure, rate, "tasks/s", "1 worker process, same run", rate1, "tasks/s",
                   "ratio = speedup over 1 worker (ideal min(workers, cores - the queen's share)); " + costs(r),
                   command});
    }
  }
  Run r3;
  if (ok && (ok = RunConfig(s, job, swarm, root, workers, kWorkersMax, 3, "replicate", &r3))) {
    bench::Emit({"jobs", what + ", 4 worker processes + queen process, quorum 3 (f=1: every task on 3 workers)",
                 tasks / r3.seconds, "tasks/s", "quorum 1 with the same 4 worker processes, same run", rate4, "tasks/s",
                 "ratio = cost of guardians (3 evaluations per accepted task: ideal 1/3 when CPU-bound); " + costs(r3),
                 command});
  }
  Run rs;
  if (ok && (ok = RunConfig(s, job, swarm, root, workers, kWorkersMax, 3, "sample", &rs))) {
    char share[32];
    std::snprintf(share, sizeof share, "%.2f", kAuditFraction);
    bench::Emit({"jobs", what + ", 4 worker processes + queen process, sample mode (every task on 1 worker, a share " +
                             share + " re-run by a second one)",
                 tasks / rs.seconds, "tasks/s", "quorum 1 with the same 4 worker processes, same run", rate4, "tasks/s",
                 std::string("ratio = cost of sampled guardians (ideal 1/(1 + ") + share + ") when CPU-bound); " +
                     costs(rs),
                 command});
  }
  for (auto& w : workers) Stop(w);
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return ok;
}

}  // namespace swarm::benchjobs
