// The one dialer: every outbound gRPC channel of swarm is made here.
//
//   net::DialOptions o = node.DialOptionsFor(address);   // or by hand, see below
//   SWARM_ASSIGN_OR_RETURN(auto channel, net::Dial("10.0.0.7:7000", o));
//   auto stub = swarm::v1::ExpertService::NewStub(channel);
//
// Dial honours `net` (message-size limits both ways, [tls] / mTLS credentials,
// keepalive pings, fast reconnect backoff, no transparent retries: PeerClient
// decides retries) and, when `identity` is set, installs a client interceptor
// that signs every call (net/call_auth.h): the request header carries the
// caller's key, the method, SHA3-256 of the request, time, a fresh nonce, the
// SHA3-256 of `grant` (sent beside it) and, with mTLS, the SHA-256 of this
// peer's certificate. When `expected_peer` is set, every OK reply must carry a
// valid reply signature by that peer id over (request nonce, method, reply
// hash); otherwise the call fails with UNAUTHENTICATED naming both ids.
// Deadlines: the per-call deadline is the caller's (ClientContext) or
// PeerClient's; Dial sets none.
//
// Errors: a bad address (net::ParseAddress's message), unreadable TLS files
// (naming the config key and file). Thread-safety: Dial is thread-safe; the
// channel is gRPC's (thread-safe). `identity` is shared: the channel keeps it
// alive.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include <mutex>
#include <utility>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/identity.h"
#include "net/call_auth.h"
#include "net/options.h"

namespace swarm::net {

inline constexpr int kKeepaliveTimeMsDefault = 30'000;
inline constexpr int kKeepaliveTimeoutMsDefault = 10'000;

// A grant that can be replaced while channels use it (a peer whose grant file
// was renewed): every call signed on a channel dialled with it reads the
// current bytes. Thread-safe.
class GrantHolder {
 public:
  explicit GrantHolder(Bytes grant = {}) { Set(std::move(grant)); }
  void Set(Bytes grant);
  // The bytes as sent and their SHA3-256.
  std::pair<std::shared_ptr<const std::string>, Digest32> Get() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const std::string> grant_;
  Digest32 sha3_{};
};

struct DialOptions {
  NetOptions net;  // message_size_bytes_max, tls (call_deadline is PeerClient's)
  std::shared_ptr<const crypto::Identity> identity;  // signs every call; null = unsigned
  Bytes grant;  // admission::EncodeSignedGrant bytes sent with every call ("" = none)
  std::shared_ptr<const GrantHolder> grant_holder;  // when set, read per call instead of `grant`
  std::optional<crypto::PeerIdBytes> expected_peer;  // replies must be signed by it
  int keepalive_time_ms = kKeepaliveTimeMsDefault;  // 0 = no keepalive pings
  int keepalive_timeout_ms = kKeepaliveTimeoutMsDefault;
  int reconnect_backoff_initial_ms = 100;
  int reconnect_backoff_max_ms = 1000;
};

StatusOr<std::shared_ptr<grpc::Channel>> Dial(const std::string& address, const DialOptions& options);

// Credentials of a command-line tool (swarm status, ledger, evolve, fhe eval,
// train's status poll): a Dial whose options carry no identity signs with
// these instead. Set once, early, by the CLI (cli/credentials.h) from a run's
// operator key and grant; peers always pass their own identity. Thread-safe.
void SetDefaultCallCredentials(std::shared_ptr<const crypto::Identity> identity, Bytes grant);

// Dial, or when that fails (bad address, unreadable TLS files: logged at warn
// with the reason) a channel on which every call fails UNAVAILABLE. For
// callers that cache channels by address and report errors per call.
std::shared_ptr<grpc::Channel> DialOrUnavailable(const std::string& address, const DialOptions& options);

// SHA-256 of a PEM certificate's DER encoding (what mTLS-bound headers carry).
StatusOr<Digest32> CertificateSha256(const std::string& pem);

// The server's reply signature of a finished call (from its trailing
// metadata), or NotFound. With the request's nonce (RequestNonceOf) this is the
// evidence that the peer sent this reply.
StatusOr<ReplyAuth> ReplyAuthOf(const grpc::ClientContext& ctx);

}  // namespace swarm::net
