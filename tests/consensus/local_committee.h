// A whole PBFT committee in one process over real loopback gRPC: n members,
// each with its own gRPC server (the Pbft service), ConsensusDriver and
// ledger state machine, for tests, benchmarks and demos. Members can be
// stopped (server and replica gone, like a SIGKILL without the process) and
// restarted on the same port and state directory.
//
// Authenticators are supplied by the caller (one per member), so a benchmark
// can compare ML-DSA with the keyed-hash authenticator on the same path.
// Thread-safety: Start/StopMember/RestartMember from one thread; Append and
// the accessors from any thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/rpc.h"
#include "node/consensus/service.h"

namespace swarm::node {

struct LocalCommitteeOptions {
  uint32_t n = 4;
  consensus::ReplicaConfig replica;  // n and self are filled in per member
  std::string state_root;            // "" = no durable state; else <root>/m<i>/
  bool fsync = false;
  // Makes member i's authenticator (owned by the committee).
  std::function<std::unique_ptr<consensus::Authenticator>(uint32_t)> make_auth;
  // Makes member i's state machine; default: LedgerStateMachine (in <root>/m<i>/ledger.db
  // when state_root is set, else in memory).
  std::function<std::unique_ptr<consensus::StateMachine>(uint32_t)> make_machine;
  // Whether member i knows signer j's key yet (ConsensusDriverOptions::
  // signer_known); null = all keys known. Called on member i's driver thread.
  std::function<bool(uint32_t member, uint32_t signer)> signer_known;
};

class LocalCommittee {
 public:
  static StatusOr<std::unique_ptr<LocalCommittee>> Start(LocalCommitteeOptions options);
  ~LocalCommittee();

  const std::vector<std::string>& addresses() const { return addresses_; }
  ConsensusDriver* driver(uint32_t i);             // null while stopped
  LedgerStateMachine* ledger(uint32_t i);          // null if not a LedgerStateMachine / stopped
  consensus::Authenticator* auth(uint32_t i) { return members_[i]->auth.get(); }
  PbftServiceImpl* service(uint32_t i) { return members_[i]->service.get(); }

  void StopMember(uint32_t i);
  Status RestartMember(uint32_t i);

 private:
  struct Member {
    std::mutex mu;
    std::shared_ptr<ConsensusCore> core;
    std::unique_ptr<PbftServiceImpl> service;
    std::unique_ptr<net::RpcServer> server;
    std::unique_ptr<consensus::Authenticator> auth;
  };
  explicit LocalCommittee(LocalCommitteeOptions o) : opts_(std::move(o)) {}
  Status StartServer(uint32_t i, const std::string& listen);
  Status StartReplica(uint32_t i);
  std::shared_ptr<grpc::Channel> Channel(const std::string& address);

  LocalCommitteeOptions opts_;
  std::vector<std::unique_ptr<Member>> members_;
  std::vector<std::string> addresses_;
  std::mutex channels_mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace swarm::node
