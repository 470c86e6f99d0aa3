// The trust boundary over loopback (docs/security.md "RPC authentication"):
// a real Node with admission configured hosts every service; a peer with a
// fresh, valid identity and no grant calls every method of every service and
// is refused each time (counted in /metrics) while an admitted trainer's view
// of the experts' parameters does not change; a captured valid call replayed
// later is refused as `replayed`; with mTLS, a connection whose certificate is
// not the one the signed header names is refused.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <openssl/rand.h>

#include "admission/grant.h"
#include "crypto/hash.h"
#include "net/dial.h"
#include "net/message_hash.h"
#include "nn/expert_host.h"
#include "nn/expert_service.h"
#include "node/consensus/service.h"
#include "node/evo/service.h"
#include "node/jobs/service.h"
#include "node/node.h"
#include "swarm/v1/consensus.grpc.pb.h"
#include "swarm/v1/evo.grpc.pb.h"
#include "swarm/v1/expert.grpc.pb.h"
#include "swarm/v1/jobs.grpc.pb.h"
#include "swarm/v1/node.grpc.pb.h"
#include "swarm/v1/transport.grpc.pb.h"

namespace swarm::node {
namespace {

using admission::Role;
using admission::RoleSet;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string TempDir(const std::string& tag) {
  std::string t = (std::filesystem::temp_directory_path() / ("swarm-" + tag + "-XXXXXX")).string();
  SWARM_ASSERT(mkdtemp(t.data()) != nullptr);
  return t;
}

std::shared_ptr<crypto::Identity> NewId() {
  return std::make_shared<crypto::Identity>(*crypto::Identity::Generate());
}

Bytes GrantFor(const crypto::Identity& issuer, const crypto::Identity& who, RoleSet roles) {
  admission::Grant g;
  g.swarm_id = "auth-e2e";
  g.subject_scheme = who.scheme();
  g.subject_public_key = who.public_key();
  g.subject = who.peer_id();
  g.roles = roles;
  g.operator_name = "test";
  g.not_before_unix_ms = NowMs() - 60'000;
  g.expires_unix_ms = NowMs() + 3'600'000;
  return admission::EncodeSignedGrant(*admission::IssueGrant(issuer, g));
}

RoleSet Roles(std::initializer_list<Role> rs) {
  RoleSet s = 0;
  for (Role r : rs) s |= static_cast<RoleSet>(r);
  return s;
}

// rejected[(service, reason)] from /metrics.
std::map<std::pair<std::string, std::string>, double> Rejected(const std::string& http) {
  httplib::Client c("http://" + http);
  auto res = c.Get("/metrics");
  std::map<std::pair<std::string, std::string>, double> out;
  if (!res || res->status != 200) return out;
  std::istringstream in(res->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("swarm_rejected_calls_total{", 0) != 0) continue;
    auto label = [&](const std::string& k) {
      const auto p = line.find(k + "=\"");
      if (p == std::string::npos) return std::string();
      const auto s = p + k.size() + 2;
      return line.substr(s, line.find('"', s) - s);
    };
    out[{label("service"), label("reason")}] += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

// One peer hosting every service, admission enforced.
struct Host {
  std::string dir = TempDir("auth-e2e");
  std::shared_ptr<crypto::Identity> issuer = NewId();
  std::unique_ptr<nn::ExpertHost> experts;
  std::unique_ptr<nn::ExpertServiceImpl> expert_service;
  std::unique_ptr<PbftServiceImpl> pbft;
  std::unique_ptr<JobsService> jobs;
  std::unique_ptr<EvoEvaluatorService> evo;
  std::unique_ptr<Node> node;
  crypto::PeerIdBytes peer{};

  explicit Host(const net::TlsOptions& tls = {}) {
    auto self = *crypto::Identity::Generate();
    peer = self.peer_id();
    SWARM_ASSERT(self.Save(dir + "/node.key", false).ok());
    SWARM_ASSERT(admission::SaveIssuerKey(dir + "/issuer.pub", admission::IssuerKeyOf(*issuer)).ok());
    const Bytes own = GrantFor(*issuer, self, Roles({Role::kExpertHost, Role::kCommittee, Role::kEvaluator,
                                                     Role::kJobsWorker, Role::kQueen}));
    SWARM_ASSERT(admission::SaveGrant(dir + "/node.grant", *admission::DecodeSignedGrant(own)).ok());
    NodeConfig c;
    c.id = "host";
    c.grpc_listen = "127.0.0.1:0";
    c.http_listen = "127.0.0.1:0";
    c.data_dir = dir;
    c.membership = false;
    c.shutdown_drain = Millis(200);
    c.net.tls = tls;
    c.admission.swarm_id = "auth-e2e";
    c.admission.issuer_key_files = {dir + "/issuer.pub"};
    c.admission.grant_file = dir + "/node.grant";
    node = std::make_unique<Node>(c);
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
    for (grpc::Service* s : std::vector<grpc::Service*>{expert_service.get(), pbft.get(), jobs.get(), evo.get()}) {
      node->AddService(s);
    }
    const Status st = node->Start();
    SWARM_ASSERT(st.ok());
  }
  ~Host() {
    node->Shutdown();
    std::filesystem::remove_all(dir);
  }
  std::string address() const { return node->grpc_address(); }
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

// SHA3 of expert 0's parameters as an admitted trainer sees them.
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

// Every method of every service, called with `ch`; returns the statuses by method.
std::map<std::string, grpc::Status> CallEverything(const std::shared_ptr<grpc::Channel>& ch) {
  std::map<std::string, grpc::Status> out;
  auto node = swarm::v1::Node::NewStub(ch);
  auto transport = swarm::v1::Transport::NewStub(ch);
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
  out["Node.Ping"] = Call(node.get(), &swarm::v1::Node::Stub::Ping, swarm::v1::PingRequest());
  out["Node.Info"] = Call(node.get(), &swarm::v1::Node::Stub::Info, swarm::v1::InfoRequest());
  out["Transport.Deliver"] = Call(transport.get(), &swarm::v1::Transport::Stub::Deliver, swarm::v1::DeliverRequest());
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

TEST(AuthE2E, UnadmittedPeerIsRefusedEverywhereAndChangesNothing) {
  Host host;
  // An admitted trainer that checks every reply is signed by the host.
  auto trainer = NewId();
  net::DialOptions t;
  t.identity = trainer;
  t.grant = GrantFor(*host.issuer, *trainer, Roles({Role::kTrainer}));
  t.expected_peer = host.peer;
  auto trainer_ch = *net::Dial(host.address(), t);
  uint64_t steps_before = 0, steps_after = 0;
  const std::string before = ParamsChecksum(trainer_ch, &steps_before);

  // A rogue: a valid identity, never admitted.
  auto rogue = NewId();
  net::DialOptions r;
  r.identity = rogue;
  const auto signed_rogue = CallEverything(*net::Dial(host.address(), r));
  EXPECT_EQ(signed_rogue.size(), AccessTable().size());
  for (const auto& [method, s] : signed_rogue) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << method << ": " << s.error_message();
    EXPECT_EQ(s.error_message().rfind("not_admitted: " + method, 0), 0u) << method << ": " << s.error_message();
  }
  // The same rogue with a grant it stole from the trainer (not its key).
  r.grant = t.grant;
  for (const auto& [method, s] : CallEverything(*net::Dial(host.address(), r))) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << method;
    EXPECT_NE(s.error_message().find("grant is for peer"), std::string::npos) << method << ": " << s.error_message();
  }
  // And with no identity at all.
  for (const auto& [method, s] : CallEverything(*net::Dial(host.address(), net::DialOptions{}))) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method << ": " << s.error_message();
  }

  const std::string after = ParamsChecksum(trainer_ch, &steps_after);
  EXPECT_EQ(before, after);
  EXPECT_EQ(steps_before, steps_after);
  const auto counted = Rejected(host.node->http_address());
  double not_admitted = 0, unauthenticated = 0;
  for (const auto& [k, v] : counted) {
    if (k.second == "not_admitted") not_admitted += v;
    if (k.second == "unauthenticated") unauthenticated += v;
  }
  const double n = static_cast<double>(AccessTable().size());
  EXPECT_EQ(not_admitted, 2 * n);
  EXPECT_EQ(unauthenticated, n);
  EXPECT_EQ(counted.at({"ExpertService", "not_admitted"}), 8.0);  // 4 methods x 2 rogues
  EXPECT_EQ(host.node->call_guard().rejected_total(), 3 * AccessTable().size());
}

TEST(AuthE2E, CapturedCallReplayedLaterIsRefused) {
  Host host;
  auto observer = NewId();
  const Bytes grant = GrantFor(*host.issuer, *observer, Roles({Role::kObserver}));
  // What a wire tap sees of one valid Node.Info call: its metadata and body.
  swarm::v1::InfoRequest req;
  net::RequestAuth a;
  a.method = "/swarm.v1.Node/Info";
  a.body_sha3 = net::MessageSha3(req);
  a.unix_ms = NowMs();
  RAND_bytes(a.nonce.data(), static_cast<int>(a.nonce.size()));
  a.grant_sha3 = crypto::Sha3_256(grant);
  ASSERT_TRUE(net::SignRequestAuth(*observer, a).ok());
  const Bytes header = net::EncodeRequestAuth(a);
  auto ch = *net::Dial(host.address(), net::DialOptions{});
  auto stub = swarm::v1::Node::NewStub(ch);
  auto send = [&] {
    grpc::ClientContext ctx;
    ctx.AddMetadata(net::kAuthMetadataKey, std::string(header.begin(), header.end()));
    ctx.AddMetadata(net::kGrantMetadataKey, std::string(grant.begin(), grant.end()));
    return Call(stub.get(), &swarm::v1::Node::Stub::Info, req, &ctx);
  };
  const grpc::Status first = send();
  EXPECT_TRUE(first.ok()) << first.error_message();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const grpc::Status replay = send();
  EXPECT_EQ(replay.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(replay.error_message().rfind("replayed: Node.Info", 0), 0u) << replay.error_message();
  EXPECT_EQ(Rejected(host.node->http_address())[{"Node", "replayed"}], 1.0);
}

// A CA, a server certificate for 127.0.0.1 and two client certificates, by the openssl CLI.
struct Pki {
  std::string dir = TempDir("auth-pki");
  bool ok = false;
  Pki() {
    const std::string d = dir;
    const std::string cmd =
        "cd " + d + " && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
        "-days 2 -subj /CN=swarm-test-ca >/dev/null 2>&1 && "
        "for n in server a b; do "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.csr -subj /CN=$n "
        ">/dev/null 2>&1 && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > $n.ext && "
        "openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 2 "
        "-extfile $n.ext >/dev/null 2>&1 || exit 1; done";
    ok = std::system(cmd.c_str()) == 0;
  }
  ~Pki() { std::filesystem::remove_all(dir); }
  net::TlsOptions For(const std::string& who) const {
    net::TlsOptions t;
    t.enabled = true;
    t.cert_file = dir + "/" + who + ".pem";
    t.key_file = dir + "/" + who + ".key";
    t.ca_file = dir + "/ca.pem";
    return t;
  }
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AuthE2E, TlsConnectionWhoseCertificateIsNotTheSignedOneIsRefused) {
  Pki pki;
  ASSERT_TRUE(pki.ok) << "openssl could not make the test certificates in " << pki.dir;
  Host host(pki.For("server"));
  auto observer = NewId();
  const Bytes grant = GrantFor(*host.issuer, *observer, Roles({Role::kObserver}));
  // Honest: the dialer signs the header over its own certificate (a).
  net::DialOptions honest;
  honest.net.tls = pki.For("a");
  honest.identity = observer;
  honest.grant = grant;
  honest.expected_peer = host.peer;
  auto ok_ch = net::Dial(host.address(), honest);
  ASSERT_TRUE(ok_ch.ok()) << ok_ch.status();
  auto ok_stub = swarm::v1::Node::NewStub(*ok_ch);
  const grpc::Status good = Call(ok_stub.get(), &swarm::v1::Node::Stub::Info, swarm::v1::InfoRequest());
  EXPECT_TRUE(good.ok()) << good.error_message();

  // Mismatch: a header that names certificate b, sent over a connection made with a.
  swarm::v1::InfoRequest req;
  net::RequestAuth a;
  a.method = "/swarm.v1.Node/Info";
  a.body_sha3 = net::MessageSha3(req);
  a.unix_ms = NowMs();
  RAND_bytes(a.nonce.data(), static_cast<int>(a.nonce.size()));
  a.grant_sha3 = crypto::Sha3_256(grant);
  a.tls_cert_sha256 = *net::CertificateSha256(ReadAll(pki.dir + "/b.pem"));
  ASSERT_TRUE(net::SignRequestAuth(*observer, a).ok());
  const Bytes header = net::EncodeRequestAuth(a);
  net::DialOptions raw;
  raw.net.tls = pki.For("a");
  auto stub = swarm::v1::Node::NewStub(*net::Dial(host.address(), raw));
  grpc::ClientContext ctx;
  ctx.AddMetadata(net::kAuthMetadataKey, std::string(header.begin(), header.end()));
  ctx.AddMetadata(net::kGrantMetadataKey, std::string(grant.begin(), grant.end()));
  const grpc::Status bad = Call(stub.get(), &swarm::v1::Node::Stub::Info, req, &ctx);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(bad.error_message().find("TLS certificate of the connection is not the one the header names"),
            std::string::npos)
      << bad.error_message();
}

}  // namespace
}  // namespace swarm::node
