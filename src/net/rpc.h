// gRPC server and client wrappers.
//
// RpcServer: binds one address (SO_REUSEPORT off, so a port in use is an
// error naming the port and, when it can be found, the process holding it),
// registers services, and shuts down by draining in-flight calls within a
// deadline: it returns as soon as no call is in flight (idle client
// connections are dropped, not waited for), at the latest at the deadline.
//
// PeerClient: one channel to one peer; Call() runs a unary RPC attempt
// function with a per-call deadline, retries idempotent calls on UNAVAILABLE /
// DEADLINE_EXCEEDED / ABORTED with full-jitter backoff, and consults a circuit
// breaker per peer. Thread-safe: one PeerClient may be used from many threads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/clock.h"
#include "common/rng.h"
#include "common/status.h"
#include "crypto/identity.h"
#include "net/address.h"
#include "net/dial.h"
#include "net/grpc_status.h"
#include "net/options.h"

namespace swarm::net {

class RpcServer {
 public:
  // Binds `listen` ("host:port"; port 0 picks a free one) and starts serving
  // `services` (not owned; must outlive the server). With `identity`, every
  // OK reply to a signed request is signed (net/server_auth.h MakeReplySigner).
  static StatusOr<std::unique_ptr<RpcServer>> Start(
      const std::string& listen, const NetOptions& options, const std::vector<grpc::Service*>& services,
      std::shared_ptr<const crypto::Identity> identity = nullptr);
  ~RpcServer();
  int port() const { return port_; }
  // Stops accepting calls, lets in-flight calls finish until `deadline` from
  // now, then cancels the rest; returns as soon as no call is in flight.
  // Idempotent. Call from one thread.
  void Shutdown(Nanos deadline);
  void Wait();
  // Calls received and not yet finished (thread-safe).
  int64_t in_flight() const;

 private:
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<std::atomic<int64_t>> in_flight_;
  int port_ = 0;
  bool shut_down_ = false;
};

struct CallOptions {
  bool idempotent = false;
  Nanos deadline = 0;  // 0 = NetOptions::call_deadline
  int retry_attempts = -1;  // -1 = NetOptions::retry_attempts
};

class PeerClient {
 public:
  // The channel comes from net::Dial; `options.net` also gives deadlines,
  // retries and the breaker.
  static StatusOr<std::unique_ptr<PeerClient>> Create(const std::string& address,
                                                      const DialOptions& options);
  static StatusOr<std::unique_ptr<PeerClient>> Create(const std::string& address,
                                                      const NetOptions& options);
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const std::string& address() const { return address_; }

  // Runs `attempt` (which issues one RPC on the given context) until it
  // succeeds, fails with a non-retryable code, or attempts run out. Errors
  // read: "peer 127.0.0.1:7000: Ping failed after 4 attempts: UNAVAILABLE: ..."
  // or "peer ...: Ping refused: circuit open after 5 consecutive failures".
  Status Call(const std::string& method,
              const std::function<grpc::Status(grpc::ClientContext*)>& attempt,
              const CallOptions& call = {});

  CircuitBreaker::State breaker_state();

 private:
  PeerClient(std::string address, NetOptions options, std::shared_ptr<grpc::Channel> channel);
  std::string address_;
  NetOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  RealClock clock_;
  std::mutex mu_;
  CircuitBreaker breaker_;  // guarded by mu_
  Rng rng_;                 // guarded by mu_
};

// Reads a whole file (PEM material); errors name the file and the key.
StatusOr<std::string> ReadTextFile(const std::string& path, const std::string& what);

// Sends gRPC's own log lines to spdlog at debug level, so users see our one-line
// errors rather than gRPC internals. Call once, early in main().
void RouteGrpcLogsToSpdlog();

// "pid 1234 (swarm)" for the process listening on TCP `port`, or "" if unknown.
std::string DescribePortHolder(int port);

}  // namespace swarm::net
