#include "net/rpc.h"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <grpcpp/support/server_interceptor.h>
#include <spdlog/spdlog.h>

#include "net/server_auth.h"

namespace swarm::net {
namespace {

bool Retryable(grpc::StatusCode c) {
  return c == grpc::StatusCode::UNAVAILABLE || c == grpc::StatusCode::DEADLINE_EXCEEDED ||
         c == grpc::StatusCode::ABORTED;
}

std::chrono::system_clock::time_point DeadlineFromNow(Nanos d) {
  return std::chrono::system_clock::now() + std::chrono::nanoseconds(d);
}

// Inode of the socket listening on `port` (IPv4 or IPv6), or 0.
unsigned long ListeningInode(int port) {
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream is(line);
      std::string sl, local, remote, st, queues, tr, retr, uid, timeout;
      unsigned long inode = 0;
      is >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
      const auto colon = local.rfind(':');
      if (colon == std::string::npos || st != "0A") continue;  // 0A = LISTEN
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) return inode;
    }
  }
  return 0;
}

}  // namespace

void RouteGrpcLogsToSpdlog() {
  gpr_set_log_function([](gpr_log_func_args* args) {
    spdlog::debug("grpc {}:{}: {}", args->file, args->line, args->message);
  });
}

StatusOr<std::string> ReadTextFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot read file '", path, "'"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DescribePortHolder(int port) {
  const unsigned long inode = ListeningInode(port);
  if (inode == 0) return "";
  const std::string needle = absl::StrCat("socket:[", inode, "]");
  DIR* proc = opendir("/proc");
  if (!proc) return "";
  std::string found;
  while (dirent* e = readdir(proc)) {
    const std::string pid = e->d_name;
    if (pid.empty() || !std::isdigit(static_cast<unsigned char>(pid[0]))) continue;
    const std::string fd_dir = "/proc/" + pid + "/fd";
    DIR* fds = opendir(fd_dir.c_str());
    if (!fds) continue;
    while (dirent* f = readdir(fds)) {
      char target[256];
      const std::string link = fd_dir + "/" + f->d_name;
      const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      if (needle == target) {
        std::ifstream comm("/proc/" + pid + "/comm");
        std::string name;
        std::getline(comm, name);
        found = absl::StrCat("pid ", pid, " (", name, ")");
        break;
      }
    }
    closedir(fds);
    if (!found.empty()) break;
  }
  closedir(proc);
  return found;
}

// ---------------------------------------------------------------- server

namespace {

// Counts the server's calls in flight: one interceptor lives exactly as long
// as its call (created when the call arrives, destroyed when it is done).
class InFlightCounter final : public grpc::experimental::Interceptor {
 public:
  explicit InFlightCounter(std::shared_ptr<std::atomic<int64_t>> n) : n_(std::move(n)) { n_->fetch_add(1); }
  ~InFlightCounter() override { n_->fetch_sub(1); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override { methods->Proceed(); }

 private:
  std::shared_ptr<std::atomic<int64_t>> n_;
};

class InFlightCounterFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit InFlightCounterFactory(std::shared_ptr<std::atomic<int64_t>> n) : n_(std::move(n)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo*) override {
    return new InFlightCounter(n_);
  }

 private:
  std::shared_ptr<std::atomic<int64_t>> n_;
};

}  // namespace

StatusOr<std::unique_ptr<RpcServer>> RpcServer::Start(const std::string& listen,
                                                      const NetOptions& options,
                                                      const std::vector<grpc::Service*>& services,
                                                      std::shared_ptr<const crypto::Identity> identity) {
  SWARM_ASSIGN_OR_RETURN(Address addr, ParseAddress(listen, /*allow_port_zero=*/true));
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (options.tls.enabled) {
    SWARM_ASSIGN_OR_RETURN(std::string cert, ReadTextFile(options.tls.cert_file, "tls.cert_file"));
    SWARM_ASSIGN_OR_RETURN(std::string key, ReadTextFile(options.tls.key_file, "tls.key_file"));
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({key, cert});
    if (!options.tls.ca_file.empty()) {
      SWARM_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadTextFile(options.tls.ca_file, "tls.ca_file"));
      ssl.client_certificate_request =
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    creds = grpc::SslServerCredentials(ssl);
  }
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(addr.ToString(), creds, &selected_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, kMetadataBytesMax);  // signed header + grant
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.message_size_bytes_max));
  builder.SetMaxSendMessageSize(static_cast<int>(options.message_size_bytes_max));
  for (grpc::Service* s : services) builder.RegisterService(s);
  auto in_flight = std::make_shared<std::atomic<int64_t>>(0);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<InFlightCounterFactory>(in_flight));
  if (identity) interceptors.push_back(MakeReplySigner(std::move(identity)));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  auto server = builder.BuildAndStart();
  if (!server || selected_port == 0) {
    std::string holder = addr.port ? DescribePortHolder(addr.port) : "";
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", addr.ToString(), ": port ", addr.port,
        " is already in use or the address is not local",
        holder.empty() ? "" : absl::StrCat(" (held by ", holder, ")")));
  }
  auto out = std::unique_ptr<RpcServer>(new RpcServer());
  out->server_ = std::move(server);
  out->port_ = selected_port;
  out->in_flight_ = std::move(in_flight);
  return out;
}

RpcServer::~RpcServer() { Shutdown(Seconds(1)); }

int64_t RpcServer::in_flight() const { return in_flight_ ? in_flight_->load() : 0; }

void RpcServer::Shutdown(Nanos deadline) {
  if (shut_down_ || !server_) return;
  shut_down_ = true;
  // grpc::Server::Shutdown(deadline) returns early only when every call is
  // done AND every client connection has closed. A client that has nothing
  // to send (an idle peer) never reads the server's GOAWAY, so its
  // connection stays open and the server sat out the whole deadline even
  // with no call in flight. While Shutdown runs, this thread drops the
  // connections whenever no call is in flight (grpc_server_cancel_all_calls
  // then cancels nothing); calls still running keep their deadline.
  std::mutex mu;
  std::condition_variable cv;
  bool returned = false;
  std::thread closer([&] {
    std::unique_lock<std::mutex> lock(mu);
    // The first check comes after Shutdown has begun (cancel_all_calls is
    // for a server that is shutting down); later ones catch a connection
    // that arrived meanwhile.
    while (!cv.wait_for(lock, std::chrono::milliseconds(10), [&] { return returned; })) {
      if (in_flight_->load() == 0) grpc_server_cancel_all_calls(server_->c_server());
    }
  });
  server_->Shutdown(DeadlineFromNow(deadline));
  {
    std::lock_guard<std::mutex> lock(mu);
    returned = true;
  }
  cv.notify_all();
  closer.join();
  server_->Wait();
}

void RpcServer::Wait() {
  if (server_) server_->Wait();
}

// ---------------------------------------------------------------- client

PeerClient::PeerClient(std::string address, NetOptions options,
                       std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)),
      options_(std::move(options)),
      channel_(std::move(channel)),
      breaker_(options_.breaker),
      rng_(std::random_device{}()) {}

StatusOr<std::unique_ptr<PeerClient>> PeerClient::Create(const std::string& address,
                                                         const DialOptions& options) {
  SWARM_ASSIGN_OR_RETURN(Address addr, ParseAddress(address));
  SWARM_ASSIGN_OR_RETURN(auto channel, Dial(addr.ToString(), options));
  return std::unique_ptr<PeerClient>(new PeerClient(addr.ToString(), options.net, std::move(channel)));
}

StatusOr<std::unique_ptr<PeerClient>> PeerClient::Create(const std::string& address,
                                                         const NetOptions& options) {
  DialOptions d;
  d.net = options;
  return Create(address, d);
}

CircuitBreaker::State PeerClient::breaker_state() {
  std::lock_guard<std::mutex> lock(mu_);
  return breaker_.state(clock_.Now());
}

Status PeerClient::Call(const std::string& method,
                        const std::function<grpc::Status(grpc::ClientContext*)>& attempt,
                        const CallOptions& call) {
  const Nanos deadline = call.deadline > 0 ? call.deadline : options_.call_deadline;
  const int retries = !call.idempotent ? 0
                      : call.retry_attempts >= 0
                          ? std::min(call.retry_attempts, kRetryAttemptsMax)
                          : std::min(options_.retry_attempts, kRetryAttemptsMax);
  grpc::Status last;
  int attempts = 0;
  for (int i = 0; i <= retries; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!breaker_.Allow(clock_.Now())) {
        if (attempts == 0) {
          return absl::UnavailableError(absl::StrCat(
              "peer ", address_, ": ", method, " refused: circuit open after ",
              options_.breaker.failure_threshold, " consecutive failures"));
        }
        break;
      }
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineFromNow(deadline));
    last = attempt(&ctx);
    ++attempts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Only transport-level trouble counts against the peer's health.
      if (last.ok() || !Retryable(last.error_code())) breaker_.OnSuccess(clock_.Now());
      else breaker_.OnFailure(clock_.Now());
    }
    if (last.ok()) return absl::OkStatus();
    if (!Retryable(last.error_code())) break;
    if (i < retries) {
      Nanos sleep;
      {
        std::lock_guard<std::mutex> lock(mu_);
        sleep = BackoffDelay(options_.backoff, i, rng_);
      }
      std::this_thread::sleep_for(std::chrono::nanoseconds(sleep));
    }
  }
  return absl::Status(static_cast<absl::StatusCode>(last.error_code()),
                      absl::StrCat("peer ", address_, ": ", method, " failed after ", attempts,
                                   attempts == 1 ? " attempt: " : " attempts: ",
                                   GrpcStatusText(last)));
}

}  // namespace swarm::net
