// The scout: a sans-I/O prober of worker throughput. Every probe_interval it
// asks each known worker to run a probe task (a fixed, small evaluation of
// probe_units units of work) and times the round trip; the throughput
// estimate is an exponentially weighted mean (weight `ewma`) of
// probe_units / round-trip seconds. Hints() returns each probed worker's
// estimate over the mean of all probed workers (1 = average), which the
// queen uses as the starting pheromone of workers with no record yet
// (Queen::SetThroughputHint). A probe not answered within probe_timeout
// counts as a failure (the worker's hint is divided by 2).
//
// Driving: AddWorker/RemoveWorker, OnTick(now) then TakeOutbox() to send,
// OnProbeReply(worker, nonce, now) when a reply arrives. Replies with an
// unknown nonce are ignored (counted).
//
// Thread-safety: none; one thread drives a Scout.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace swarm::jobs {

struct ScoutConfig {
  Nanos probe_interval = Seconds(30);
  Nanos probe_timeout = Seconds(5);
  double probe_units = 1.0;
  double ewma = 0.5;  // weight of the newest sample
  Status Validate() const;
};

struct Probe {
  uint32_t worker = 0;
  uint64_t nonce = 0;
};

class Scout {
 public:
  explicit Scout(ScoutConfig c) : config_(c) {}
  void AddWorker(uint32_t w) { workers_.try_emplace(w); }
  void RemoveWorker(uint32_t w) { workers_.erase(w); }
  void OnTick(Nanos now);
  std::vector<Probe> TakeOutbox();
  void OnProbeReply(uint32_t worker, uint64_t nonce, Nanos now);

  // Units per second (0 = not yet measured).
  double Throughput(uint32_t w) const;
  std::map<uint32_t, double> Hints() const;
  uint64_t ignored_replies() const { return ignored_; }
  uint64_t timeouts() const { return timeouts_; }

 private:
  struct State {
    double throughput = 0;
    Nanos next_probe = 0;
    uint64_t pending_nonce = 0;  // 0 = none
    Nanos sent_at = 0;
  };
  ScoutConfig config_;
  std::map<uint32_t, State> workers_;
  std::vector<Probe> outbox_;
  uint64_t next_nonce_ = 1;
  uint64_t ignored_ = 0, timeouts_ = 0;
};

}  // namespace swarm::jobs
