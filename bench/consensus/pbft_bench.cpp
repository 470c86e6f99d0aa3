// In-process PBFT throughput: n replicas in one thread, messages delivered
// FIFO through the wire codec with no network (real-network numbers over gRPC
// come from node/). Closed loop: one batch of B requests is proposed at the
// primary, then messages are delivered until the committee is quiet.
// Each configuration runs with ML-DSA-65 signatures and with the HMAC-SHA3
// keyed-hash authenticator in the same process; the time spent inside the
// authenticator is measured, which gives the share of time a MAC-based
// normal case (as in PBFT's paper) would save.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "consensus/codec.h"
#include "consensus/ml_dsa_authenticator.h"
#include "consensus/replica.h"
#include "timing_authenticator.h"
#include "crypto/signer.h"

namespace swarm::consensus {
namespace {

using Clock = std::chrono::steady_clock;

class NullMachine final : public StateMachine {
 public:
  void Apply(SeqNumber, const Request& r) override { bytes_ += r.payload.size(); }
  Bytes Snapshot() override { return Bytes(8, static_cast<uint8_t>(bytes_)); }
  Status Restore(ByteSpan) override { return absl::OkStatus(); }

 private:
  uint64_t bytes_ = 0;
};

struct Measurement {
  double requests_per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  double auth_share = 0;  // fraction of wall time inside Sign/Verify
  uint64_t requests = 0;
};

Measurement Run(uint32_t n, size_t batch, bool ml_dsa, double seconds) {
  std::vector<std::unique_ptr<crypto::Signer>> signers;
  std::vector<std::unique_ptr<Authenticator>> inner;
  if (ml_dsa) {
    std::vector<Bytes> keys;
    for (uint32_t i = 0; i < n; ++i) {
      signers.push_back(std::move(crypto::GenerateSigner(crypto::SignatureScheme::kMlDsa65)).value());
      keys.push_back(signers.back()->public_key());
    }
    for (uint32_t i = 0; i < n; ++i) inner.push_back(std::move(MlDsaAuthenticator::Create(signers[i].get(), keys)).value());
  } else {
    const auto keys = KeyedHashAuthenticator::DeriveKeys(n, 1);
    for (uint32_t i = 0; i < n; ++i) inner.push_back(std::make_unique<KeyedHashAuthenticator>(ReplicaId(i), keys));
  }
  std::vector<std::unique_ptr<TimingAuthenticator>> auths;
  std::vector<std::unique_ptr<NullMachine>> machines;
  std::vector<std::unique_ptr<Replica>> replicas;
  for (uint32_t i = 0; i < n; ++i) {
    auths.push_back(std::make_unique<TimingAuthenticator>(inner[i].get()));
    machines.push_back(std::make_unique<NullMachine>());
    ReplicaConfig c;
    c.n = n;
    c.self = ReplicaId(i);
    c.batch_requests_max = batch;
    c.batch_delay = Seconds(3600);  // batches leave when full (virtual time stands still)
    c.checkpoint_interval = 64;
    c.log_window = 256;
    replicas.push_back(std::move(Replica::Create(c, auths[i].get(), machines[i].get())).value());
  }
  struct InFlight {
    uint32_t from, to;
    Bytes wire;
  };
  std::deque<InFlight> queue;
  std::vector<double> latencies_ms;
  uint64_t committed_at_primary = 0;
  Clock::time_point batch_start;
  auto collect = [&](uint32_t i) {
    Ready r = replicas[i]->TakeOutbox();
    if (i == 0) {
      for (const auto& e : r.committed) {
        committed_at_primary += e.requests.size();
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - batch_start).count();
        for (size_t k = 0; k < e.requests.size(); ++k) latencies_ms.push_back(ms);
      }
    }
    for (auto& out : r.messages) {
      Bytes wire = std::move(EncodeMessage(out.message)).value();
      for (uint32_t j = 0; j < n; ++j) {
        if (j != i && (!out.to || out.to->value() == j)) queue.push_back({i, j, wire});
      }
    }
  };
  uint64_t next_seq = 0;
  const Bytes payload(64, 0xab);
  const auto start = Clock::now();
  const std::clock_t cpu_start = std::clock();
  double elapsed = 0;
  while (elapsed < seconds || committed_at_primary < 4 * batch) {
    batch_start = Clock::now();
    for (size_t k = 0; k < batch; ++k) {
      (void)replicas[0]->Propose(Request{1, ++next_seq, payload});
    }
    for (uint32_t i = 0; i < n; ++i) collect(i);
    while (!queue.empty()) {
      InFlight f = std::move(queue.front());
      queue.pop_front();
      auto m = DecodeMessage(f.wire);
      replicas[f.to]->OnMessage(ReplicaId(f.from), *m);
      collect(f.to);
    }
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  double auth_seconds = 0;
  for (const auto& a : auths) auth_seconds += a->sign_seconds() + a->verify_seconds();
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  Measurement m;
  m.requests = committed_at_primary;
  // Per CPU-second of this (single) thread: the shared machine's load does not deflate it.
  m.requests_per_second = committed_at_primary / cpu_seconds;
  m.p50_ms = bench::Percentile(latencies_ms, 50);
  m.p99_ms = bench::Percentile(latencies_ms, 99);
  m.auth_share = auth_seconds / elapsed;
  return m;
}

}  // namespace
}  // namespace swarm::consensus

int main(int argc, char** argv) {
  using namespace swarm;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.5;
  const std::string cmd = "build/bench/consensus/bench_consensus";
  for (uint32_t n : {4u, 7u}) {
    for (size_t batch : {size_t{1}, size_t{64}}) {
      const auto mac = consensus::Run(n, batch, false, seconds);
      const auto sig = consensus::Run(n, batch, true, seconds);
      const std::string cfg = "n=" + std::to_string(n) + " batch=" + std::to_string(batch);
      bench::Emit({"consensus", "PBFT in-process committed requests/s, ML-DSA-65, " + cfg, sig.requests_per_second,
                   "req/s", "same with HMAC-SHA3 authenticator", mac.requests_per_second, "",
                   "per CPU-second, one thread, through the wire codec, no network; ratio = ML-DSA / MAC throughput", cmd});
      bench::Emit({"consensus", "PBFT in-process commit latency p50, ML-DSA-65, " + cfg, sig.p50_ms, "ms",
                   "same with HMAC-SHA3 authenticator", mac.p50_ms, "",
                   "wall clock on a shared 2-core machine; closed loop, one batch in flight; proposal to commit at the primary", cmd});
      bench::Emit({"consensus", "PBFT in-process commit latency p99, ML-DSA-65, " + cfg, sig.p99_ms, "ms",
                   "same with HMAC-SHA3 authenticator", mac.p99_ms, "", "", cmd});
      bench::Emit({"consensus", "share of time in sign/verify, ML-DSA-65, " + cfg, 100 * sig.auth_share, "%",
                   "same share with HMAC-SHA3", 100 * mac.auth_share, "",
                   "what a MAC-based normal case would save is roughly the ML-DSA share", cmd});
    }
  }
  return 0;
}
