// Server side of RPC authentication (docs/security.md, "RPC authentication").
//
// ServerGuard is the interface every service handler calls first:
//
//   grpc::Status Backward(grpc::ServerContext* ctx, const Req* req, Reply* reply) override {
//     SWARM_GUARD(caller, guard_, ctx, "ExpertService.Backward", *req);
//     ...  // caller.peer, caller.grant
//
// node::CallGuard (node/call_guard.h) is the implementation a Node installs;
// it authenticates the signed header, checks the grant, the role, the rate
// and the size, and counts refusals. A service built without a guard (null:
// unit tests, benchmarks, the in-process test committee) accepts every call
// as unauthenticated; a Node always passes its guard.
//
// MakeReplySigner: a server interceptor (installed by RpcServer::Start when it
// is given an identity) that signs every OK reply to a signed request: trailing
// metadata kReplyMetadataKey = EncodeReplyAuth over (request nonce, method,
// SHA3-256 of the reply). Refusals are not signed (no signing work for
// unauthenticated callers).
//
// Thread-safety: ServerGuard implementations are called concurrently by gRPC.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include "admission/grant.h"
#include "common/status.h"
#include "crypto/identity.h"
#include "net/call_auth.h"
#include "net/grpc_status.h"

namespace swarm::net {

// Who made a call, as established by the guard.
struct Caller {
  crypto::PeerIdBytes peer{};  // all zero when unauthenticated (open guard only)
  bool authenticated = false;
  std::optional<admission::Grant> grant;
};

class ServerGuard {
 public:
  virtual ~ServerGuard() = default;
  // `method` is "Service.Method" ("ExpertService.Backward"). An error is the
  // refusal to return to the caller (UNAUTHENTICATED, PERMISSION_DENIED,
  // RESOURCE_EXHAUSTED), its message starting with the reason.
  virtual StatusOr<Caller> Check(grpc::ServerContext* ctx, std::string_view method,
                                 const google::protobuf::MessageLite& request) = 0;
};

// Mixed into every service implementation: the server that hosts the service
// (node::Node::Start) installs its guard before serving, and refuses to start
// a service that is not a GuardedService.
class GuardedService {
 public:
  virtual ~GuardedService() = default;
  void set_guard(ServerGuard* guard) { guard_ = guard; }  // not owned; outlives the service's calls

 protected:
  ServerGuard* guard_ = nullptr;
};

// `guard` may be null (see above).
inline StatusOr<Caller> GuardCall(ServerGuard* guard, grpc::ServerContext* ctx, std::string_view method,
                                  const google::protobuf::MessageLite& request) {
  if (guard == nullptr) return Caller{};
  return guard->Check(ctx, method, request);
}

#define SWARM_GUARD(caller, guard, ctx, method, request)                                        \
  auto SWARM_CONCAT_(swarm_guard_, __LINE__) = ::swarm::net::GuardCall((guard), (ctx), (method), (request)); \
  if (!SWARM_CONCAT_(swarm_guard_, __LINE__).ok())                                              \
    return ::swarm::net::ToGrpc(SWARM_CONCAT_(swarm_guard_, __LINE__).status());                 \
  [[maybe_unused]] const ::swarm::net::Caller& caller = *SWARM_CONCAT_(swarm_guard_, __LINE__)

// What a call carried, read from its metadata and connection.
struct CallCredentials {
  std::optional<RequestAuth> auth;   // absent: no header
  Status auth_error;                 // the header was present but malformed
  std::string grant;                 // grant bytes ("" = none)
  std::optional<Digest32> peer_cert_sha256;  // the TLS peer's certificate, when any
};
CallCredentials ReadCallCredentials(const grpc::ServerContext& ctx);

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeReplySigner(
    std::shared_ptr<const crypto::Identity> identity);

}  // namespace swarm::net
