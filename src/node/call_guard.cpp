#include "node/call_guard.h"

#include <chrono>

#include "crypto/hash.h"
#include "net/message_hash.h"

namespace swarm::node {
namespace {

using admission::Role;

constexpr admission::RoleSet R(Role r) { return static_cast<admission::RoleSet>(r); }
constexpr admission::RoleSet kAnyRole = admission::kAllRolesMask;
// Every role that takes part in a swarm (not a read-only observer or a client).

uint64_t WallUnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string ServiceOf(std::string_view method) {
  return std::string(method.substr(0, method.find('.')));
}

// "ExpertService.Backward" -> "/swarm.v1.ExpertService/Backward"
std::string WireMethod(std::string_view method) {
  const size_t dot = method.find('.');
  return absl::StrCat("/swarm.v1.", std::string(method.substr(0, dot)), "/",
                      std::string(method.substr(dot + 1)));
}

}  // namespace

const std::vector<AccessRule>& AccessTable() {
  static const std::vector<AccessRule> kTable = {
      // service.method              roles allowed                                   state  bytes
      {"Node.Ping", kAnyRole, false, 64 << 10},
      {"Node.Info", kAnyRole, false, 64 << 10},
      // Any admitted peer: each envelope kind does its own checks (membership
      // believes a member only about itself; averaging only from trainers).
      {"Transport.Deliver", kAnyRole, true, 0},
      {"ExpertService.Forward", R(Role::kTrainer), false, 0},
      {"ExpertService.Backward", R(Role::kTrainer), true, 0},
      {"ExpertService.GetParameters",
       R(Role::kTrainer) | R(Role::kExpertHost) | R(Role::kCommittee) | R(Role::kObserver), false, 64 << 10},
      {"ExpertService.Info", kAnyRole, false, 64 << 10},
      {"Pbft.Deliver", R(Role::kCommittee), true, 0},
      {"Pbft.Identify", kAnyRole, false, 64 << 10},
      {"Pbft.Submit", kAnyRole & ~R(Role::kObserver), true, 0},
      {"Pbft.LedgerHead", kAnyRole, false, 64 << 10},
      {"Pbft.LedgerRecords", kAnyRole, false, 64 << 10},
      {"Jobs.SubmitJob", R(Role::kClient), true, 0},
      {"Jobs.JobStatus", R(Role::kClient), false, 64 << 10},
      {"Jobs.RunTask", R(Role::kQueen), true, 0},
      {"EvoEvaluator.Register", R(Role::kIsland), true, 64 << 10},
      {"EvoEvaluator.Evaluate", R(Role::kIsland), true, 0},
      {"EvoEvaluator.IslandStep", R(Role::kIsland), true, 0},
  };
  return kTable;
}

const AccessRule* FindAccessRule(std::string_view method) {
  for (const auto& r : AccessTable()) {
    if (r.method == method) return &r;
  }
  return nullptr;
}

std::string RoleListText(admission::RoleSet roles) {
  return roles == 0 ? "no role" : admission::RoleSetNames(roles);
}

// ---------------------------------------------------------------- replay window

ReplayWindow::Result ReplayWindow::Admit(const net::Nonce& nonce, uint64_t now_unix_ms) {
  while (!order_.empty() && order_.front().first <= now_unix_ms) {
    auto it = seen_.find(order_.front().second);
    if (it != seen_.end() && it->second == order_.front().first) seen_.erase(it);
    order_.pop_front();
  }
  if (seen_.count(nonce)) return Result::kReplayed;
  if (seen_.size() >= entries_max_) return Result::kFull;
  // A header is accepted while its time is within ±window of now, so the
  // nonce must be remembered for 2 windows from now at most.
  const uint64_t forget_at = now_unix_ms + 2 * static_cast<uint64_t>(window_ms_);
  seen_[nonce] = forget_at;
  order_.emplace_back(forget_at, nonce);
  return Result::kFresh;
}

// ---------------------------------------------------------------- rate limiter

bool PeerRateLimiter::Allow(const crypto::PeerIdBytes& peer, uint64_t now_unix_ms) {
  auto [it, fresh] = buckets_.try_emplace(peer, Bucket{burst_, now_unix_ms});
  Bucket& b = it->second;
  if (now_unix_ms > b.at_ms) {
    b.tokens = std::min(burst_, b.tokens + per_second_ * static_cast<double>(now_unix_ms - b.at_ms) / 1000.0);
    b.at_ms = now_unix_ms;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

// ---------------------------------------------------------------- guard

CallGuard::CallGuard(CallGuardOptions options, GrantCheck grant_check, prometheus::Registry* registry,
                     std::function<uint64_t()> now_unix_ms)
    : options_(options),
      grant_check_(std::move(grant_check)),
      now_(now_unix_ms ? std::move(now_unix_ms) : std::function<uint64_t()>(WallUnixMs)),
      replay_(options.clock_skew_ms_max, kNoncesMax),
      rate_(options.rate_calls_per_second, options.rate_burst_calls) {
  if (registry != nullptr) {
    family_ = &prometheus::BuildCounter()
                   .Name("swarm_rejected_calls_total")
                   .Help("RPC calls refused by the call guard, by service and reason")
                   .Register(*registry);
  }
}

Status CallGuard::Refuse(std::string_view method, const std::string& reason, Status status) {
  const std::string service = ServiceOf(method);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++rejected_[{service, reason}];
  }
  if (family_ != nullptr) family_->Add({{"service", service}, {"reason", reason}}).Increment();
  return status;
}

uint64_t CallGuard::rejected(const std::string& service, const std::string& reason) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rejected_.find({service, reason});
  return it == rejected_.end() ? 0 : it->second;
}

uint64_t CallGuard::rejected_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& [k, v] : rejected_) n += v;
  return n;
}

Status CallGuard::VerifySignature(const net::RequestAuth& auth) {
  std::optional<crypto::PreparedVerifier> v;
  const auto key = std::make_pair(static_cast<uint8_t>(auth.scheme), auth.public_key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = verifiers_.find(key);
    if (it != verifiers_.end()) v = it->second;
  }
  if (!v) {
    SWARM_ASSIGN_OR_RETURN(auto prepared, crypto::PreparedVerifier::Create(auth.scheme, auth.public_key));
    v = prepared;
    std::lock_guard<std::mutex> lock(mu_);
    if (verifiers_.size() >= kVerifierCacheMax) verifiers_.clear();
    verifiers_.emplace(key, prepared);
  }
  return v->Verify(net::RequestSigningBytes(auth), auth.signature);
}

StatusOr<net::Caller> CallGuard::Check(grpc::ServerContext* ctx, std::string_view method,
                                       const google::protobuf::MessageLite& request) {
  return CheckCredentials(net::ReadCallCredentials(*ctx), method, request);
}

StatusOr<net::Caller> CallGuard::CheckCredentials(const net::CallCredentials& creds, std::string_view method,
                                                  const google::protobuf::MessageLite& request) {
  const std::string m(method);
  const AccessRule* rule = FindAccessRule(method);
  if (rule == nullptr) {
    return Refuse(method, "permission_denied",
                  absl::PermissionDeniedError(absl::StrCat("permission_denied: ", m, " has no access rule")));
  }
  if (rule->request_bytes_max > 0 && request.ByteSizeLong() > static_cast<size_t>(rule->request_bytes_max)) {
    return Refuse(method, "oversized",
                  absl::ResourceExhaustedError(absl::StrCat("oversized: ", m, " request is ", request.ByteSizeLong(),
                                                            " bytes, limit ", rule->request_bytes_max)));
  }
  auto unauthenticated = [&](const std::string& why) {
    return Refuse(method, "unauthenticated",
                  absl::UnauthenticatedError(absl::StrCat("unauthenticated: ", m, ": ", why)));
  };
  if (!creds.auth) {
    if (!creds.auth_error.ok()) return unauthenticated(std::string(creds.auth_error.message()));
    if (!options_.enforce) {
      net::Caller open;
      open.authenticated = false;
      return open;
    }
    return unauthenticated("the call carries no signed request header (dial through net::Dial with an identity)");
  }
  const net::RequestAuth& a = *creds.auth;
  const crypto::PeerIdBytes peer = net::PeerIdOfRequest(a);
  const std::string who = net::ShortPeerId(peer);
  if (a.method != WireMethod(method)) {
    return unauthenticated(absl::StrCat("header was signed for method '", a.method, "'"));
  }
  const uint64_t now = now_();
  const int64_t skew = static_cast<int64_t>(a.unix_ms) - static_cast<int64_t>(now);
  if (skew > options_.clock_skew_ms_max || -skew > options_.clock_skew_ms_max) {
    return unauthenticated(absl::StrCat("caller ", who, " header time is ", skew, " ms from ours, limit ±",
                                        options_.clock_skew_ms_max, " ms"));
  }
  if (net::MessageSha3(request) != a.body_sha3) {
    return unauthenticated(absl::StrCat("caller ", who, ": request body does not match its signed hash"));
  }
  if (a.grant_sha3 != crypto::Sha3_256(AsBytes(creds.grant))) {
    return unauthenticated(absl::StrCat("caller ", who, ": grant does not match its signed hash"));
  }
  if (creds.peer_cert_sha256 || a.tls_cert_sha256) {
    if (!creds.peer_cert_sha256 || !a.tls_cert_sha256 || *creds.peer_cert_sha256 != *a.tls_cert_sha256) {
      return unauthenticated(absl::StrCat("caller ", who,
                                          ": TLS certificate of the connection is not the one the header names"));
    }
  } else if (options_.tls) {
    return unauthenticated(absl::StrCat("caller ", who, ": TLS is on and the header names no client certificate"));
  }
  if (Status s = VerifySignature(a); !s.ok()) {
    return unauthenticated(absl::StrCat("caller ", who, ": signature does not verify"));
  }
  ReplayWindow::Result seen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen = replay_.Admit(a.nonce, now);
  }
  if (seen == ReplayWindow::Result::kReplayed) {
    return Refuse(method, "replayed",
                  absl::UnauthenticatedError(
                      absl::StrCat("replayed: ", m, ": caller ", who, " reused a nonce within the window")));
  }
  if (seen == ReplayWindow::Result::kFull) {
    return Refuse(method, "rate_limited",
                  absl::ResourceExhaustedError(absl::StrCat("rate_limited: ", m, ": replay window is full (",
                                                            kNoncesMax, " nonces)")));
  }
  net::Caller caller;
  caller.peer = peer;
  caller.authenticated = true;
  if (!options_.enforce) return caller;
  if (creds.grant.empty()) {
    return Refuse(method, "not_admitted",
                  absl::PermissionDeniedError(absl::StrCat("not_admitted: ", m, ": caller ", who,
                                                           " sent no admission grant")));
  }
  auto grant = grant_check_ ? grant_check_(AsBytes(creds.grant), now)
                            : StatusOr<admission::Grant>(absl::FailedPreconditionError(
                                  "not_admitted: this peer has no admission verifier"));
  if (!grant.ok()) {
    const std::string msg(grant.status().message());
    std::string reason = msg.substr(0, msg.find(':'));
    if (reason != "expired" && reason != "excluded") reason = "not_admitted";
    return Refuse(method, reason,
                  absl::PermissionDeniedError(absl::StrCat(reason, ": ", m, ": caller ", who, ": ", msg)));
  }
  if (grant->subject != peer) {
    return Refuse(method, "not_admitted",
                  absl::PermissionDeniedError(absl::StrCat("not_admitted: ", m, ": grant is for peer ",
                                                           net::ShortPeerId(grant->subject), ", caller is ", who)));
  }
  if ((grant->roles & rule->roles) == 0) {
    return Refuse(method, "permission_denied",
                  absl::PermissionDeniedError(absl::StrCat(m, " needs role ", RoleListText(rule->roles), "; caller ",
                                                           who, " has ", RoleListText(grant->roles))));
  }
  if (rule->changes_state) {
    bool ok;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ok = rate_.Allow(peer, now);
    }
    if (!ok) {
      return Refuse(method, "rate_limited",
                    absl::ResourceExhaustedError(absl::StrCat("rate_limited: ", m, ": caller ", who, " exceeds ",
                                                              options_.rate_calls_per_second, " calls/s")));
    }
  }
  caller.grant = std::move(*grant);
  return caller;
}

}  // namespace swarm::node
