// node::CallGuard on credentials built by hand: header checks, replay window,
// clock skew, tampered body/method, grants, roles, rate limit, size, TLS binding.
#include "node/call_guard.h"

#include <gtest/gtest.h>

#include <openssl/rand.h>

#include "crypto/hash.h"
#include "net/message_hash.h"
#include "swarm/v1/expert.pb.h"
#include "swarm/v1/node.pb.h"

namespace swarm::node {
namespace {

using admission::Role;
using crypto::Identity;

constexpr uint64_t kNow = 1'800'000'000'000ull;

const Identity& Issuer() {
  static auto* id = new Identity(*Identity::Generate());
  return *id;
}
const Identity& Trainer() {
  static auto* id = new Identity(*Identity::Generate());
  return *id;
}
const Identity& Observer() {
  static auto* id = new Identity(*Identity::Generate());
  return *id;
}

std::string GrantFor(const Identity& who, admission::RoleSet roles, uint64_t expires = kNow + 3'600'000) {
  admission::Grant g;
  g.swarm_id = "s";
  g.subject_scheme = who.scheme();
  g.subject_public_key = who.public_key();
  g.subject = who.peer_id();
  g.roles = roles;
  g.operator_name = "test";
  g.not_before_unix_ms = kNow - 3'600'000;
  g.expires_unix_ms = expires;
  const Bytes b = admission::EncodeSignedGrant(*admission::IssueGrant(Issuer(), g));
  return std::string(b.begin(), b.end());
}

// Credentials as net::Dial's interceptor would attach them.
net::CallCredentials Sign(const Identity& who, const std::string& wire_method,
                          const google::protobuf::MessageLite& req, const std::string& grant, uint64_t at = kNow) {
  net::RequestAuth a;
  a.method = wire_method;
  a.body_sha3 = net::MessageSha3(req);
  a.unix_ms = at;
  RAND_bytes(a.nonce.data(), static_cast<int>(a.nonce.size()));
  a.grant_sha3 = crypto::Sha3_256(AsBytes(grant));
  EXPECT_TRUE(net::SignRequestAuth(who, a).ok());
  net::CallCredentials c;
  c.auth = a;
  c.grant = grant;
  return c;
}

struct Guard {
  std::shared_ptr<admission::GrantVerifier> verifier =
      std::make_shared<admission::GrantVerifier>("s", std::vector<admission::IssuerKey>{admission::IssuerKeyOf(Issuer())});
  uint64_t now = kNow;
  CallGuard guard;
  explicit Guard(CallGuardOptions o = {})
      : guard(o, [v = verifier](ByteSpan g, uint64_t t) { return v->Verify(g, t); }, nullptr,
              [this] { return now; }) {}
};

swarm::v1::ExpertBackwardRequest Backward() {
  swarm::v1::ExpertBackwardRequest r;
  r.set_expert_id(3);
  r.set_x("xx");
  return r;
}

std::string Msg(const StatusOr<net::Caller>& r) { return std::string(r.status().message()); }

TEST(CallGuard, AdmittedTrainerPassesAndIsNamed) {
  Guard g;
  const auto req = Backward();
  auto r = g.guard.CheckCredentials(
      Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, GrantFor(Trainer(), static_cast<uint32_t>(Role::kTrainer))),
      "ExpertService.Backward", req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->authenticated);
  EXPECT_EQ(r->peer, Trainer().peer_id());
  ASSERT_TRUE(r->grant.has_value());
  EXPECT_EQ(g.guard.rejected_total(), 0u);
}

TEST(CallGuard, ReplayedCallIsRefused) {
  Guard g;
  const auto req = Backward();
  const auto creds =
      Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, GrantFor(Trainer(), static_cast<uint32_t>(Role::kTrainer)));
  ASSERT_TRUE(g.guard.CheckCredentials(creds, "ExpertService.Backward", req).ok());
  g.now += 30'000;  // later, still inside the ±60 s window
  auto again = g.guard.CheckCredentials(creds, "ExpertService.Backward", req);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(absl::IsUnauthenticated(again.status()));
  EXPECT_EQ(Msg(again).rfind("replayed: ", 0), 0u) << Msg(again);
  EXPECT_EQ(g.guard.rejected("ExpertService", "replayed"), 1u);
  // Once the window has passed, the same header is refused for its age.
  g.now += 61'000;
  auto late = g.guard.CheckCredentials(creds, "ExpertService.Backward", req);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(Msg(late).find("header time is"), std::string::npos) << Msg(late);
}

TEST(CallGuard, ClockSkewBeyondSixtySecondsIsRefusedBothWays) {
  Guard g;
  const auto req = Backward();
  const std::string grant = GrantFor(Trainer(), static_cast<uint32_t>(Role::kTrainer));
  for (int64_t skew : {-59'000, 59'000}) {
    auto r = g.guard.CheckCredentials(Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, grant, kNow + skew),
                                      "ExpertService.Backward", req);
    EXPECT_TRUE(r.ok()) << skew << ": " << r.status();
  }
  for (int64_t skew : {-61'000, 61'000}) {
    auto r = g.guard.CheckCredentials(Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, grant, kNow + skew),
                                      "ExpertService.Backward", req);
    ASSERT_FALSE(r.ok()) << skew;
    EXPECT_EQ(Msg(r).rfind("unauthenticated: ", 0), 0u) << Msg(r);
    EXPECT_NE(Msg(r).find("limit ±60000 ms"), std::string::npos) << Msg(r);
  }
  EXPECT_EQ(g.guard.rejected("ExpertService", "unauthenticated"), 2u);
}

TEST(CallGuard, TamperedBodyMethodSignatureOrGrantIsUnauthenticated) {
  Guard g;
  const auto req = Backward();
  const std::string grant = GrantFor(Trainer(), static_cast<uint32_t>(Role::kTrainer));
  // Body changed after signing.
  auto other = req;
  other.set_expert_id(4);
  auto body = g.guard.CheckCredentials(Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, grant),
                                       "ExpertService.Backward", other);
  EXPECT_NE(Msg(body).find("does not match its signed hash"), std::string::npos) << Msg(body);
  // Signed for Forward, sent to Backward.
  auto method = g.guard.CheckCredentials(Sign(Trainer(), "/swarm.v1.ExpertService/Forward", req, grant),
                                         "ExpertService.Backward", req);
  EXPECT_NE(Msg(method).find("signed for method '/swarm.v1.ExpertService/Forward'"), std::string::npos) << Msg(method);
  // Signature bit flipped.
  auto creds = Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, grant);
  creds.auth->signature[7] ^= 1;
  auto sig = g.guard.CheckCredentials(creds, "ExpertService.Backward", req);
  EXPECT_NE(Msg(sig).find("signature does not verify"), std::string::npos) << Msg(sig);
  // Someone else's grant swapped in.
  auto swapped = Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, grant);
  swapped.grant = GrantFor(Observer(), static_cast<uint32_t>(Role::kTrainer));
  auto grant_swap = g.guard.CheckCredentials(swapped, "ExpertService.Backward", req);
  EXPECT_NE(Msg(grant_swap).find("grant does not match"), std::string::npos) << Msg(grant_swap);
  // No header at all.
  auto none = g.guard.CheckCredentials(net::CallCredentials{}, "ExpertService.Backward", req);
  EXPECT_TRUE(absl::IsUnauthenticated(none.status()));
  EXPECT_EQ(g.guard.rejected("ExpertService", "unauthenticated"), 5u);
}

TEST(CallGuard, GrantsAndRoles) {
  Guard g;
  const auto req = Backward();
  // A valid identity with no grant.
  auto no_grant = g.guard.CheckCredentials(Sign(Observer(), "/swarm.v1.ExpertService/Backward", req, ""),
                                           "ExpertService.Backward", req);
  EXPECT_TRUE(absl::IsPermissionDenied(no_grant.status()));
  EXPECT_EQ(Msg(no_grant).rfind("not_admitted: ", 0), 0u) << Msg(no_grant);
  // A grant without the role.
  auto observer = g.guard.CheckCredentials(
      Sign(Observer(), "/swarm.v1.ExpertService/Backward", req, GrantFor(Observer(), static_cast<uint32_t>(Role::kObserver))),
      "ExpertService.Backward", req);
  EXPECT_TRUE(absl::IsPermissionDenied(observer.status()));
  EXPECT_EQ(Msg(observer), "ExpertService.Backward needs role trainer; caller " +
                               net::ShortPeerId(Observer().peer_id()) + " has observer");
  // Someone else's grant (valid, but not for the caller).
  auto stolen = g.guard.CheckCredentials(
      Sign(Observer(), "/swarm.v1.ExpertService/Backward", req, GrantFor(Trainer(), static_cast<uint32_t>(Role::kTrainer))),
      "ExpertService.Backward", req);
  EXPECT_NE(Msg(stolen).find("grant is for peer " + net::ShortPeerId(Trainer().peer_id())), std::string::npos)
      << Msg(stolen);
  // Expired.
  auto expired = g.guard.CheckCredentials(
      Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req,
           GrantFor(Trainer(), static_cast<uint32_t>(Role::kTrainer), kNow - 1)),
      "ExpertService.Backward", req);
  EXPECT_EQ(Msg(expired).rfind("expired: ", 0), 0u) << Msg(expired);
  // Excluded by a committed record.
  g.verifier->Exclude(Trainer().peer_id(), "lied about expert outputs");
  auto excluded = g.guard.CheckCredentials(
      Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, GrantFor(Trainer(), static_cast<uint32_t>(Role::kTrainer))),
      "ExpertService.Backward", req);
  EXPECT_EQ(Msg(excluded).rfind("excluded: ", 0), 0u) << Msg(excluded);
  EXPECT_EQ(g.guard.rejected("ExpertService", "not_admitted"), 2u);
  EXPECT_EQ(g.guard.rejected("ExpertService", "permission_denied"), 1u);
  EXPECT_EQ(g.guard.rejected("ExpertService", "expired"), 1u);
  EXPECT_EQ(g.guard.rejected("ExpertService", "excluded"), 1u);
}

TEST(CallGuard, StateChangingCallsAreRateLimitedPerPeer) {
  CallGuardOptions o;
  o.rate_calls_per_second = 1;
  o.rate_burst_calls = 3;
  Guard g(o);
  const auto req = Backward();
  const std::string grant = GrantFor(Trainer(), static_cast<uint32_t>(Role::kTrainer));
  int ok = 0, limited = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = g.guard.CheckCredentials(Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, grant),
                                      "ExpertService.Backward", req);
    if (r.ok()) ++ok;
    else if (Msg(r).rfind("rate_limited: ", 0) == 0 && absl::IsResourceExhausted(r.status())) ++limited;
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(limited, 2);
  // Read-only methods are not limited; a second later one more token is there.
  swarm::v1::ExpertInfoRequest info;
  EXPECT_TRUE(g.guard.CheckCredentials(Sign(Trainer(), "/swarm.v1.ExpertService/Info", info, grant),
                                       "ExpertService.Info", info)
                  .ok());
  g.now += 1000;
  EXPECT_TRUE(g.guard.CheckCredentials(Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, grant, g.now),
                                       "ExpertService.Backward", req)
                  .ok());
}

TEST(CallGuard, OversizedRequestIsRefusedBeforeAnyCrypto) {
  Guard g;
  swarm::v1::PingRequest ping;
  ping.set_payload(std::string(100 << 10, 'x'));
  auto r = g.guard.CheckCredentials(net::CallCredentials{}, "Node.Ping", ping);
  EXPECT_TRUE(absl::IsResourceExhausted(r.status()));
  EXPECT_EQ(Msg(r).rfind("oversized: Node.Ping request is", 0), 0u) << Msg(r);
  EXPECT_EQ(g.guard.rejected("Node", "oversized"), 1u);
}

TEST(CallGuard, TlsCertificateMustBeTheOneTheHeaderNames) {
  CallGuardOptions o;
  o.tls = true;
  Guard g(o);
  const auto req = Backward();
  const std::string grant = GrantFor(Trainer(), static_cast<uint32_t>(Role::kTrainer));
  net::Digest32 mine{}, theirs{};
  mine[0] = 1;
  theirs[0] = 2;
  // Header signed for certificate `mine`, connection made with `theirs`.
  net::RequestAuth a;
  auto creds = Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, grant);
  creds.auth->tls_cert_sha256 = mine;
  ASSERT_TRUE(net::SignRequestAuth(Trainer(), *creds.auth).ok());
  creds.peer_cert_sha256 = theirs;
  auto r = g.guard.CheckCredentials(creds, "ExpertService.Backward", req);
  EXPECT_NE(Msg(r).find("TLS certificate of the connection is not the one the header names"), std::string::npos)
      << Msg(r);
  creds.peer_cert_sha256 = mine;
  EXPECT_TRUE(g.guard.CheckCredentials(creds, "ExpertService.Backward", req).ok());
  // TLS on and a header that names no certificate.
  auto bare = Sign(Trainer(), "/swarm.v1.ExpertService/Backward", req, grant);
  EXPECT_NE(Msg(g.guard.CheckCredentials(bare, "ExpertService.Backward", req)).find("names no client certificate"),
            std::string::npos);
}

TEST(CallGuard, OpenModeLetsUnsignedCallsThroughButStillChecksSignedOnes) {
  CallGuardOptions o;
  o.enforce = false;
  Guard g(o);
  const auto req = Backward();
  auto unsigned_call = g.guard.CheckCredentials(net::CallCredentials{}, "ExpertService.Backward", req);
  ASSERT_TRUE(unsigned_call.ok());
  EXPECT_FALSE(unsigned_call->authenticated);
  auto creds = Sign(Observer(), "/swarm.v1.ExpertService/Backward", req, "");
  EXPECT_TRUE(g.guard.CheckCredentials(creds, "ExpertService.Backward", req).ok());
  EXPECT_FALSE(g.guard.CheckCredentials(creds, "ExpertService.Backward", req).ok());  // replayed
}

TEST(AccessTable, EveryServiceMethodHasExactlyOneRule) {
  const std::vector<std::string> methods = {
      "Node.Ping", "Node.Info", "Transport.Deliver", "ExpertService.Forward", "ExpertService.Backward",
      "ExpertService.GetParameters", "ExpertService.Info", "Pbft.Deliver", "Pbft.Identify", "Pbft.Submit",
      "Pbft.LedgerHead", "Pbft.LedgerRecords", "Jobs.SubmitJob", "Jobs.JobStatus", "Jobs.RunTask",
      "EvoEvaluator.Register", "EvoEvaluator.Evaluate", "EvoEvaluator.IslandStep"};
  EXPECT_EQ(AccessTable().size(), methods.size());
  for (const auto& m : methods) {
    ASSERT_NE(FindAccessRule(m), nullptr) << m;
    EXPECT_NE(FindAccessRule(m)->roles, 0u) << m;
  }
  // Info and LedgerHead never to an unadmitted peer: no rule admits "no role".
  EXPECT_FALSE(admission::HasRole(FindAccessRule("ExpertService.Backward")->roles, Role::kObserver));
}

}  // namespace
}  // namespace swarm::node
