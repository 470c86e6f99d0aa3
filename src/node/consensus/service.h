// The Pbft gRPC service of a committee member (proto/swarm/v1/consensus.proto):
// Deliver (replica-to-replica batches), Identify (this member's key),
// Submit (client path; epoch.* records only from committee members' keys),
// LedgerHead (head, one record's hash, verify) and LedgerRecords (records
// with epoch bodies, for `swarm ledger show --peer`).
//
// The service is registered before the committee is known; until then (and
// on a peer outside the committee) calls fail with UNAVAILABLE /
// FAILED_PRECONDITION naming why.
//
// Limits (docs/security.md): Deliver queues per source and drains fairly
// (ConsensusDriver); Submit is rate-limited per source (submits_per_second),
// holds at most submits_inflight_per_source_max waiting calls per source, and
// refuses a record whose signature scheme the ledger policy does not allow
// (ledger_schemes: ML-DSA only by default, hybrid by config, Ed25519 alone
// never) before it is ordered; LedgerHead(verify) runs one verification at a
// time, caches its report per head (size, hash) and recomputes at most once
// per verify_interval. Refusals are counted through `on_refused(reason)`
// (swarm_rejected_calls_total{service="pbft",reason}). The source is the
// caller's peer id once the call guard (node/call_guard.h) supplies it; until
// then the connection's ip:port. Thread-safety: gRPC handler threads call
// it concurrently; the core is shared-owned and immutable once published.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string_view>
#include <memory>
#include <string>
#include <vector>

#include "consensus/fair_queue.h"
#include "net/server_auth.h"
#include "crypto/identity.h"
#include "node/consensus/driver.h"
#include "node/consensus/keys.h"
#include "consensus/ledger_machine.h"
#include "swarm/v1/consensus.grpc.pb.h"

namespace swarm::node {

// Everything that exists once the committee is known.
struct ConsensusCore {
  std::vector<std::string> committee;
  int self = -1;  // -1: this peer is not a member
  std::string self_address;
  const crypto::Identity* identity = nullptr;
  std::string ledger_path;  // "" = memory only
  std::unique_ptr<CommitteeKeys> keys;
  // Declared before the driver, which uses it: destroyed after it.
  std::unique_ptr<consensus::StateMachine> machine;
  LedgerStateMachine* ledger = nullptr;  // `machine` when it is the ledger, else null
  std::unique_ptr<ConsensusDriver> driver;
  Nanos submit_wait_default = Seconds(10);
  Nanos submit_wait_max = Seconds(60);
};

struct PbftServiceLimits {
  double submits_per_second = 200;
  double submits_burst = 400;
  uint32_t submits_inflight_per_source_max = 64;
  Nanos verify_interval = Seconds(2);
  LedgerSchemePolicy ledger_schemes;
};

class PbftServiceImpl final : public swarm::v1::Pbft::Service, public net::GuardedService {
 public:
  using CoreFn = std::function<std::shared_ptr<ConsensusCore>()>;
  explicit PbftServiceImpl(CoreFn core, PbftServiceLimits limits = {})
      : core_(std::move(core)),
        limits_(limits),
        submit_limiter_(limits.submits_per_second, limits.submits_burst) {}
  // Runs for every refusal with its reason (any thread).
  void set_on_refused(std::function<void(const std::string& reason)> fn) { on_refused_ = std::move(fn); }
  uint64_t refused(const std::string& reason);

  grpc::Status Deliver(grpc::ServerContext*, const swarm::v1::PbftBatch* req,
                       swarm::v1::PbftAck*) override;
  grpc::Status Identify(grpc::ServerContext*, const swarm::v1::PbftIdentifyRequest*,
                        swarm::v1::PbftIdentifyReply* reply) override;
  grpc::Status Submit(grpc::ServerContext*, const swarm::v1::LedgerSubmitRequest* req,
                      swarm::v1::LedgerSubmitReply* reply) override;
  grpc::Status LedgerHead(grpc::ServerContext*, const swarm::v1::LedgerHeadRequest* req,
                          swarm::v1::LedgerHeadReply* reply) override;
  grpc::Status LedgerRecords(grpc::ServerContext*, const swarm::v1::LedgerRecordsRequest* req,
                             swarm::v1::LedgerRecordsReply* reply) override;
  static constexpr uint32_t kLedgerRecordsPerCallMax = 256;

 private:
  // The core of a running member, or an error status saying why not.
  grpc::Status Member(std::shared_ptr<ConsensusCore>& out, bool need_ledger);
  // The fair-queue / rate-limit key: the caller's peer id (hex) when the guard
  // authenticated it, else the connection's ip:port.
  static std::string SourceOf(const net::Caller& caller, grpc::ServerContext* ctx);
  // Counts a refusal whose message starts with "reason: ".
  void Count(std::string_view message);
  grpc::Status Refuse(grpc::StatusCode code, const std::string& reason, const std::string& message);
  CoreFn core_;
  PbftServiceLimits limits_;
  std::function<void(const std::string&)> on_refused_;
  std::mutex mu_;  // the limiter, in-flight counts, refusal counts
  consensus::SourceRateLimiter submit_limiter_;
  std::map<std::string, uint32_t> submits_inflight_;
  std::map<std::string, uint64_t> refused_;
  // LedgerHead(verify): one verification at a time, cached per head.
  std::mutex verify_mu_;
  struct VerifyCache {
    uint64_t size = 0;
    std::array<uint8_t, 32> hash{};
    bool verified = false;
    std::string report;
    Nanos at = 0;
    bool valid = false;
  } verify_cache_;
  uint64_t verifications_ = 0;  // verify_mu_

 public:
  uint64_t verifications() {
    std::lock_guard<std::mutex> lock(verify_mu_);
    return verifications_;
  }
};

}  // namespace swarm::node
