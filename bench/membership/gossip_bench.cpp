// Messages each member sends per protocol period at n = 100, 1,000, 10,000
// (SWIM's claim: flat in n). Workload: 1% loss, one peer crashes at the start
// of a 30-period window after 5 periods of warm-up, so the window contains
// probing, a suspicion, its confirmations, the death and its dissemination.
// Each n is reported beside n = 100 measured in the same run (ratio ≈ 1 means
// flat). 10,000 peers take ~2.4 GB (n² member slots of 24 bytes).
#include <chrono>

#include "bench_util.h"
#include "membership/support/sim_cluster.h"

using namespace swarm;
using namespace swarm::membership;
using swarm::bench::Emit;
using swarm::bench::Row;

namespace {

struct Figures {
  double per_member_period = 0;  // all membership messages
  double gossip_per_member_period = 0;  // dedicated Gossip messages only
  double probe_per_member_period = 0;   // ping/ack/ping-req/nack
  double wall_seconds = 0;
  uint64_t events = 0;
};

Figures Run(uint32_t n) {
  ClusterOptions o;
  o.nodes = n;
  o.seed = 1;
  o.link.loss = 0.01;
  const auto t0 = std::chrono::steady_clock::now();
  SimCluster c(o);
  const Nanos warm = Seconds(5), window = Seconds(30);
  c.RunUntil(warm);
  const Counters before = c.TotalCounters();
  c.sim().Crash(n / 2, warm);
  c.RunUntil(warm + window);
  const Counters after = c.TotalCounters();
  Figures f;
  const double denom = static_cast<double>(n) * ToSeconds(window) / ToSeconds(o.config.probe_interval);
  f.per_member_period = (after.messages_sent - before.messages_sent) / denom;
  auto type = [&](MessageType t) {
    return static_cast<double>(after.sent[static_cast<int>(t)] - before.sent[static_cast<int>(t)]);
  };
  f.gossip_per_member_period = type(MessageType::kGossip) / denom;
  f.probe_per_member_period =
      (type(MessageType::kPing) + type(MessageType::kAck) + type(MessageType::kPingReq) + type(MessageType::kNack)) /
      denom;
  f.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  f.events = c.sim().stats().events;
  return f;
}

}  // namespace

int main() {
  const std::string cmd = "build/bench/membership/bench_membership";
  const Figures base = Run(100);
  Emit(Row{"membership", "messages sent per member per period, n=100", base.per_member_period, "msgs",
           "ping+ack+ping-req+nack share of the same run", base.probe_per_member_period, "",
           "gossip-only messages: " + std::to_string(base.gossip_per_member_period), cmd});
  for (uint32_t n : {1000u, 10000u}) {
    const Figures f = Run(n);
    Emit(Row{"membership", "messages sent per member per period, n=" + std::to_string(n), f.per_member_period,
             "msgs", "same workload at n=100 (this run)", base.per_member_period, "",
             "ratio 1 = flat; gossip-only " + std::to_string(f.gossip_per_member_period) + " vs " +
                 std::to_string(base.gossip_per_member_period) + " at n=100; probe msgs " +
                 std::to_string(f.probe_per_member_period) + "; wall " + std::to_string(f.wall_seconds) +
                 " s for " + std::to_string(f.events) + " events",
             cmd});
  }
  return 0;
}
