// SWIM on real interfaces: 4 peers, each in its own network namespace
// (scripts/netns), default membership settings, at RTT 0/50/150 ms (swarm
// netrelay, jitter 10 %) and frame loss 0/1/5 % (nftables). Per setting:
//  - false suspicions: suspicions started by the 4 peers while none failed,
//    over an observation window, per peer-hour;
//  - detection: seconds from SIGKILL of one peer until the 3 others hold it dead.
// Anchor: the same figure at 0 ms / 0 % in this run. Needs root.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "bench_util.h"
#include "e2e/netns.h"
#include "e2e/process.h"

namespace swarm::bench {
namespace {

constexpr double kWindowS = 45;      // observation window for false suspicions
constexpr double kConvergeBoundS = 90;
constexpr double kDetectBoundS = 120;
constexpr char kCommand[] = "build/bench/netrelay/bench_swim_netns (root)";

struct Result {
  bool ok = false;
  double false_per_peer_hour = 0;
  double suspicions = 0;
  double detect_s = -1;
};

Result Measure(int rtt_ms, const std::string& loss) {
  Result r;
  std::vector<std::string> spec = {"--peers", "a:4", "--rtt", "a=" + std::to_string(rtt_ms)};
  if (loss != "0") spec.insert(spec.end(), {"--loss", loss});
  std::string error;
  auto run = e2e::NetnsRun::Create(spec, &error);
  if (!run) {
    std::cerr << "netns up failed: " << error << std::endl;
    return r;
  }
  const std::string dir = e2e::TempDir("bench-netns");
  auto swarm = e2e::NetnsSwarm::Start(*run, dir, "[log]\nlevel = \"warn\"\n", 90, &error);
  if (!swarm) {
    std::cerr << "swarm start failed: " << error << std::endl;
    return r;
  }
  std::vector<const e2e::NetnsSwarm::Peer*> all;
  for (const auto& p : swarm->peers()) all.push_back(&p);
  std::string why;
  if (!e2e::Eventually(kConvergeBoundS, [&] { return swarm->AllSee(all, all, "alive", &why); })) {
    std::cerr << "no convergence at RTT " << rtt_ms << " ms, loss " << loss << " %: " << why << std::endl;
    return r;
  }
  auto total = [&] {
    double sum = 0;
    for (const auto* p : all) {
      const double v = swarm->Metric(*p, "swarm_suspicions_total");
      if (v < 0) return -1.0;
      sum += v;
    }
    return sum;
  };
  const double before = total();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(kWindowS));
  const double after = total();
  const double window = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (before < 0 || after < 0) {
    std::cerr << "a peer's /metrics did not answer" << std::endl;
    return r;
  }
  r.suspicions = after - before;
  r.false_per_peer_hour = r.suspicions / (all.size() * window) * 3600;

  auto& victim = swarm->peers().back();
  kill(victim.pid, SIGKILL);
  e2e::WaitFor(victim.pid, 5);
  victim.pid = -1;
  const auto k0 = std::chrono::steady_clock::now();
  std::vector<const e2e::NetnsSwarm::Peer*> rest(all.begin(), all.end() - 1);
  const bool seen = e2e::Eventually(kDetectBoundS, [&] { return swarm->AllSee(rest, {&victim}, "dead", &why); });
  if (seen) r.detect_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - k0).count();
  else std::cerr << "SIGKILLed peer not seen dead within " << kDetectBoundS << " s: " << why << std::endl;
  r.ok = true;
  return r;
}

}  // namespace
}  // namespace swarm::bench

int main() {
  using namespace swarm::bench;
  std::string why;
  if (!swarm::e2e::NetnsRun::Available(&why)) {
    std::cerr << "bench_swim_netns needs " << why << std::endl;
    return 1;
  }
  Result anchor;
  bool have_anchor = false;
  for (int rtt : {0, 50, 150}) {
    for (const std::string loss : {"0", "1", "5"}) {
      const Result r = Measure(rtt, loss);
      if (!r.ok) continue;
      if (rtt == 0 && loss == "0") {
        anchor = r;
        have_anchor = true;
      }
      const std::string where = "RTT " + std::to_string(rtt) + " ms, loss " + loss + " %";
      Row fp;
      fp.section = "netns";
      fp.figure = "SWIM false suspicions per peer-hour, 4 peers, " + where;
      fp.value = r.false_per_peer_hour;
      fp.unit = "1/h";
      fp.anchor = "same at RTT 0 ms, loss 0 % (this run)";
      fp.anchor_value = have_anchor ? anchor.false_per_peer_hour : 0;
      fp.note = std::to_string(static_cast<int>(r.suspicions)) + " suspicions in " +
                std::to_string(static_cast<int>(kWindowS)) + " s x 4 peers, no peer failed; default SWIM settings";
      fp.command = kCommand;
      Emit(fp);
      if (r.detect_s >= 0) {
        Row d;
        d.section = "netns";
        d.figure = "SWIM detection of a SIGKILLed peer (all 3 others hold it dead), " + where;
        d.value = r.detect_s;
        d.unit = "s";
        d.anchor = "same at RTT 0 ms, loss 0 % (this run)";
        d.anchor_value = have_anchor ? anchor.detect_s : 0;
        d.note = "default SWIM settings (T = 1 s, suspicion_mult 4); polled every 300 ms";
        d.command = kCommand;
        Emit(d);
      }
    }
  }
  return have_anchor ? 0 : 1;
}
