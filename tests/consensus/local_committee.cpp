#include "consensus/local_committee.h"
#include "net/dial.h"

#include <filesystem>

namespace swarm::node {

StatusOr<std::unique_ptr<LocalCommittee>> LocalCommittee::Start(LocalCommitteeOptions options) {
  if (!options.make_auth) return absl::InvalidArgumentError("LocalCommittee: make_auth is required");
  std::unique_ptr<LocalCommittee> c(new LocalCommittee(std::move(options)));
  for (uint32_t i = 0; i < c->opts_.n; ++i) {
    c->members_.push_back(std::make_unique<Member>());
    SWARM_RETURN_IF_ERROR(c->StartServer(i, "127.0.0.1:0"));
    c->addresses_.push_back("127.0.0.1:" + std::to_string(c->members_[i]->server->port()));
  }
  for (uint32_t i = 0; i < c->opts_.n; ++i) {
    c->members_[i]->auth = c->opts_.make_auth(i);
    SWARM_RETURN_IF_ERROR(c->StartReplica(i));
  }
  return c;
}

LocalCommittee::~LocalCommittee() {
  for (uint32_t i = 0; i < members_.size(); ++i) StopMember(i);
}

std::shared_ptr<grpc::Channel> LocalCommittee::Channel(const std::string& address) {
  std::lock_guard<std::mutex> lock(channels_mu_);
  auto& ch = channels_[address];
  if (!ch) {
    net::DialOptions o;
    o.net.message_size_bytes_max = 64 << 20;
    o.reconnect_backoff_max_ms = 500;
    ch = net::DialOrUnavailable(address, o);
  }
  return ch;
}

Status LocalCommittee::StartServer(uint32_t i, const std::string& listen) {
  Member* m = members_[i].get();
  m->service = std::make_unique<PbftServiceImpl>([m] {
    std::lock_guard<std::mutex> lock(m->mu);
    return m->core;
  });
  net::NetOptions net;
  SWARM_ASSIGN_OR_RETURN(m->server, net::RpcServer::Start(listen, net, {m->service.get()}));
  return absl::OkStatus();
}

Status LocalCommittee::StartReplica(uint32_t i) {
  Member* m = members_[i].get();
  const std::string dir = opts_.state_root.empty() ? "" : opts_.state_root + "/m" + std::to_string(i);
  if (!dir.empty()) std::filesystem::create_directories(dir);
  auto core = std::make_shared<ConsensusCore>();
  core->committee = addresses_;
  core->self = static_cast<int>(i);
  core->self_address = addresses_[i];
  if (opts_.make_machine) {
    core->machine = opts_.make_machine(i);
  } else {
    core->ledger_path = dir.empty() ? "" : dir + "/ledger.db";
    SWARM_ASSIGN_OR_RETURN(auto ledger, LedgerStateMachine::Open(core->ledger_path));
    core->machine = std::move(ledger);
  }
  // The service answers Submit/LedgerHead from a LedgerStateMachine only.
  core->ledger = dynamic_cast<LedgerStateMachine*>(core->machine.get());
  ConsensusDriverOptions o;
  o.replica = opts_.replica;
  o.replica.n = opts_.n;
  o.replica.self = consensus::ReplicaId(i);
  o.committee = addresses_;
  o.state_dir = dir;
  o.fsync = opts_.fsync;
  if (opts_.signer_known) {
    o.signer_known = [fn = opts_.signer_known, i](uint32_t signer) { return fn(i, signer); };
  }
  core->driver = std::make_unique<ConsensusDriver>(o, m->auth.get(), core->machine.get(),
                                                   [this](const std::string& a) { return Channel(a); });
  SWARM_RETURN_IF_ERROR(core->driver->Start());
  std::lock_guard<std::mutex> lock(m->mu);
  m->core = std::move(core);
  return absl::OkStatus();
}

ConsensusDriver* LocalCommittee::driver(uint32_t i) {
  std::lock_guard<std::mutex> lock(members_[i]->mu);
  return members_[i]->core ? members_[i]->core->driver.get() : nullptr;
}

LedgerStateMachine* LocalCommittee::ledger(uint32_t i) {
  std::lock_guard<std::mutex> lock(members_[i]->mu);
  return members_[i]->core ? members_[i]->core->ledger : nullptr;
}

void LocalCommittee::StopMember(uint32_t i) {
  Member* m = members_[i].get();
  std::shared_ptr<ConsensusCore> core;
  {
    std::lock_guard<std::mutex> lock(m->mu);
    core.swap(m->core);
  }
  // The replica first: it completes blocked Submit handlers (Cancelled), so
  // the server's shutdown does not wait on them.
  if (core && core->driver) core->driver->Stop();
  if (m->server) m->server->Shutdown(0);
  m->server.reset();
  core.reset();
}

Status LocalCommittee::RestartMember(uint32_t i) {
  StopMember(i);
  SWARM_RETURN_IF_ERROR(StartServer(i, addresses_[i]));
  return StartReplica(i);
}

}  // namespace swarm::node
