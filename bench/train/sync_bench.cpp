// Issue 5, the averaging round over the network: n trainer nodes (real
// node::Node instances in this process, gRPC on loopback, every contribution
// an ML-DSA-65-signed envelope verified by the receiver) each send a d-float
// contribution to every other one per round and run the sans-I/O Averager
// (train/averaging_round.h) with an aggregator. Reported per n: the mean
// round time (Open → aggregate, on trainer 0) beside the aggregation compute
// time alone for the same n and d measured in the same run.
//   bench_train_sync [--dim D] [--n 4,8] [--rounds R] [--aggregator NAME]
// Single process: the n nodes share this machine's 2 cores, so the figure is
// an upper bound of what n separate machines would see.
#include <condition_variable>
#include <thread>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "bench_util.h"
#include "common/rng.h"
#include "node/config.h"
#include "node/node.h"
#include "train/averaging_round.h"
#include "train/contribution_codec.h"

using swarm::bench::Emit;
using swarm::bench::Row;

namespace {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// The averaging half of a trainer peer, without a model.
class SyncPeer final : public swarm::node::Extension {
 public:
  SyncPeer(std::string self, std::unique_ptr<swarm::train::Averager> av) : self_(std::move(self)), av_(std::move(av)) {}
  std::string name() const override { return "sync"; }
  std::vector<std::string> envelope_kinds() const override { return {"train"}; }
  swarm::Status OnEnvelope(const swarm::net::OpenedEnvelope& env) override {
    auto d = swarm::train::DecodeContribution(env.payload);
    if (!d.ok()) return d.status();
    std::lock_guard<std::mutex> lock(mu_);
    auto st = av_->OnContribution(d->header.sender, d->header.round, std::move(d->values), clock_.Now());
    cv_.notify_all();
    return st;
  }
  // One round: open, send to every other peer, wait for the aggregate.
  double Round(swarm::node::Node& node, const std::vector<std::string>& peers, uint64_t r,
               const std::vector<float>& v) {
    const swarm::Nanos t0 = clock_.Now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      (void)av_->Open(r, t0);
    }
    const auto payload = swarm::train::EncodeContributionF32({.job = 1, .round = r, .sender = self_}, v);
    for (const auto& p : peers) {
      if (p != self_) node.SendEnvelope(p, "train", payload);
    }
    std::unique_lock<std::mutex> lock(mu_);
    (void)av_->OnContribution(self_, r, v, clock_.Now());
    for (;;) {
      av_->OnTick(clock_.Now());
      if (auto out = av_->TakeOutbox()) return swarm::ToSeconds(out->duration);
      cv_.wait_for(lock, std::chrono::milliseconds(2));
    }
  }

 private:
  std::string self_;
  std::unique_ptr<swarm::train::Averager> av_;
  swarm::RealClock clock_;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace

int main(int argc, char** argv) {
  size_t dim = 25'000;  // about the digits MoE's shared parameters
  std::vector<int> ns = {4, 8};
  int rounds = 20;
  std::string agg = "centered_clip";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dim") dim = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--rounds") rounds = std::atoi(argv[i + 1]);
    else if (a == "--aggregator") agg = argv[i + 1];
    else if (a == "--n") {
      ns.clear();
      for (const char* p = argv[i + 1]; *p;) {
        ns.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    }
  }
  spdlog::set_level(spdlog::level::warn);
  swarm::Rng rng(1);
  for (int n : ns) {
    std::vector<std::string> peers;
    for (int i = 0; i < n; ++i) peers.push_back("127.0.0.1:" + std::to_string(FreePort()));
    std::vector<std::unique_ptr<swarm::node::Node>> nodes;
    std::vector<SyncPeer*> ext;
    for (int i = 0; i < n; ++i) {
      auto c = swarm::node::NodeSchema().ApplyOverrides(
          swarm::node::NodeSchema().Defaults(),
          {"node.grpc_listen=" + peers[i], "membership.enabled=false", "log.level=warn",
           "admission.open=true"});  // bare peers without grants (closed mode would refuse every call)
      if (!c.ok()) return std::fprintf(stderr, "%s\n", std::string(c.status().message()).c_str()), 1;
      auto nc = swarm::node::ToNodeConfig(*c);
      if (!nc.ok()) return std::fprintf(stderr, "%s\n", std::string(nc.status().message()).c_str()), 1;
      swarm::train::AveragerConfig ac;
      ac.trainers = peers;
      ac.dim = dim;
      ac.round_deadline = swarm::Seconds(10);
      ac.give_up_after = swarm::Seconds(30);
      ac.quorum = static_cast<size_t>(n);
      auto a = swarm::train::MakeAggregator({.name = agg, .byzantine = (n - 1) / 3});
      auto av = swarm::train::Averager::Create(ac, std::move(*a));
      auto node = std::make_unique<swarm::node::Node>(*nc);
      auto e = std::make_unique<SyncPeer>(peers[i], std::move(*av));
      ext.push_back(e.get());
      node->AddExtension(std::move(e));
      if (auto st = node->Start(); !st.ok()) {
        return std::fprintf(stderr, "%s\n", std::string(st.message()).c_str()), 1;
      }
      nodes.push_back(std::move(node));
    }
    std::vector<std::vector<float>> vs(static_cast<size_t>(n), std::vector<float>(dim));
    for (auto& v : vs) {
      for (auto& x : v) x = static_cast<float>(rng.UniformDouble(-1, 1));
    }
    // Every peer runs its rounds on its own thread, as trainer peers do.
    std::vector<double> round_s(static_cast<size_t>(n), 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        for (int r = 1; r <= rounds; ++r) {
          const double s = ext[i]->Round(*nodes[i], peers, static_cast<uint64_t>(r), vs[i]);
          if (r > 1) round_s[i] += s;  // round 1 includes connection set-up
        }
      });
    }
    for (auto& t : threads) t.join();
    const double sync = round_s[0] / (rounds - 1);
    // The aggregation alone, same n and d.
    auto a = swarm::train::MakeAggregator({.name = agg, .byzantine = (n - 1) / 3});
    std::vector<swarm::train::Contribution> views(vs.begin(), vs.end());
    std::vector<float> out(dim);
    const double compute = swarm::bench::SecondsPerCall([&] { (void)(*a)->Aggregate(views, out); }, 0.2);
    Emit(Row{.section = "train",
             .figure = "gradient sync round over loopback, n = " + std::to_string(n) + ", d = " +
                       std::to_string(dim) + " floats, " + agg,
             .value = sync * 1e3,
             .unit = "ms",
             .anchor = "the aggregation compute alone (same n, d, rule)",
             .anchor_value = compute * 1e3,
             .note = "ratio = round time / compute time; the rest is signing (ML-DSA-65), gRPC and "
                     "verification of n-1 envelopes per peer, all n peers in one process on 2 cores",
             .command = "build/bench/train/bench_train_sync"});
    for (auto& node : nodes) node->Shutdown();
  }
  return 0;
}
