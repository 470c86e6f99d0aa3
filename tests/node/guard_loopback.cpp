// The call guard in front of the real service implementations over loopback
// gRPC, without a Node (the Node-level test is auth_e2e.cpp): every method of
// ExpertService, Pbft, Jobs and EvoEvaluator refuses a peer with a fresh valid
// identity and no grant (counted by reason), the experts' parameters as an
// admitted trainer reads them do not change, a captured call replayed later is
// refused `replayed`, and with mTLS a connection whose certificate is not the
// one the signed header names is refused.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/rand.h>

#include "admission/grant.h"
#include "crypto/hash.h"
#include "net/dial.h"
#include "net/message_hash.h"
#include "net/rpc.h"
#include "nn/expert_host.h"
#include "nn/expert_service.h"
#include "node/call_guard.h"
#include "node/consensus/service.h"
#include "node/evo/service.h"
#include "node/jobs/service.h"
#include "swarm/v1/consensus.grpc.pb.h"
#include "swarm/v1/evo.grpc.pb.h"
#include "swarm/v1/expert.grpc.pb.h"
#include "swarm/v1/jobs.grpc.pb.h"

namespace swarm::node {
namespace {

using admission::Role;
using admission::RoleSet;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::shared_ptr<crypto::Identity> NewId() { return std::make_shared<crypto::Identity>(*crypto::Identity::Generate()); }

Bytes GrantFor(const crypto::Identity& issuer, const crypto::Identity& who, RoleSet roles) {
  admission::Grant g;
  g.swarm_id = "loopback";
  g.subject_scheme = who.scheme();
  g.subject_public_key = who.public_key();
  g.subject = who.peer_id();
  g.roles = roles;
  g.operator_name = "test";
  g.not_before_unix_ms = NowMs() - 60'000;
  g.expires_unix_ms = NowMs() + 3'600'000;
  return admission::EncodeSignedGrant(*admission::IssueGrant(issuer, g));
}

struct Server {
  std::shared_ptr<crypto::Identity> issuer = NewId();
  std::shared_ptr<const crypto::Identity> self = NewId();
  std::shared_ptr<admission::GrantVerifier> verifier = std::make_shared<admission::GrantVerifier>(
      "loopback", std::vector<admission::IssuerKey>{admission::IssuerKeyOf(*issuer)});
  std::unique_ptr<CallGuard> guard;
  std::unique_ptr<nn::ExpertHost> experts;
  std::unique_ptr<nn::ExpertServiceImpl> expert_service;
  std::unique_ptr<PbftServiceImpl> pbft;
  std::unique_ptr<JobsService> jobs;
  std::unique_ptr<EvoEvaluatorService> evo;
  std::unique_ptr<net::RpcServer> rpc;

  explicit Server(const net::TlsOptions& tls = {}) {
    CallGuardOptions o;
    o.tls = tls.enabled;
    guard = std::make_unique<CallGuard>(o, [v = verifier](ByteSpan b, uint64_t t) { return v->Verify(b, t); },
                                        nullptr);
    nn::ExpertHostConfig ec;
    ec.d_model = 8;
    ec.hidden = 8;
    experts = std::make_unique<nn::ExpertHost>(ec, [](uint32_t) { return true; });
    SWARM_ASSERT(experts->Host(0).ok());
    expert_service = std::make_unique<nn::ExpertServiceImpl>(experts.get());
    pbft = std::make_unique<PbftServiceImpl>([] { return std::shared_ptr<ConsensusCore>(); });
    JobsConfig jc;
    jc.queen = jc.worker = true;
    jobs = std::make_unique<JobsService>(jc);
    EvoServiceConfig evc;
    evc.evaluator_id = "e";
    evo = std::move(*EvoEvaluatorService::Create(evc));
    std::vector<grpc::Service*> services = {expert_service.get(), pbft.get(), jobs.get(), evo.get()};
    for (grpc::Service* s : services) dynamic_cast<net::GuardedService*>(s)->set_guard(guard.get());
    net::NetOptions net;
    net.tls = tls;
    auto started = net::RpcServer::Start("127.0.0.1:0", net, services, self);
    SWARM_ASSERT(started.ok());
    rpc = std::move(*started);
  }
  ~Server() { rpc->Shutdown(Seconds(1)); }
  std::string address() const { return absl::StrCat("127.0.0.1:", rpc->port()); }
};

template <typename Stub, typename Req, typename Reply>
grpc::Status Call(Stub* stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Reply*),
                  const Req& req, grpc::ClientContext* ctx = nullptr) {
  grpc::ClientContext local;
  if (ctx == nullptr) ctx = &local;
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  Reply reply;
  return (stub->*method)(ctx, req, &reply);
}

std::string ParamsChecksum(const std::shared_ptr<grpc::Channel>& ch, uint64_t* steps) {
  auto stub = swarm::v1::ExpertService::NewStub(ch);
  swarm::v1::ExpertParametersRequest req;
  req.set_expert_id(0);
  swarm::v1::ExpertParametersReply reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Status s = stub->GetParameters(&ctx, req, &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  *steps = reply.steps_applied();
  return ToHex(crypto::Sha3_256(AsBytes(reply.params())));
}

std::map<std::string, grpc::Status> CallEverything(const std::shared_ptr<grpc::Channel>& ch) {
  std::map<std::string, grpc::Status> out;
  auto experts = swarm::v1::ExpertService::NewStub(ch);
  auto pbft = swarm::v1::Pbft::NewStub(ch);
  auto jobs = swarm::v1::Jobs::NewStub(ch);
  auto evo = swarm::v1::EvoEvaluator::NewStub(ch);
  swarm::v1::ExpertBackwardRequest backward;
  backward.set_expert_id(0);
  backward.set_x(std::string(64, '\x01'));
  backward.set_grad_y(std::string(64, '\x7f'));
  swarm::v1::ExpertForwardRequest forward;
  forward.set_expert_id(0);
  swarm::v1::ExpertParametersRequest params;
  params.set_expert_id(0);
  out["ExpertService.Forward"] = Call(experts.get(), &swarm::v1::ExpertService::Stub::Forward, forward);
  out["ExpertService.Backward"] = Call(experts.get(), &swarm::v1::ExpertService::Stub::Backward, backward);
  out["ExpertService.GetParameters"] = Call(experts.get(), &swarm::v1::ExpertService::Stub::GetParameters, params);
  out["ExpertService.Info"] = Call(experts.get(), &swarm::v1::ExpertService::Stub::Info, swarm::v1::ExpertInfoRequest());
  out["Pbft.Deliver"] = Call(pbft.get(), &swarm::v1::Pbft::Stub::Deliver, swarm::v1::PbftBatch());
  out["Pbft.Identify"] = Call(pbft.get(), &swarm::v1::Pbft::Stub::Identify, swarm::v1::PbftIdentifyRequest());
  out["Pbft.Submit"] = Call(pbft.get(), &swarm::v1::Pbft::Stub::Submit, swarm::v1::LedgerSubmitRequest());
  out["Pbft.LedgerHead"] = Call(pbft.get(), &swarm::v1::Pbft::Stub::LedgerHead, swarm::v1::LedgerHeadRequest());
  out["Pbft.LedgerRecords"] = Call(pbft.get(), &swarm::v1::Pbft::Stub::LedgerRecords, swarm::v1::LedgerRecordsRequest());
  out["Jobs.SubmitJob"] = Call(jobs.get(), &swarm::v1::Jobs::Stub::SubmitJob, swarm::v1::SubmitJobRequest());
  out["Jobs.JobStatus"] = Call(jobs.get(), &swarm::v1::Jobs::Stub::JobStatus, swarm::v1::JobStatusRequest());
  out["Jobs.RunTask"] = Call(jobs.get(), &swarm::v1::Jobs::Stub::RunTask, swarm::v1::RunTaskRequest());
  out["EvoEvaluator.Register"] = Call(evo.get(), &swarm::v1::EvoEvaluator::Stub::Register, swarm::v1::EvoRegisterRequest());
  out["EvoEvaluator.Evaluate"] = Call(evo.get(), &swarm::v1::EvoEvaluator::Stub::Evaluate, swarm::v1::EvoEvaluateRequest());
  out["EvoEvaluator.IslandStep"] =
      Call(evo.get(), &swarm::v1::EvoEvaluator::Stub::IslandStep, swarm::v1::EvoIslandStepRequest());
  return out;
}

TEST(GuardLoopback, UnadmittedPeerIsRefusedOnEveryMethodAndChangesNothing) {
  Server server;
  auto trainer = NewId();
  net::DialOptions t;
  t.identity = trainer;
  t.grant = GrantFor(*server.issuer, *trainer, static_cast<RoleSet>(Role::kTrainer));
  t.expected_peer = server.self->peer_id();  // replies must be signed by the server
  auto trainer_ch = *net::Dial(server.address(), t);
  uint64_t steps_before = 0, steps_after = 0;
  const std::string before = ParamsChecksum(trainer_ch, &steps_before);

  auto rogue = NewId();
  net::DialOptions r;
  r.identity = rogue;
  const auto refused = CallEverything(*net::Dial(server.address(), r));
  EXPECT_EQ(refused.size(), 15u);
  for (const auto& [method, s] : refused) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << method << ": " << s.error_message();
    EXPECT_EQ(s.error_message().rfind("not_admitted: " + method, 0), 0u) << method << ": " << s.error_message();
  }
  for (const auto& [method, s] : CallEverything(*net::Dial(server.address(), net::DialOptions{}))) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method << ": " << s.error_message();
  }
  EXPECT_EQ(ParamsChecksum(trainer_ch, &steps_after), before);
  EXPECT_EQ(steps_after, steps_before);
  EXPECT_EQ(server.guard->rejected("ExpertService", "not_admitted"), 4u);
  EXPECT_EQ(server.guard->rejected("Pbft", "not_admitted"), 5u);
  EXPECT_EQ(server.guard->rejected("Jobs", "not_admitted"), 3u);
  EXPECT_EQ(server.guard->rejected("EvoEvaluator", "not_admitted"), 3u);
  EXPECT_EQ(server.guard->rejected_total(), 30u);
}

TEST(GuardLoopback, CapturedCallReplayedLaterIsRefused) {
  Server server;
  auto observer = NewId();
  const Bytes grant = GrantFor(*server.issuer, *observer, static_cast<RoleSet>(Role::kObserver));
  swarm::v1::ExpertInfoRequest req;
  net::RequestAuth a;
  a.method = "/swarm.v1.ExpertService/Info";
  a.body_sha3 = net::MessageSha3(req);
  a.unix_ms = NowMs();
  RAND_bytes(a.nonce.data(), static_cast<int>(a.nonce.size()));
  a.grant_sha3 = crypto::Sha3_256(grant);
  ASSERT_TRUE(net::SignRequestAuth(*observer, a).ok());
  const Bytes header = net::EncodeRequestAuth(a);
  auto stub = swarm::v1::ExpertService::NewStub(*net::Dial(server.address(), net::DialOptions{}));
  auto send = [&] {
    grpc::ClientContext ctx;
    ctx.AddMetadata(net::kAuthMetadataKey, std::string(header.begin(), header.end()));
    ctx.AddMetadata(net::kGrantMetadataKey, std::string(grant.begin(), grant.end()));
    return Call(stub.get(), &swarm::v1::ExpertService::Stub::Info, req, &ctx);
  };
  const grpc::Status first = send();
  EXPECT_TRUE(first.ok()) << first.error_message();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const grpc::Status replay = send();
  EXPECT_EQ(replay.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(replay.error_message().rfind("replayed: ExpertService.Info", 0), 0u) << replay.error_message();
  EXPECT_EQ(server.guard->rejected("ExpertService", "replayed"), 1u);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(GuardLoopback, TlsConnectionWhoseCertificateIsNotTheSignedOneIsRefused) {
  std::string dir = (std::filesystem::temp_directory_path() / "swarm-pki-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string cmd =
      "cd " + dir + " && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
      "-days 2 -subj /CN=swarm-test-ca >/dev/null 2>&1 && "
      "for n in server a b; do "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.csr -subj /CN=$n "
      ">/dev/null 2>&1 && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > $n.ext && "
      "openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 2 "
      "-extfile $n.ext >/dev/null 2>&1 || exit 1; done";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make test certificates in " << dir;
  auto tls = [&](const std::string& who) {
    net::TlsOptions t;
    t.enabled = true;
    t.cert_file = dir + "/" + who + ".pem";
    t.key_file = dir + "/" + who + ".key";
    t.ca_file = dir + "/ca.pem";
    return t;
  };
  {
    Server server(tls("server"));
    auto observer = NewId();
    const Bytes grant = GrantFor(*server.issuer, *observer, static_cast<RoleSet>(Role::kObserver));
    // Honest: the dialer's header names its own certificate (a).
    net::DialOptions honest;
    honest.net.tls = tls("a");
    honest.identity = observer;
    honest.grant = grant;
    honest.expected_peer = server.self->peer_id();
    auto ok_stub = swarm::v1::ExpertService::NewStub(*net::Dial(server.address(), honest));
    const grpc::Status good = Call(ok_stub.get(), &swarm::v1::ExpertService::Stub::Info, swarm::v1::ExpertInfoRequest());
    EXPECT_TRUE(good.ok()) << good.error_message();
    // A header naming certificate b, sent over a connection made with a.
    swarm::v1::ExpertInfoRequest req;
    net::RequestAuth a;
    a.method = "/swarm.v1.ExpertService/Info";
    a.body_sha3 = net::MessageSha3(req);
    a.unix_ms = NowMs();
    RAND_bytes(a.nonce.data(), static_cast<int>(a.nonce.size()));
    a.grant_sha3 = crypto::Sha3_256(grant);
    a.tls_cert_sha256 = *net::CertificateSha256(ReadAll(dir + "/b.pem"));
    ASSERT_TRUE(net::SignRequestAuth(*observer, a).ok());
    const Bytes header = net::EncodeRequestAuth(a);
    net::DialOptions raw;
    raw.net.tls = tls("a");
    auto stub = swarm::v1::ExpertService::NewStub(*net::Dial(server.address(), raw));
    grpc::ClientContext ctx;
    ctx.AddMetadata(net::kAuthMetadataKey, std::string(header.begin(), header.end()));
    ctx.AddMetadata(net::kGrantMetadataKey, std::string(grant.begin(), grant.end()));
    const grpc::Status bad = Call(stub.get(), &swarm::v1::ExpertService::Stub::Info, req, &ctx);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(bad.error_message().find("TLS certificate of the connection is not the one the header names"),
              std::string::npos)
        << bad.error_message();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace swarm::node
