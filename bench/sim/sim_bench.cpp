// Simulator throughput (events/s) beside a plain std::priority_queue
// push/pop loop of the same event count and queue size (the floor: a
// simulator event is at least one heap push and one pop), and a whole SWIM
// cluster's simulated events/s at 1,000 peers.
#include <chrono>
#include <queue>

#include "bench_util.h"
#include "membership/support/sim_cluster.h"
#include "sim/simulator.h"

using namespace swarm;
using swarm::bench::Emit;
using swarm::bench::Row;

namespace {

double Seconds_(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Every delivery forwards the message to a random node: a constant number of
// messages in flight, one event each.
class Forwarder : public sim::Simulator<uint64_t>::Handler {
 public:
  sim::Simulator<uint64_t>* sim = nullptr;
  uint64_t delivered = 0;
  void OnDeliver(sim::NodeId to, sim::NodeId, uint64_t&& m) override {
    ++delivered;
    sim->Send(to, static_cast<sim::NodeId>(sim->rng().Uniform(sim->node_count())), m + 1);
  }
  void OnTimer(sim::NodeId, uint32_t) override {}
};

}  // namespace

int main() {
  const std::string cmd = "build/bench/sim/bench_sim";
  constexpr uint32_t kNodes = 10000;
  constexpr uint64_t kInFlight = 10000;
  constexpr uint64_t kEvents = 4000000;
  double sim_rate = 0, heap_rate = 0;
  for (int round = 0; round < 3; ++round) {
    Forwarder f;
    sim::Simulator<uint64_t> s(round + 1, kNodes, &f);
    f.sim = &s;
    sim::LinkModel link;
    link.loss = 0;
    s.links().SetDefault(link);
    for (uint64_t i = 0; i < kInFlight; ++i) s.Send(i % kNodes, (i * 7) % kNodes, i);
    const double t = Seconds_([&] {
      for (uint64_t e = 0; e < kEvents; ++e) s.Step();
    });
    sim_rate = std::max(sim_rate, kEvents / t);
    // Anchor: same count of push+pop on a heap of kInFlight 32-byte records.
    struct Ev {
      int64_t time;
      uint64_t seq;
      uint64_t a, b;
    };
    auto later = [](const Ev& x, const Ev& y) { return x.time != y.time ? x.time > y.time : x.seq > y.seq; };
    std::priority_queue<Ev, std::vector<Ev>, decltype(later)> q(later);
    Rng rng(round + 1);
    for (uint64_t i = 0; i < kInFlight; ++i) q.push(Ev{static_cast<int64_t>(rng.Uniform(1000000)), i, 0, 0});
    const double th = Seconds_([&] {
      for (uint64_t e = 0; e < kEvents; ++e) {
        Ev x = q.top();
        q.pop();
        x.time += 5000000 + static_cast<int64_t>(rng.Exponential(5e6));
        x.seq = kInFlight + e;
        q.push(x);
      }
    });
    heap_rate = std::max(heap_rate, kEvents / th);
  }
  Emit(Row{"sim", "simulator events/s (10k nodes, 10k messages in flight, link model)", sim_rate, "events/s",
           "std::priority_queue pop+push loop, same count and queue size", heap_rate, "",
           "ratio = share of the bare heap's rate; the rest is link sampling, slab and handler dispatch", cmd});

  // A SWIM cluster: 1,000 peers, 1% loss, 60 s virtual.
  membership::ClusterOptions o;
  o.nodes = 1000;
  o.link.loss = 0.01;
  double swim_rate = 0;
  double virt_per_wall = 0;
  for (int round = 0; round < 2; ++round) {
    o.seed = round + 1;
    membership::SimCluster c(o);
    const double t = Seconds_([&] { c.RunUntil(Seconds(60)); });
    swim_rate = std::max(swim_rate, c.sim().stats().events / t);
    virt_per_wall = std::max(virt_per_wall, 60.0 / t);
  }
  Emit(Row{"sim", "SWIM cluster simulation events/s (1,000 peers, 1% loss)", swim_rate, "events/s",
           "std::priority_queue pop+push loop (above)", heap_rate, "",
           "each event runs Swim::OnMessage/OnTick; virtual/wall time = " + std::to_string(virt_per_wall), cmd});
  return 0;
}
