// The Pbft gRPC service of a committee member (proto/swarm/v1/consensus.proto):
// Deliver (replica-to-replica batches), Identify (this member's key),
// Submit (client path; epoch.* records only from committee members' keys),
// LedgerHead (head, one record's hash, verify) and LedgerRecords (records
// with epoch bodies, for `swarm ledger show --peer`).
//
// The service is registered before the committee is known; until then (and
// on a peer outside the committee) calls fail with UNAVAILABLE /
// FAILED_PRECONDITION naming why. Thread-safety: gRPC handler threads call
// it concurrently; the core is shared-owned and immutable once published.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

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

class PbftServiceImpl final : public swarm::v1::Pbft::Service, public net::GuardedService {
 public:
  using CoreFn = std::function<std::shared_ptr<ConsensusCore>()>;
  explicit PbftServiceImpl(CoreFn core) : core_(std::move(core)) {}

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
  CoreFn core_;
};

}  // namespace swarm::node
