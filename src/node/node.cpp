#include "node/node.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "common/file.h"
#include "crypto/identity.h"
#include "net/address.h"
#include "net/dial.h"
#include "net/envelope.h"
#include "net/grpc_status.h"
#include "node/membership_driver.h"
#include "node/web_assets.h"
#include "swarm/v1/node.grpc.pb.h"
#include "swarm/v1/transport.grpc.pb.h"

#ifndef SWARM_VERSION
#define SWARM_VERSION "dev"
#endif

namespace swarm::node {
namespace {

// "<size>:<mtime ns>" of `path`, "" when it cannot be read.
std::string FileStamp(const std::string& path) {
  if (path.empty()) return "";
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return "";
  const auto mtime = std::filesystem::last_write_time(path, ec);
  if (ec) return "";
  return absl::StrCat(size, ":", mtime.time_since_epoch().count());
}

}  // namespace

class Node::NodeServiceImpl final : public swarm::v1::Node::Service, public net::GuardedService {
 public:
  explicit NodeServiceImpl(Node* node)
      : node_(node),
        ping_(node->metrics().rpc_requests.Add({{"method", "Ping"}})),
        info_(node->metrics().rpc_requests.Add({{"method", "Info"}})) {}

  grpc::Status Ping(grpc::ServerContext* ctx, const swarm::v1::PingRequest* req,
                    swarm::v1::PingReply* reply) override {
    SWARM_GUARD(caller, guard_, ctx, "Node.Ping", *req);
    ping_.Increment();
    reply->set_payload(req->payload());
    reply->set_node_id(node_->config().id);
    return grpc::Status::OK;
  }

  grpc::Status Info(grpc::ServerContext* ctx, const swarm::v1::InfoRequest* req,
                    swarm::v1::InfoReply* reply) override {
    SWARM_GUARD(caller, guard_, ctx, "Node.Info", *req);
    info_.Increment();
    reply->set_node_id(node_->config().id);
    reply->set_version(SWARM_VERSION);
    reply->set_grpc_address(node_->grpc_address());
    reply->set_http_address(node_->http_address());
    reply->set_uptime_seconds(static_cast<uint64_t>(node_->uptime_seconds()));
    reply->set_pid(static_cast<uint64_t>(getpid()));
    reply->set_status_json(node_->StatusJson().dump());
    return grpc::Status::OK;
  }

 private:
  Node* node_;
  prometheus::Counter& ping_;
  prometheus::Counter& info_;
};

// Transport.Deliver: verify the envelope, then route it by kind.
class Node::TransportServiceImpl final : public swarm::v1::Transport::Service, public net::GuardedService {
 public:
  explicit TransportServiceImpl(Node* node)
      : node_(node), calls_(node->metrics().rpc_requests.Add({{"method", "Deliver"}})) {}

  grpc::Status Deliver(grpc::ServerContext* ctx, const swarm::v1::DeliverRequest* req,
                       swarm::v1::DeliverReply*) override {
    SWARM_GUARD(caller, guard_, ctx, "Transport.Deliver", *req);
    calls_.Increment();
    auto opened = node_->opener_->Open(AsBytes(req->envelope()));
    if (!opened.ok()) {
      const std::string m(opened.status().message());
      node_->metrics().rejected_messages.Add({{"reason", m.substr(0, m.find(':'))}}).Increment();
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, m);
    }
    if (opened->kind == "membership" && node_->membership_) {
      node_->membership_->Deliver(*opened);
      return grpc::Status::OK;
    }
    if (auto it = node_->kinds_.find(opened->kind); it != node_->kinds_.end()) {
      Status s = it->second->OnEnvelope(*opened);
      if (s.ok()) return grpc::Status::OK;
      const std::string m(s.message());
      node_->metrics().rejected_messages.Add({{"reason", m.substr(0, m.find_first_of(" :"))}}).Increment();
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, m);
    }
    node_->metrics().rejected_messages.Add({{"reason", "unknown_kind"}}).Increment();
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        absl::StrCat("no protocol for envelope kind '", opened->kind, "'"));
  }

 private:
  Node* node_;
  prometheus::Counter& calls_;
};

Node::Node(NodeConfig config) : config_(std::move(config)) {
  node_service_ = std::make_unique<NodeServiceImpl>(this);
  transport_service_ = std::make_unique<TransportServiceImpl>(this);
  opener_ = std::make_unique<net::EnvelopeOpener>();
  CallGuardOptions g;
  // Until admission is configured (admission.*), the guard runs open: signed
  // calls are authenticated, unsigned ones pass with every role.
  g.enforce = false;
  g.tls = config_.net.tls.enabled;
  guard_ = std::make_unique<CallGuard>(g, GrantCheck{}, &metrics_.registry());
}

void Node::AddExtension(std::unique_ptr<Extension> extension) {
  SWARM_ASSERT(!started_);
  for (const auto& kind : extension->envelope_kinds()) {
    SWARM_ASSERT(kind != "membership" && !kinds_.count(kind));
    kinds_[kind] = extension.get();
  }
  extensions_.push_back(std::move(extension));
}

net::DialOptions Node::DialOptionsFor(const std::string& address) const {
  net::DialOptions o;
  o.net = config_.net;
  o.identity = identity_;
  o.grant_holder = grant_;
  return o;
}

std::shared_ptr<grpc::Channel> Node::ChannelTo(const std::string& address) {
  std::lock_guard<std::mutex> lock(channels_mu_);
  auto& channel = channels_[address];
  if (!channel) {
    channel = net::DialOrUnavailable(address, DialOptionsFor(address));
  }
  return channel;
}

void Node::SendEnvelope(const std::string& address, const std::string& kind, ByteSpan payload,
                        std::function<void(const Status&)> done, Nanos deadline) {
  auto sealed = sealer_->Seal(kind, payload);
  if (!sealed.ok()) {
    if (done) done(sealed.status());
    return;
  }
  struct Call {
    grpc::ClientContext ctx;
    swarm::v1::DeliverRequest req;
    swarm::v1::DeliverReply reply;
    std::function<void(const Status&)> done;
  };
  auto* call = new Call;
  call->done = std::move(done);
  call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(deadline));
  call->req.set_envelope(sealed->data(), sealed->size());
  swarm::v1::Transport::NewStub(ChannelTo(address))
      ->async()
      ->Deliver(&call->ctx, &call->req, &call->reply, [call](grpc::Status s) {
        if (call->done) call->done(net::FromGrpc(s));
        delete call;
      });
}

void Node::SetCommittedMembers(std::set<std::string> addresses, uint64_t version) {
  if (membership_) membership_->SetCommittedMembers(std::move(addresses), version);
}

PlacementView Node::Placement() const {
  return membership_ ? membership_->Placement() : PlacementView{};
}

Status Node::LoadIdentity() {
  std::string path = config_.key_file;
  if (path.empty() && !config_.data_dir.empty()) path = config_.data_dir + "/node.key";
  if (!path.empty() && std::filesystem::exists(path)) {
    SWARM_ASSIGN_OR_RETURN(auto id, crypto::Identity::Load(path));
    identity_ = std::make_shared<crypto::Identity>(std::move(id));
    return absl::OkStatus();
  }
  SWARM_ASSIGN_OR_RETURN(auto scheme, crypto::SchemeFromName(config_.signature));
  SWARM_ASSIGN_OR_RETURN(auto id, crypto::Identity::Generate(scheme));
  if (!path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    SWARM_RETURN_IF_ERROR(id.Save(path, /*force=*/false));
  }
  identity_ = std::make_shared<crypto::Identity>(std::move(id));
  return absl::OkStatus();
}

Status Node::LoadAdmissionState() {
  const uint64_t now_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  SWARM_ASSIGN_OR_RETURN(admission_,
                         LoadAdmission(config_.admission, *identity_, config_.grpc_listen, now_ms));
  // Every outbound call (net::Dial via DialOptionsFor) carries this peer's grant.
  grant_->Set(admission_.own_grant);
  // Granted mode: every call must carry a signed header and a grant from one of
  // the issuers (the CLI tools dial with the run's operator grant). Open mode
  // keeps the guard open (dev). Closed mode (no issuer, not open) refuses every
  // RPC: no grant can be checked, so no caller is admitted — there is no RPC a
  // peer without admission must answer (liveness is HTTP /healthz, which stays).
  if (admission_.verifier && !admission_.open) {
    guard_->Enforce([v = admission_.verifier](ByteSpan grant, uint64_t now_ms) { return v->Verify(grant, now_ms); });
  } else if (admission_.RefusesAll()) {
    guard_->Enforce([](ByteSpan, uint64_t) -> StatusOr<admission::Grant> {
      return absl::PermissionDeniedError(
          "not_admitted: admission is closed on this peer (no admission.issuer_key_files and admission.open = false)");
    });
  }
  grant_file_stamp_ = FileStamp(config_.admission.grant_file);
  return absl::OkStatus();
}

AdmissionView Node::admission() const {
  std::lock_guard<std::mutex> lock(admission_mu_);
  return admission_;
}

// Checks admission.grant_file for a renewed grant every kGrantReloadInterval.
void Node::WatchGrantFile() {
  std::unique_lock<std::mutex> lock(watch_mu_);
  while (!watch_cv_.wait_for(lock, std::chrono::nanoseconds(kGrantReloadInterval), [&] { return watch_stop_; })) {
    lock.unlock();
    ReloadGrant();
    lock.lock();
  }
}

void Node::ReloadGrant() {
  const std::string stamp = FileStamp(config_.admission.grant_file);
  if (stamp.empty() || stamp == grant_file_stamp_) return;
  grant_file_stamp_ = stamp;
  const uint64_t now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count());
  auto loaded = LoadAdmission(config_.admission, *identity_, config_.grpc_listen, now_ms);
  if (!loaded.ok()) {
    spdlog::warn("peer {}: admission.grant_file changed but is refused (keeping the old grant): {}", config_.id,
                 std::string(loaded.status().message()));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(admission_mu_);
    if (loaded->own_grant == admission_.own_grant) return;
    admission_.own_grant = loaded->own_grant;
    admission_.own = loaded->own;
  }
  grant_->Set(loaded->own_grant);
  if (membership_) membership_->SetOwnCredential(loaded->own_grant);
  spdlog::info("peer {}: renewed grant loaded (serial {}, expires in {:.1f} s)", config_.id, loaded->own->serial,
               (static_cast<double>(loaded->own->expires_unix_ms) - static_cast<double>(now_ms)) / 1e3);
}

// After the server is up (a start that fails says one line, its error).
void Node::LogAdmission() const {
  const uint64_t now_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  if (admission_.open) {
    spdlog::warn("peer {}: ADMISSION IS OPEN (admission.open = true, dev mode): calls from peers "
                 "without a grant are accepted. Never run a real swarm like this.",
                 config_.id);
  } else if (admission_.RefusesAll()) {
    spdlog::warn("peer {}: no grant issuer configured (admission.issuer_key_files) and "
                 "admission.open = false: every peer call will be refused",
                 config_.id);
  }
  if (admission_.own) {
    spdlog::info("peer {}: admitted to swarm '{}' as {} (issuer {}, expires in {:.1f} h)", config_.id,
                 admission_.swarm_id, admission::RoleSetNames(admission_.own->roles),
                 ToHex(ByteSpan(admission_.own->issuer).first(8)),
                 (static_cast<double>(admission_.own->expires_unix_ms) - static_cast<double>(now_ms)) / 3.6e6);
  } else if (admission_.verifier) {
    spdlog::warn("peer {}: no admission.grant_file: other peers will refuse this peer's calls",
                 config_.id);
  }
}

void Node::ExportMembershipMetrics() {
  if (!membership_) return;
  static const char* kStates[] = {"alive", "suspect", "dead", "left"};
  auto& members = prometheus::BuildGauge()
                      .Name("swarm_members")
                      .Help("Members in this peer's view, by state")
                      .Register(metrics_.registry());
  auto counter = [&](const char* name, const char* help) -> prometheus::Counter& {
    return prometheus::BuildCounter().Name(name).Help(help).Register(metrics_.registry()).Add({});
  };
  auto& gossip = counter("swarm_gossip_messages_total", "Membership messages sent");
  auto& suspicions = counter("swarm_suspicions_total", "Members this peer started to suspect");
  auto& refutations = counter("swarm_refutations_total", "Suspicions about this peer it refuted");
  auto& moves = counter("swarm_ring_moves_total", "Expert ids whose primary owner changed");
  metrics_.AddScrapeHook([this, &members, &gossip, &suspicions, &refutations, &moves] {
    const nlohmann::json s = membership_->StatusJson();
    std::map<std::string, double> count;
    for (const char* st : kStates) count[st] = 0;
    if (s.contains("members")) {
      for (const auto& m : s["members"]) count[m.value("state", "alive")] += 1;
    }
    for (const auto& [st, n] : count) members.Add({{"state", st}}).Set(n);
    auto bump = [](prometheus::Counter& c, double v) {
      if (v > c.Value()) c.Increment(v - c.Value());
    };
    if (s.contains("counters")) {
      bump(gossip, s["counters"].value("gossip_messages", 0.0));
      bump(suspicions, s["counters"].value("suspicions", 0.0));
      bump(refutations, s["counters"].value("refutations", 0.0));
    }
    if (s.contains("ring")) bump(moves, s["ring"].value("moves", 0.0));
  });
}

Node::~Node() { Shutdown(); }

void Node::AddService(grpc::Service* service) {
  SWARM_ASSERT(!started_);
  services_.push_back(service);
}

void Node::AddStatusProvider(const std::string& name, std::function<nlohmann::json()> provider) {
  std::lock_guard<std::mutex> lock(providers_mu_);
  providers_.emplace_back(name, std::move(provider));
}

std::string Node::grpc_address() const {
  auto a = net::ParseAddress(config_.grpc_listen, true);
  if (!a.ok()) return config_.grpc_listen;
  a->port = static_cast<uint16_t>(grpc_port());
  return a->ToString();
}

std::string Node::http_address() const {
  auto a = net::ParseAddress(config_.http_listen, true);
  if (!a.ok()) return config_.http_listen;
  a->port = static_cast<uint16_t>(http_port_);
  return a->ToString();
}

double Node::uptime_seconds() const {
  return started_ ? ToSeconds(clock_.Now() - started_at_) : 0.0;
}

nlohmann::json Node::StatusJson() {
  nlohmann::json j = {{"id", config_.id},
                      {"version", SWARM_VERSION},
                      {"grpc", grpc_address()},
                      {"http", http_address()},
                      {"pid", getpid()},
                      {"region", config_.region},
                      {"capacity", config_.capacity},
                      {"uptime_seconds", uptime_seconds()},
                      {"healthy", healthy()}};
  if (identity_) j["peer_id"] = identity_->PeerIdHex();
  if (identity_) j["admission"] = admission().StatusJson();
  if (membership_) {
    const nlohmann::json m = membership_->StatusJson();
    for (auto& [k, v] : m.items()) j[k] = v;
  }
  for (auto& ext : extensions_) j[ext->name()] = ext->StatusJson();
  std::lock_guard<std::mutex> lock(providers_mu_);
  for (auto& [name, fn] : providers_) j[name] = fn();
  return j;
}

Status Node::Start() {
  SWARM_ASSERT(!started_);
  started_at_ = clock_.Now();
  SWARM_RETURN_IF_ERROR(LoadIdentity());
  SWARM_RETURN_IF_ERROR(LoadAdmissionState());
  // A restarted peer keeps its key but restarts its sequence numbers; a new
  // epoch per start (wall-clock ms) makes receivers open a fresh replay window
  // for it instead of dropping its messages as replays.
  sealer_ = std::make_unique<net::EnvelopeSealer>(
      *identity_, static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()));
  if (config_.membership) {
    // Membership admits exactly whom the swarm admits (node/admission.h):
    // with issuers, members are grant holders and their facts come from the
    // grants; admission.open (dev) admits self-keyed members; closed admits
    // nobody (this peer cannot even build its own credential: Start fails).
    MembershipAdmission membership_admission;
    membership_admission.open = admission_.open;
    membership_admission.swarm_id = admission_.swarm_id;
    membership_admission.verifier = admission_.verifier;
    membership_admission.own_grant = admission_.own_grant;
    membership_ = std::make_unique<MembershipDriver>(config_, *identity_, *sealer_, metrics_,
                                                     std::move(membership_admission),
                                                     [this](const std::string& a) { return ChannelTo(a); });
  }
  std::vector<grpc::Service*> services = {node_service_.get(), transport_service_.get()};
  services.insert(services.end(), services_.begin(), services_.end());
  for (auto& ext : extensions_) {
    for (auto* svc : ext->services()) services.push_back(svc);
  }
  for (grpc::Service* svc : services) {
    auto* guarded = dynamic_cast<net::GuardedService*>(svc);
    SWARM_ASSERT(guarded != nullptr);  // every service begins each handler with the guard
    guarded->set_guard(guard_.get());
  }
  SWARM_ASSIGN_OR_RETURN(server_, net::RpcServer::Start(config_.grpc_listen, config_.net, services, identity_));
  SWARM_RETURN_IF_ERROR(StartHttp());

  auto& up = prometheus::BuildGauge()
                 .Name("swarm_node_uptime_seconds")
                 .Help("Seconds since this peer started")
                 .Register(metrics_.registry())
                 .Add({});
  auto& info = prometheus::BuildGauge()
                   .Name("swarm_build_info")
                   .Help("Constant 1, labelled with the version and node id")
                   .Register(metrics_.registry())
                   .Add({{"version", SWARM_VERSION}, {"node", config_.id}});
  info.Set(1);
  metrics_.AddScrapeHook([this, &up] { up.Set(uptime_seconds()); });

  if (membership_) {
    SWARM_RETURN_IF_ERROR(membership_->Start(grpc_address()));
    ExportMembershipMetrics();
  }
  started_ = true;
  for (auto& ext : extensions_) {
    if (auto s = ext->Start(*this); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(ext->name(), ": ", s.message()));
    }
  }
  SWARM_RETURN_IF_ERROR(WriteNodeFile());
  LogAdmission();
  if (admission_.verifier && !config_.admission.grant_file.empty()) {
    grant_watch_ = std::thread([this] { WatchGrantFile(); });
  }
  spdlog::info("peer {} serving gRPC on {} and HTTP on http://{}", config_.id, grpc_address(),
               http_address());
  return absl::OkStatus();
}

Status Node::StartHttp() {
  SWARM_ASSIGN_OR_RETURN(net::Address addr, net::ParseAddress(config_.http_listen, true));
  auto& rejected = metrics_.rejected_calls;
  http_ = std::make_unique<net::HttpServer>(config_.http, [&rejected](std::string_view reason) {
    rejected.Add({{"service", "http"}, {"reason", std::string(reason)}}).Increment();
  });
  http_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    if (healthy()) {
      res.set_content("ok\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content(shutting_down_ ? "shutting down\n" : "starting\n", "text/plain");
    }
  });
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  http_->Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(StatusJson().dump(2), "application/json");
  });
  http_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kDashboardHtml, "text/html; charset=utf-8");
  });
  if (auto s = http_->Listen(addr.host, addr.port); !s.ok()) {
    const std::string holder = addr.port ? net::DescribePortHolder(addr.port) : "";
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for HTTP on ", addr.ToString(), ": port ", addr.port,
        " is already in use or the address is not local",
        holder.empty() ? "" : absl::StrCat(" (held by ", holder, ")")));
  }
  http_port_ = http_->port();
  return absl::OkStatus();
}

Status Node::WriteNodeFile() {
  if (config_.data_dir.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat("node.data_dir '", config_.data_dir,
                                                    "': cannot create: ", ec.message()));
  }
  const nlohmann::json j = {{"id", config_.id},
                            {"peer_id", identity_ ? identity_->PeerIdHex() : ""},
                            {"grpc", grpc_address()},
                            {"http", http_address()},
                            {"pid", getpid()}};
  const std::string path = config_.data_dir + "/node.json";
  return WriteFileAtomic(path, j.dump() + "\n", {.mode = 0644});
}

void Node::Shutdown() {
  if (!started_ || shutting_down_.exchange(true)) return;
  spdlog::info("peer {} shutting down: draining in-flight calls (up to {:.1f} s)", config_.id,
               ToSeconds(config_.shutdown_drain));
  if (grant_watch_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      watch_stop_ = true;
    }
    watch_cv_.notify_all();
    grant_watch_.join();
  }
  for (auto it = extensions_.rbegin(); it != extensions_.rend(); ++it) (*it)->Stop();
  if (membership_) membership_->Stop();  // gossips a graceful leave first
  if (server_) server_->Shutdown(config_.shutdown_drain);
  if (http_) http_->Stop();
  spdlog::info("peer {} stopped", config_.id);
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace swarm::node
