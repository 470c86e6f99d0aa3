// One peer process: the gRPC server (Node service plus whatever services the
// caller adds), a read-only HTTP server (net/http_server.h: bounded bodies,
// headers, connections; bearer token from http.token) with /metrics, /healthz,
// /api/status and the dashboard, and a graceful shutdown.
//
// Lifecycle: construct → AddService / AddStatusProvider / AddExtension →
// Start → (serve) → Shutdown. Start writes <data_dir>/node.json with the bound ports so that
// `swarm up` can find them. Shutdown marks /healthz unhealthy, stops accepting
// calls, lets in-flight calls finish within config.shutdown_drain, and stops
// the HTTP server. Thread-safety: Start/Shutdown from one thread; the rest is
// thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/dial.h"
#include "net/http_server.h"
#include "net/rpc.h"
#include "node/admission.h"
#include "node/call_guard.h"
#include "node/config.h"
#include "node/extension.h"
#include "node/metrics.h"
#include "node/view.h"

namespace swarm::crypto {
class Identity;
}
namespace swarm::net {
class EnvelopeOpener;
class EnvelopeSealer;
}

namespace swarm::node {

class MembershipDriver;

// How often a peer checks its admission.grant_file for a renewed grant.
inline constexpr Nanos kGrantReloadInterval = Millis(1000);

class Node {
 public:
  explicit Node(NodeConfig config);
  ~Node();

  // Services must be added before Start; not owned; must outlive the Node.
  void AddService(grpc::Service* service);
  // `name` becomes a key of the status JSON (Info RPC and /api/status).
  void AddStatusProvider(const std::string& name, std::function<nlohmann::json()> provider);
  // Before Start. The node owns it; see node/extension.h for the lifecycle.
  void AddExtension(std::unique_ptr<Extension> extension);

  Status Start();
  void Shutdown();
  bool healthy() const { return started_ && !shutting_down_; }

  const NodeConfig& config() const { return config_; }
  int grpc_port() const { return server_ ? server_->port() : 0; }
  int http_port() const { return http_port_; }
  std::string grpc_address() const;
  std::string http_address() const;
  Metrics& metrics() { return metrics_; }
  double uptime_seconds() const;
  nlohmann::json StatusJson();
  // The peer's identity (valid after Start).
  const crypto::Identity& identity() const { return *identity_; }
  // Admission as loaded at Start from admission.* (node/admission.h): the mode
  // (granted/open/closed), the GrantVerifier for callers' grants (nullptr when
  // no issuer is configured) and this peer's own grant (bytes to attach to its
  // outbound calls, and the decoded Grant). Valid after Start. The own grant
  // changes when admission.grant_file is renewed (checked every
  // kGrantReloadInterval): the new grant is verified like the first, then
  // every outbound call carries it and membership gossips it; a file that does
  // not verify is logged and the old grant kept. Returns a copy.
  AdmissionView admission() const;

  // For extensions (valid after Start, thread-safe):
  // Seals `payload` as a signed envelope of `kind` with this peer's identity
  // and delivers it by Transport.Deliver to `address` (host:port), without
  // blocking. `done` (optional) runs on a gRPC thread with the outcome.
  void SendEnvelope(const std::string& address, const std::string& kind, ByteSpan payload,
                    std::function<void(const Status&)> done = {}, Nanos deadline = Seconds(2));
  // A cached channel to `address` from net::Dial with DialOptionsFor(address).
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address);
  // What this peer dials with: [net]/[tls], its identity (every call signed)
  // and its admission grant (valid after Start).
  net::DialOptions DialOptionsFor(const std::string& address) const;
  // The guard every service of this peer calls first (node/call_guard.h).
  CallGuard& call_guard() { return *guard_; }
  // Members and ring owners as of the last membership step (empty when
  // membership is off).
  PlacementView Placement() const;
  // The addresses of the last committed epoch.membership record: placement
  // follows them from now on (MembershipDriver::SetCommittedMembers). Called by
  // the consensus extension; no-op when membership is off.
  void SetCommittedMembers(std::set<std::string> addresses, uint64_t version);

 private:
  class NodeServiceImpl;
  class TransportServiceImpl;
  Status LoadIdentity();
  Status LoadAdmissionState();
  void WatchGrantFile();
  void ReloadGrant();
  void LogAdmission() const;
  void ExportMembershipMetrics();
  Status StartHttp();
  Status WriteNodeFile();

  NodeConfig config_;
  Metrics metrics_;
  RealClock clock_;
  Nanos started_at_ = 0;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<NodeServiceImpl> node_service_;
  std::unique_ptr<TransportServiceImpl> transport_service_;
  std::shared_ptr<crypto::Identity> identity_;
  mutable std::mutex admission_mu_;  // admission_.own / own_grant (renewals)
  AdmissionView admission_;
  std::unique_ptr<CallGuard> guard_;
  // This peer's admission::SignedGrant encoding ("" = none), read per call by
  // every channel this peer dials (renewals take effect at once).
  std::shared_ptr<net::GrantHolder> grant_ = std::make_shared<net::GrantHolder>();
  std::string grant_file_stamp_;  // size and mtime of admission.grant_file last read
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;
  std::thread grant_watch_;
  std::unique_ptr<net::EnvelopeOpener> opener_;
  std::unique_ptr<net::EnvelopeSealer> sealer_;
  std::vector<std::unique_ptr<Extension>> extensions_;
  std::map<std::string, Extension*> kinds_;  // envelope kind → extension
  std::mutex channels_mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::unique_ptr<MembershipDriver> membership_;
  std::unique_ptr<net::RpcServer> server_;
  std::unique_ptr<net::HttpServer> http_;
  int http_port_ = 0;
  std::atomic<bool> started_{false};
  std::atomic<bool> shutting_down_{false};
  std::mutex providers_mu_;
  std::vector<std::pair<std::string, std::function<nlohmann::json()>>> providers_;
};

// Blocks SIGINT and SIGTERM in the calling thread (call before any thread is
// created, so every thread inherits the mask) and returns when one arrives.
void BlockShutdownSignals();
int WaitForShutdownSignal();

}  // namespace swarm::node
