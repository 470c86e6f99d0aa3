// Per-call cost of RPC authentication (docs/security.md "RPC authentication"):
// the same unary Ping over loopback, unauthenticated vs signed header + guard
// (signature check, grant, role, replay window) + signed reply, in the same run.
#include <chrono>
#include <vector>

#include "admission/grant.h"
#include "bench_util.h"
#include "net/dial.h"
#include "net/rpc.h"
#include "net/server_auth.h"
#include "node/call_guard.h"
#include "swarm/v1/node.grpc.pb.h"

namespace {

using namespace swarm;

class GuardedPing final : public swarm::v1::Node::Service, public net::GuardedService {
 public:
  grpc::Status Ping(grpc::ServerContext* ctx, const swarm::v1::PingRequest* req,
                    swarm::v1::PingReply* reply) override {
    SWARM_GUARD(caller, guard_, ctx, "Node.Ping", *req);
    reply->set_payload(req->payload());
    return grpc::Status::OK;
  }
};

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Median µs per call over `rounds` rounds of `calls` sequential calls.
double MicrosPerCall(const std::shared_ptr<grpc::Channel>& ch, int calls) {
  auto stub = swarm::v1::Node::NewStub(ch);
  swarm::v1::PingRequest req;
  req.set_payload("12345678");
  std::vector<double> us;
  for (int i = 0; i < calls + 50; ++i) {
    swarm::v1::PingReply reply;
    grpc::ClientContext ctx;
    const auto t0 = std::chrono::steady_clock::now();
    const grpc::Status s = stub->Ping(&ctx, req, &reply);
    if (!s.ok()) {
      std::fprintf(stderr, "Ping failed: %s\n", net::GrpcStatusText(s).c_str());
      std::exit(1);
    }
    if (i >= 50) us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  return bench::Percentile(us, 50);
}

}  // namespace

int main() {
  net::RouteGrpcLogsToSpdlog();
  const std::string cmd = "build/bench/net/bench_net_auth";
  auto issuer = *crypto::Identity::Generate();
  auto server_id = std::make_shared<const crypto::Identity>(*crypto::Identity::Generate());
  auto client_id = std::make_shared<const crypto::Identity>(*crypto::Identity::Generate());
  admission::Grant g;
  g.swarm_id = "bench";
  g.subject_scheme = client_id->scheme();
  g.subject_public_key = client_id->public_key();
  g.subject = client_id->peer_id();
  g.roles = static_cast<admission::RoleSet>(admission::Role::kObserver);
  g.operator_name = "test";
  g.not_before_unix_ms = NowMs() - 60'000;
  g.expires_unix_ms = NowMs() + 3'600'000;
  const Bytes grant = admission::EncodeSignedGrant(*admission::IssueGrant(issuer, g));
  auto verifier = std::make_shared<admission::GrantVerifier>(
      "bench", std::vector<admission::IssuerKey>{admission::IssuerKeyOf(issuer)});

  // Enforcing guard for signed calls; an open guard (unsigned calls pass
  // without any check) for the anchor, on the same kind of server.
  node::CallGuardOptions enforce;
  enforce.rate_calls_per_second = 1e9;
  node::CallGuard strict(enforce, [verifier](ByteSpan b, uint64_t t) { return verifier->Verify(b, t); }, nullptr);
  node::CallGuardOptions open;
  open.enforce = false;
  node::CallGuard lax(open, {}, nullptr);

  GuardedPing signed_svc, plain_svc;
  signed_svc.set_guard(&strict);
  plain_svc.set_guard(&lax);
  auto signed_server = net::RpcServer::Start("127.0.0.1:0", net::NetOptions{}, {&signed_svc}, server_id);
  auto plain_server = net::RpcServer::Start("127.0.0.1:0", net::NetOptions{}, {&plain_svc});
  SWARM_ASSERT(signed_server.ok() && plain_server.ok());

  net::DialOptions unsigned_opts;
  net::DialOptions signed_opts;
  signed_opts.identity = client_id;
  signed_opts.grant = grant;
  net::DialOptions checked_opts = signed_opts;
  checked_opts.expected_peer = server_id->peer_id();
  auto plain = *net::Dial(absl::StrCat("127.0.0.1:", (*plain_server)->port()), unsigned_opts);
  auto sig = *net::Dial(absl::StrCat("127.0.0.1:", (*signed_server)->port()), signed_opts);
  auto checked = *net::Dial(absl::StrCat("127.0.0.1:", (*signed_server)->port()), checked_opts);

  // Interleave the three so both sides of each ratio see the same machine load.
  std::vector<double> a, b, c;
  for (int r = 0; r < 5; ++r) {
    a.push_back(MicrosPerCall(plain, 200));
    b.push_back(MicrosPerCall(sig, 200));
    c.push_back(MicrosPerCall(checked, 200));
  }
  const double plain_us = bench::Percentile(a, 50), signed_us = bench::Percentile(b, 50),
               checked_us = bench::Percentile(c, 50);
  SWARM_ASSERT(strict.rejected_total() == 0);
  const std::string section = "net (gRPC on loopback)";
  bench::Emit({.section = section,
               .figure = "authenticated unary Ping p50 (signed header, guard, signed reply)",
               .value = signed_us, .unit = "µs", .anchor = "unauthenticated unary Ping p50",
               .anchor_value = plain_us,
               .note = absl::StrCat("ML-DSA-65: client signs, server verifies (prepared key) + checks grant/role/"
                                    "nonce + signs the reply; +", static_cast<int>(signed_us - plain_us),
                                    " µs per call; median of 5 interleaved rounds of 200 calls"),
               .command = cmd});
  bench::Emit({.section = section,
               .figure = "authenticated unary Ping p50, reply checked against the expected peer",
               .value = checked_us, .unit = "µs", .anchor = "unauthenticated unary Ping p50",
               .anchor_value = plain_us,
               .note = absl::StrCat("as above plus the client's reply-signature verification; +",
                                    static_cast<int>(checked_us - plain_us), " µs per call"),
               .command = cmd});
  (*signed_server)->Shutdown(Seconds(1));
  (*plain_server)->Shutdown(Seconds(1));
  return 0;
}
