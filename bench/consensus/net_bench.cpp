// PBFT over real gRPC on loopback: n committee members in one process
// (consensus/local_committee.h), each with its own gRPC server, driver thread and
// replica. Closed loop at the primary: B requests submitted together, the
// next B once all executed at the primary. Every configuration runs with
// ML-DSA-65 signatures and with the HMAC-SHA3 keyed-hash authenticator in the
// same run; the time inside the authenticators is measured (per replica,
// summed) and reported as a share of the process's CPU time.
//
//   bench_consensus_net [seconds per configuration, default 2]
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <unistd.h>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "bench_util.h"
#include "consensus/ml_dsa_authenticator.h"
#include "crypto/signer.h"
#include "consensus/local_committee.h"

namespace swarm::node {
namespace {

using Clock = std::chrono::steady_clock;

class CountingMachine final : public consensus::StateMachine {
 public:
  void Apply(consensus::SeqNumber, const consensus::Request& r) override { bytes_ += r.payload.size(); }
  Bytes Snapshot() override {
    Bytes b(8);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(bytes_ >> (8 * i));
    return b;
  }
  Status Restore(ByteSpan s) override {
    bytes_ = 0;
    for (size_t i = 0; i < 8 && i < s.size(); ++i) bytes_ |= static_cast<uint64_t>(s[i]) << (8 * i);
    return absl::OkStatus();
  }

 private:
  uint64_t bytes_ = 0;
};

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Owns the inner authenticator and measures the CPU time (of the calling
// replica thread) spent inside it: wall time would count preemption on a
// loaded machine.
class TimedAuth final : public consensus::Authenticator {
 public:
  TimedAuth(std::unique_ptr<consensus::Authenticator> inner, std::unique_ptr<crypto::Signer> signer)
      : signer_(std::move(signer)), inner_(std::move(inner)) {}
  Bytes Sign(ByteSpan m) override {
    const double t = ThreadCpuSeconds();
    Bytes out = inner_->Sign(m);
    cpu_seconds_ += ThreadCpuSeconds() - t;
    return out;
  }
  bool Verify(consensus::ReplicaId s, ByteSpan m, ByteSpan sig) override {
    const double t = ThreadCpuSeconds();
    const bool ok = inner_->Verify(s, m, sig);
    cpu_seconds_ += ThreadCpuSeconds() - t;
    return ok;
  }
  double seconds() const { return cpu_seconds_; }

 private:
  std::unique_ptr<crypto::Signer> signer_;
  std::unique_ptr<consensus::Authenticator> inner_;
  double cpu_seconds_ = 0;
};

struct Measurement {
  double requests_per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  double auth_share = 0;
  uint64_t requests = 0;
};

// `durable`: every member persists its DurableState (fdatasync) under a
// temporary directory before sending, as a `swarm node` with a data_dir does.
Measurement Run(uint32_t n, size_t batch, bool ml_dsa, double seconds, bool durable = false) {
  std::vector<std::unique_ptr<crypto::Signer>> signers;
  std::vector<Bytes> pks;
  if (ml_dsa) {
    for (uint32_t i = 0; i < n; ++i) {
      signers.push_back(std::move(crypto::GenerateSigner(crypto::SignatureScheme::kMlDsa65)).value());
      pks.push_back(signers.back()->public_key());
    }
  }
  const auto mac_keys = consensus::KeyedHashAuthenticator::DeriveKeys(n, 9);
  LocalCommitteeOptions o;
  o.n = n;
  o.replica.batch_requests_max = batch;
  o.replica.batch_delay = Millis(1);
  o.replica.checkpoint_interval = 64;
  o.replica.log_window = 256;
  o.replica.request_timeout = Seconds(30);  // no view change under load on a busy machine
  o.make_machine = [](uint32_t) { return std::make_unique<CountingMachine>(); };
  std::string root;
  if (durable) {
    root = (std::filesystem::temp_directory_path() / ("swarm-bench-pbft-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(root);
    o.state_root = root;
    o.fsync = true;
  }
  o.make_auth = [&](uint32_t i) -> std::unique_ptr<consensus::Authenticator> {
    if (ml_dsa) {
      auto inner = std::move(consensus::MlDsaAuthenticator::Create(signers[i].get(), pks)).value();
      return std::make_unique<TimedAuth>(std::move(inner), std::move(signers[i]));
    }
    return std::make_unique<TimedAuth>(
        std::make_unique<consensus::KeyedHashAuthenticator>(consensus::ReplicaId(i), mac_keys), nullptr);
  };
  auto committee = std::move(LocalCommittee::Start(std::move(o))).value();
  ConsensusDriver* primary = committee->driver(0);

  std::mutex mu;
  std::condition_variable cv;
  std::vector<double> latencies_ms;
  size_t outstanding = 0;
  uint64_t client_seq = 0, failed = 0;
  const Bytes payload(64, 0xab);
  const auto start = Clock::now();
  const std::clock_t cpu_start = std::clock();
  double elapsed = 0;
  uint64_t done_requests = 0;
  while (elapsed < seconds || done_requests < 4 * batch) {
    {
      std::lock_guard<std::mutex> lock(mu);
      outstanding = batch;
    }
    for (size_t k = 0; k < batch; ++k) {
      primary->Submit(consensus::Request{1, ++client_seq, payload}, Seconds(10),
                      [&](StatusOr<ExecutedRequest> r) {
                        std::lock_guard<std::mutex> lock(mu);
                        if (r.ok()) {
                          latencies_ms.push_back(1000 * r->latency_seconds);
                        } else {
                          if (failed++ == 0) std::fprintf(stderr, "request failed: %s\n", std::string(r.status().message()).c_str());
                        }
                        if (--outstanding == 0) cv.notify_all();
                      });
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return outstanding == 0; });
    done_requests = latencies_ms.size();
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (failed > 0) {
      for (uint32_t i = 0; i < n; ++i) {
        const auto st = committee->driver(i)->status();
        std::fprintf(stderr, "member %u: view %lu exec %lu pending %lu recv %lu dropped %lu sendfail %lu\n", i,
                     (unsigned long)st.view, (unsigned long)st.last_committed, (unsigned long)st.pending_requests,
                     (unsigned long)st.counters.messages_received, (unsigned long)st.counters.dropped_total(),
                     (unsigned long)st.send_failures);
      }
      break;
    }
  }
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  // Stop every driver before reading their authenticators' clocks.
  for (uint32_t i = 0; i < n; ++i) committee->StopMember(i);
  double auth_seconds = 0;
  for (uint32_t i = 0; i < n; ++i) auth_seconds += static_cast<TimedAuth*>(committee->auth(i))->seconds();
  committee.reset();
  if (!root.empty()) std::filesystem::remove_all(root);
  Measurement m;
  m.auth_share = cpu_seconds > 0 ? auth_seconds / cpu_seconds : 0;
  m.requests = done_requests;
  m.requests_per_second = done_requests / elapsed;
  m.p50_ms = bench::Percentile(latencies_ms, 50);
  m.p99_ms = bench::Percentile(latencies_ms, 99);
  return m;
}

}  // namespace
}  // namespace swarm::node

int main(int argc, char** argv) {
  using namespace swarm;
  spdlog::set_level(spdlog::level::err);  // stdout carries only the JSON rows
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const std::string cmd = "build/bench/consensus/bench_consensus_net";
  for (uint32_t n : {4u, 7u}) {
    for (size_t batch : {size_t{1}, size_t{64}}) {
      const auto mac = node::Run(n, batch, false, seconds);
      const auto sig = node::Run(n, batch, true, seconds);
      const std::string cfg = "n=" + std::to_string(n) + " batch=" + std::to_string(batch);
      bench::Emit({"consensus", "PBFT over loopback gRPC committed requests/s, ML-DSA-65, " + cfg,
                   sig.requests_per_second, "req/s", "same with HMAC-SHA3 authenticator", mac.requests_per_second, "",
                   "wall clock, n members in one process on a shared 2-core machine, closed loop at the primary "
                   "(one batch in flight); ratio = ML-DSA / MAC throughput", cmd});
      bench::Emit({"consensus", "PBFT over loopback gRPC commit latency p50, ML-DSA-65, " + cfg, sig.p50_ms, "ms",
                   "same with HMAC-SHA3 authenticator", mac.p50_ms, "",
                   "submit at the primary to execution there, through gRPC between members", cmd});
      bench::Emit({"consensus", "PBFT over loopback gRPC commit latency p99, ML-DSA-65, " + cfg, sig.p99_ms, "ms",
                   "same with HMAC-SHA3 authenticator", mac.p99_ms, "", "", cmd});
      bench::Emit({"consensus", "PBFT over loopback gRPC: share of CPU time in sign/verify, ML-DSA-65, " + cfg,
                   100 * sig.auth_share, "%", "same share with HMAC-SHA3", 100 * mac.auth_share, "",
                   "CPU seconds inside the authenticators (replica threads) / CPU seconds of the whole process (gRPC included); roughly what a MAC-based "
                   "normal case (PBFT paper) would save", cmd});
    }
  }
  // What durable state costs: every vote waits for an fdatasync of the log.
  for (size_t batch : {size_t{1}, size_t{64}}) {
    const auto mem = node::Run(4, batch, true, seconds);
    const auto disk = node::Run(4, batch, true, seconds, /*durable=*/true);
    const std::string cfg = "n=4 batch=" + std::to_string(batch);
    bench::Emit({"consensus", "PBFT over loopback gRPC committed requests/s with durable state (fdatasync), ML-DSA-65, " + cfg,
                 disk.requests_per_second, "req/s", "same without durable state", mem.requests_per_second, "",
                 "each member writes its DurableState (log and certificates) and fdatasyncs before sending, as "
                 "swarm node does with a data_dir; all members share one disk", cmd});
  }
  return 0;
}
