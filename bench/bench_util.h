// Helpers for benchmark binaries. Every figure is reported beside an anchor
// measured in the same run (these machines are noisy; absolute times drift),
// as one JSON line on stdout that scripts/bench turns into bench/RESULTS.md:
//   {"section":"crypto","figure":"ML-DSA-65 sign","value":1234,"unit":"ops/s",
//    "anchor":"OpenSSL Ed25519 sign","anchor_value":20000,"ratio":0.0617,
//    "command":"build/bench/crypto/bench_crypto"}
// `ratio` = value / anchor_value unless the caller gives its own definition in
// `note`. Emit also stamps each row with when it was measured ("measured_at",
// UTC) and the machine's 1-minute load average at that moment ("load1", from
// /proc/loadavg, and "cores"), so a table assembled from runs of different
// days says when and under what load each figure was taken.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swarm::bench {

struct Row {
  std::string section;
  std::string figure;
  double value = 0;
  std::string unit;
  std::string anchor;        // what the figure is compared with, measured in this run
  double anchor_value = 0;
  std::string anchor_unit;   // defaults to unit
  std::string note;          // how to read the ratio, caveats
  std::string command;
};

// The 1-minute load average, or -1 when /proc/loadavg cannot be read.
inline double LoadAverage1() {
  std::ifstream f("/proc/loadavg");
  double load = -1;
  if (!(f >> load)) return -1;
  return load;
}

inline std::string UtcNowIso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%MZ", &tm);
  return buf;
}

inline void Emit(const Row& r) {
  nlohmann::json j = {{"section", r.section},     {"figure", r.figure},
                      {"value", r.value},         {"unit", r.unit},
                      {"anchor", r.anchor},       {"anchor_value", r.anchor_value},
                      {"anchor_unit", r.anchor_unit.empty() ? r.unit : r.anchor_unit},
                      {"ratio", r.anchor_value != 0 ? r.value / r.anchor_value : 0.0},
                      {"note", r.note},           {"command", r.command},
                      {"measured_at", UtcNowIso()}, {"load1", LoadAverage1()},
                      {"cores", std::thread::hardware_concurrency()}};
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

// Runs `fn` repeatedly for at least `min_seconds` (and at least `min_iters`
// times) and returns the mean seconds per call. Takes the best of `repeats`
// such measurements to reduce noise from the other core.
inline double SecondsPerCall(const std::function<void()>& fn, double min_seconds = 0.3,
                             int min_iters = 3, int repeats = 3) {
  using clock = std::chrono::steady_clock;
  fn();  // warm up
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    long iters = 0;
    const auto start = clock::now();
    double elapsed = 0;
    do {
      fn();
      ++iters;
      elapsed = std::chrono::duration<double>(clock::now() - start).count();
    } while (elapsed < min_seconds || iters < min_iters);
    best = std::min(best, elapsed / static_cast<double>(iters));
  }
  return best;
}

// This thread's CPU time in seconds (CLOCK_THREAD_CPUTIME_ID): unlike wall
// time, it does not count time spent waiting for a core on a loaded machine.
inline double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// As SecondsPerCall, but counting this thread's CPU time (for single-threaded
// code measured beside an anchor on a shared machine).
inline double ThreadCpuSecondsPerCall(const std::function<void()>& fn, double min_seconds = 0.2,
                                      int min_iters = 3, int repeats = 3) {
  fn();  // warm up
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    long iters = 0;
    const double start = ThreadCpuSeconds();
    double elapsed = 0;
    do {
      fn();
      ++iters;
      elapsed = ThreadCpuSeconds() - start;
    } while (elapsed < min_seconds || iters < min_iters);
    best = std::min(best, elapsed / static_cast<double>(iters));
  }
  return best;
}

// Percentile (0..100) of samples (copied, sorted).
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t idx = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * v.size()));
  return v[idx];
}

}  // namespace swarm::bench
