#include "node/node.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "net/address.h"
#include "node/web_assets.h"
#include "swarm/v1/node.grpc.pb.h"

#ifndef SWARM_VERSION
#define SWARM_VERSION "dev"
#endif

namespace swarm::node {

class Node::NodeServiceImpl final : public swarm::v1::Node::Service {
 public:
  explicit NodeServiceImpl(Node* node)
      : node_(node),
        ping_(node->metrics().rpc_requests.Add({{"method", "Ping"}})),
        info_(node->metrics().rpc_requests.Add({{"method", "Info"}})) {}

  grpc::Status Ping(grpc::ServerContext*, const swarm::v1::PingRequest* req,
                    swarm::v1::PingReply* reply) override {
    ping_.Increment();
    reply->set_payload(req->payload());
    reply->set_node_id(node_->config().id);
    return grpc::Status::OK;
  }

  grpc::Status Info(grpc::ServerContext*, const swarm::v1::InfoRequest*,
                    swarm::v1::InfoReply* reply) override {
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

Node::Node(NodeConfig config) : config_(std::move(config)) {
  node_service_ = std::make_unique<NodeServiceImpl>(this);
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
  std::lock_guard<std::mutex> lock(providers_mu_);
  for (auto& [name, fn] : providers_) j[name] = fn();
  return j;
}

Status Node::Start() {
  SWARM_ASSERT(!started_);
  started_at_ = clock_.Now();
  std::vector<grpc::Service*> services = {node_service_.get()};
  services.insert(services.end(), services_.begin(), services_.end());
  SWARM_ASSIGN_OR_RETURN(server_, net::RpcServer::Start(config_.grpc_listen, config_.net, services));
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

  started_ = true;
  SWARM_RETURN_IF_ERROR(WriteNodeFile());
  spdlog::info("peer {} serving gRPC on {} and HTTP on http://{}", config_.id, grpc_address(),
               http_address());
  return absl::OkStatus();
}

Status Node::StartHttp() {
  SWARM_ASSIGN_OR_RETURN(net::Address addr, net::ParseAddress(config_.http_listen, true));
  http_ = std::make_unique<httplib::Server>();
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
    res.set_header("Access-Control-Allow-Origin", "*");
    res.set_content(StatusJson().dump(2), "application/json");
  });
  http_->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kDashboardHtml, "text/html; charset=utf-8");
  });
  if (addr.port == 0) {
    http_port_ = http_->bind_to_any_port(addr.host);
  } else {
    http_port_ = http_->bind_to_port(addr.host, addr.port) ? addr.port : -1;
  }
  if (http_port_ <= 0) {
    const std::string holder = addr.port ? net::DescribePortHolder(addr.port) : "";
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for HTTP on ", addr.ToString(), ": port ", addr.port,
        " is already in use or the address is not local",
        holder.empty() ? "" : absl::StrCat(" (held by ", holder, ")")));
  }
  http_thread_ = std::thread([this] { http_->listen_after_bind(); });
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
                            {"grpc", grpc_address()},
                            {"http", http_address()},
                            {"pid", getpid()}};
  const std::string path = config_.data_dir + "/node.json";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump() << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", ec.message()));
  return absl::OkStatus();
}

void Node::Shutdown() {
  if (!started_ || shutting_down_.exchange(true)) return;
  spdlog::info("peer {} shutting down: draining in-flight calls (up to {:.1f} s)", config_.id,
               ToSeconds(config_.shutdown_drain));
  if (server_) server_->Shutdown(config_.shutdown_drain);
  if (http_) http_->stop();
  if (http_thread_.joinable()) http_thread_.join();
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
