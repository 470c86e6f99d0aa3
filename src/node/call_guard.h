// The server guard: the first call of every RPC handler of every service.
//
//   grpc::Status Backward(grpc::ServerContext* ctx, const Req* req, Reply* r) override {
//     SWARM_GUARD(caller, guard_, ctx, "ExpertService.Backward", *req);
//
// Check() runs, in this order, and stops at the first refusal:
//   1. the method's rule in the ONE access table (AccessTable(): roles allowed,
//      whether it changes state, request size limit);
//   2. oversized     request larger than the rule's limit       RESOURCE_EXHAUSTED
//   3. unauthenticated  no / malformed header, other method, body hash, clock
//      skew beyond clock_skew_ms_max, bad signature, grant hash,
//      TLS certificate that is not the one the header names     UNAUTHENTICATED
//   4. replayed      nonce already seen within the window       UNAUTHENTICATED
//   5. not_admitted / expired / excluded  the grant (GrantCheck, i.e.
//      admission::GrantVerifier::Verify) or its subject is not the caller
//                                                                PERMISSION_DENIED
//   6. permission_denied  none of the caller's roles is allowed:
//      "ExpertService.Backward needs role trainer; caller 1a2b3c4d5e6f7a8b has observer"
//   7. rate_limited  per-peer token bucket, state-changing methods only
//                                                                RESOURCE_EXHAUSTED
// Every refusal is counted in swarm_rejected_calls_total{service,reason} and
// its message starts with the reason (the permission_denied text above is the
// exception: its gRPC code already names it). On success it yields
// Caller{peer id, grant}.
//
// Open mode (options.enforce = false, admission.open): a call without a header
// is let through as unauthenticated with every role; a call WITH a header is
// still fully authenticated (signature, time, replay). Only for local
// experiments; `swarm up`/`swarm train` issue grants and enforce.
//
// Thread-safety: Check is called concurrently by gRPC threads; all state is
// behind one mutex (the signature check runs outside it).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "admission/grant.h"
#include "crypto/signer.h"
#include "net/server_auth.h"

namespace swarm::node {

inline constexpr int64_t kClockSkewMsMax = 60'000;
inline constexpr size_t kNoncesMax = 1u << 20;  // replay window entries
inline constexpr size_t kVerifierCacheMax = 1024;

struct AccessRule {
  std::string_view method;        // "Service.Method"
  admission::RoleSet roles;       // any one of these
  bool changes_state;             // rate-limited
  int64_t request_bytes_max;      // 0 = the server's message limit only
};
// The one access table (every method of every service).
const std::vector<AccessRule>& AccessTable();
const AccessRule* FindAccessRule(std::string_view method);
// "trainer,expert_host" (admission::RoleSetNames; "no role" for none).
std::string RoleListText(admission::RoleSet roles);

// Nonces seen within ±window of now. Pure; not thread-safe.
class ReplayWindow {
 public:
  enum class Result { kFresh, kReplayed, kFull };
  ReplayWindow(int64_t window_ms, size_t entries_max) : window_ms_(window_ms), entries_max_(entries_max) {}
  Result Admit(const net::Nonce& nonce, uint64_t now_unix_ms);
  size_t size() const { return seen_.size(); }

 private:
  int64_t window_ms_;
  size_t entries_max_;
  std::map<net::Nonce, uint64_t> seen_;              // nonce -> forget at (unix ms)
  std::deque<std::pair<uint64_t, net::Nonce>> order_;  // by insertion time
};

// One token bucket per peer. Pure; not thread-safe.
class PeerRateLimiter {
 public:
  PeerRateLimiter(double per_second, double burst) : per_second_(per_second), burst_(burst) {}
  bool Allow(const crypto::PeerIdBytes& peer, uint64_t now_unix_ms);

 private:
  struct Bucket { double tokens; uint64_t at_ms; };
  double per_second_, burst_;
  std::map<crypto::PeerIdBytes, Bucket> buckets_;
};

struct CallGuardOptions {
  bool enforce = true;
  int64_t clock_skew_ms_max = kClockSkewMsMax;
  double rate_calls_per_second = 500;  // state-changing calls, per peer
  double rate_burst_calls = 1000;
  bool tls = false;  // the server runs TLS: a client certificate must match the header's
};

// admission::GrantVerifier::Verify(signed_grant_bytes, now_unix_ms).
using GrantCheck = std::function<StatusOr<admission::Grant>(ByteSpan signed_grant, uint64_t now_unix_ms)>;

class CallGuard final : public net::ServerGuard {
 public:
  // `registry` may be null (no metrics); `now_unix_ms` defaults to the wall clock.
  CallGuard(CallGuardOptions options, GrantCheck grant_check, prometheus::Registry* registry,
            std::function<uint64_t()> now_unix_ms = {});

  StatusOr<net::Caller> Check(grpc::ServerContext* ctx, std::string_view method,
                              const google::protobuf::MessageLite& request) override;
  // Check without gRPC (what Check runs on the call's credentials).
  StatusOr<net::Caller> CheckCredentials(const net::CallCredentials& creds, std::string_view method,
                                         const google::protobuf::MessageLite& request);

  // Refusals so far by (service, reason) (also exported as the counter above).
  uint64_t rejected(const std::string& service, const std::string& reason) const;
  uint64_t rejected_total() const;

 private:
  Status Refuse(std::string_view method, const std::string& reason, Status status);
  Status VerifySignature(const net::RequestAuth& auth);

  CallGuardOptions options_;
  GrantCheck grant_check_;
  prometheus::Family<prometheus::Counter>* family_ = nullptr;
  std::function<uint64_t()> now_;
  mutable std::mutex mu_;
  ReplayWindow replay_;
  PeerRateLimiter rate_;
  std::map<std::pair<std::string, std::string>, uint64_t> rejected_;
  std::map<std::pair<uint8_t, Bytes>, crypto::PreparedVerifier> verifiers_;
};

}  // namespace swarm::node
