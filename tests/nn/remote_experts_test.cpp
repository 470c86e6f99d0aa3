// Remote experts over real gRPC on loopback: hosts (ExpertHost +
// ExpertServiceImpl) in this process, clients from MakeGrpcExpertClient.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <filesystem>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "common/rng.h"
#include "nn/expert_drive.h"
#include "nn/expert_host.h"
#include "nn/expert_service.h"
#include "nn/moe_layer.h"
#include "nn/remote_experts.h"
#include "train/expert_round.h"

namespace swarm::nn {
namespace {

class SingleThreaded : public ::testing::Environment {
 public:
  void SetUp() override { torch::set_num_threads(1); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new SingleThreaded);

ExpertHostConfig SmallConfig() {
  ExpertHostConfig c;
  c.d_model = 4;
  c.hidden = 8;
  c.lr = 0.01;
  c.seed = 7;
  return c;
}

// One hosting "peer": host + service + gRPC server on 127.0.0.1:<free>.
struct Peer {
  explicit Peer(ExpertHostConfig c = SmallConfig(), bool host_any = true)
      : host(c, host_any ? std::function<bool(uint32_t)>([](uint32_t) { return true; }) : nullptr),
        service(&host) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&service);
    server = b.BuildAndStart();
  }
  ~Peer() { Stop(); }
  void Stop() {
    if (server) server->Shutdown(std::chrono::system_clock::now());
    server.reset();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  ExpertHost host;
  ExpertServiceImpl service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

// An address nothing listens on (a server bound then shut down).
std::string DeadAddress() {
  Peer p;
  std::string a = p.address();
  p.Stop();
  return a;
}

HostTensor Random(int64_t rows, int64_t cols, uint64_t seed) {
  Rng rng(seed);
  HostTensor t;
  t.shape = {rows, cols};
  for (int64_t i = 0; i < rows * cols; ++i) t.data.push_back(static_cast<float>(rng.Normal()));
  return t;
}

std::function<std::vector<std::string>()> Fixed(std::vector<std::string> a) {
  return [a] { return a; };
}

TEST(RemoteExperts, ReplicasStartEqualAndStayEqualUnderBackward) {
  Peer a, b;
  auto counters = std::make_shared<RemoteExpertCounters>();
  auto client = MakeGrpcExpertClient(3, Fixed({a.address(), b.address()}), {}, counters);
  const HostTensor x = Random(5, 4, 1);
  auto y = client->Forward(x);
  ASSERT_TRUE(y.ok()) << y.status();
  // The answer is the primary's computation.
  auto direct = a.host.Forward(3, x);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(y->data, direct->data);
  for (int step = 0; step < 3; ++step) {
    auto g = client->Backward(x, Random(5, 4, 10 + step));
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(g->shape, x.shape);
  }
  int64_t sa = 0, sb = 0;
  auto pa = a.host.Parameters(3, &sa), pb = b.host.Parameters(3, &sb);
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(sa, 3);
  EXPECT_EQ(sb, 3);
  EXPECT_EQ(pa->data, pb->data);  // bit-identical replicas
  EXPECT_DOUBLE_EQ(*CosineSimilarity(*pa, *pb), 1.0);
  // Training moved them away from the initial parameters of a fresh replica.
  Peer fresh;
  ASSERT_TRUE(fresh.host.Host(3).ok());
  auto p0 = fresh.host.Parameters(3);
  EXPECT_NE(p0->data, pa->data);
  EXPECT_EQ(counters->forward_ok.load(), 1);
  EXPECT_EQ(counters->backward_ok.load(), 3);
  EXPECT_EQ(counters->failovers.load(), 0);
}

TEST(RemoteExperts, DifferentExpertsInitializeDifferently) {
  Peer a;
  ASSERT_TRUE(a.host.Host(0).ok());
  ASSERT_TRUE(a.host.Host(1).ok());
  EXPECT_NE(a.host.Parameters(0)->data, a.host.Parameters(1)->data);
}

TEST(RemoteExperts, FailsOverToReplicaWhenPrimaryIsDown) {
  Peer live;
  const std::string dead = DeadAddress();
  auto counters = std::make_shared<RemoteExpertCounters>();
  auto client = MakeGrpcExpertClient(1, Fixed({dead, live.address()}), {}, counters);
  const HostTensor x = Random(3, 4, 2);
  auto y = client->Forward(x);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(counters->failovers.load(), 1);
  EXPECT_EQ(counters->FailuresByReason()["unavailable"], 1);
  auto g = client->Backward(x, Random(3, 4, 3));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(live.host.Experts().at(0).steps_applied, 1);
  EXPECT_EQ(counters->backward_failed.load(), 0);
}

TEST(RemoteExperts, NoReplicaAnsweringIsUnavailableAndCounted) {
  auto counters = std::make_shared<RemoteExpertCounters>();
  auto client = MakeGrpcExpertClient(1, Fixed({DeadAddress(), DeadAddress()}), {}, counters);
  auto y = client->Forward(Random(2, 4, 1));
  ASSERT_FALSE(y.ok());
  EXPECT_TRUE(absl::IsUnavailable(y.status())) << y.status();
  EXPECT_NE(y.status().message().find("no replica answered"), std::string::npos);
  EXPECT_EQ(counters->forward_failed.load(), 1);
  auto g = client->Backward(Random(2, 4, 1), Random(2, 4, 2));
  EXPECT_FALSE(g.ok());
  EXPECT_EQ(counters->backward_failed.load(), 1);
  auto none = MakeGrpcExpertClient(1, Fixed({}), {}, counters);
  EXPECT_FALSE(none->Forward(Random(2, 4, 1)).ok());
  EXPECT_EQ(counters->FailuresByReason()["no_owner"], 1);
}

// A host that answers too late.
class SlowService final : public swarm::v1::ExpertService::Service {
 public:
  grpc::Status Forward(grpc::ServerContext*, const swarm::v1::ExpertForwardRequest*,
                       swarm::v1::ExpertForwardReply*) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    return grpc::Status(grpc::StatusCode::INTERNAL, "too late anyway");
  }
};

TEST(RemoteExperts, LateReplicaFailsOverOnDeadline) {
  SlowService slow;
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&slow);
  auto server = b.BuildAndStart();
  Peer live;
  auto counters = std::make_shared<RemoteExpertCounters>();
  RemoteExpertOptions o;
  o.call_deadline = Millis(150);
  auto client = MakeGrpcExpertClient(
      0, Fixed({"127.0.0.1:" + std::to_string(port), live.address()}), o, counters);
  auto y = client->Forward(Random(2, 4, 5));
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(counters->FailuresByReason()["deadline"], 1);
  EXPECT_EQ(counters->failovers.load(), 1);
  server->Shutdown(std::chrono::system_clock::now());
}

TEST(RemoteExperts, HostRejectsBadTensorsWithCountedReasonAndAppliesNothing) {
  Peer p;
  ASSERT_TRUE(p.host.Host(0).ok());
  const auto before = p.host.Parameters(0)->data;
  auto stub = swarm::v1::ExpertService::NewStub(MakeExpertChannel(p.address(), 1 << 20));
  auto call = [&](const std::string& x, const std::string& g, uint32_t id = 0) {
    grpc::ClientContext ctx;
    swarm::v1::ExpertBackwardRequest req;
    req.set_expert_id(id);
    req.set_x(x);
    req.set_grad_y(g);
    swarm::v1::ExpertBackwardReply reply;
    return stub->Backward(&ctx, req, &reply);
  };
  auto enc = [](const HostTensor& t) {
    Bytes b = *EncodeTensor(t, WireDtype::kF32);
    return std::string(b.begin(), b.end());
  };
  const std::string good = enc(Random(2, 4, 1));
  // Wrong width.
  auto s = call(enc(Random(2, 3, 1)), enc(Random(2, 3, 2)));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("shape"), std::string::npos) << s.error_message();
  // x and grad_y shapes differ.
  EXPECT_EQ(call(good, enc(Random(3, 4, 2))).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // NaN in the payload (patch the last f32 of a valid encoding).
  std::string nan = good;
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(nan.data() + nan.size() - 4, &qnan, 4);
  EXPECT_EQ(call(good, nan).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Truncated payload, bad dtype byte.
  EXPECT_EQ(call(good.substr(0, good.size() - 1), good).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  std::string bad_dtype = good;
  bad_dtype[1] = 9;
  EXPECT_EQ(call(bad_dtype, good).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Unknown expert on a host that only serves what it was given.
  Peer strict(SmallConfig(), /*host_any=*/false);
  auto stub2 = swarm::v1::ExpertService::NewStub(MakeExpertChannel(strict.address(), 1 << 20));
  grpc::ClientContext ctx;
  swarm::v1::ExpertForwardRequest fr;
  fr.set_expert_id(5);
  fr.set_x(good);
  swarm::v1::ExpertForwardReply frep;
  EXPECT_EQ(stub2->Forward(&ctx, fr, &frep).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(strict.host.Rejected()["unknown_expert"], 1);

  const auto rejected = p.host.Rejected();
  EXPECT_EQ(rejected.at("shape"), 2);
  EXPECT_EQ(rejected.at("non_finite"), 1);
  auto count = [&](const char* r) { return rejected.count(r) ? rejected.at(r) : 0; };
  EXPECT_EQ(count("length_mismatch") + count("truncated"), 1);
  EXPECT_EQ(rejected.at("bad_dtype"), 1);
  EXPECT_EQ(p.host.Experts().at(0).steps_applied, 0);
  EXPECT_EQ(p.host.Parameters(0)->data, before);
  // The Info RPC reports the same counts.
  auto info = QueryExpertHost(p.address(), Seconds(2));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->rejected.at("shape"), 2);
  ASSERT_EQ(info->experts.size(), 1u);
  EXPECT_EQ(info->experts[0].d_model, 4);
}

TEST(RemoteExperts, ClientRejectsBadOptionsAndInputs) {
  RemoteExpertOptions o;
  o.wire_dtype = "bf16";
  EXPECT_NE(o.Validate().message().find("f32, f16, int8"), std::string::npos);
  auto client = MakeGrpcExpertClient(0, Fixed({"127.0.0.1:1"}), o);
  EXPECT_TRUE(absl::IsInvalidArgument(client->Forward(Random(1, 4, 1)).status()));
  o = {};
  o.attempts_per_replica = 0;
  EXPECT_NE(o.Validate().message().find("attempts_per_replica = 0"), std::string::npos);
  Peer p;
  auto ok = MakeGrpcExpertClient(0, Fixed({p.address()}), {});
  HostTensor nan = Random(1, 4, 1);
  nan.data[2] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(absl::IsInvalidArgument(ok->Forward(nan).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ok->Backward(Random(1, 4, 1), Random(2, 4, 1)).status()));
}

TEST(RemoteExperts, HalfAndInt8WireStayCloseToF32) {
  Peer p;
  const HostTensor x = Random(16, 4, 9);
  auto ref = MakeGrpcExpertClient(2, Fixed({p.address()}), {})->Forward(x);
  ASSERT_TRUE(ref.ok());
  for (const char* dt : {"f16", "int8"}) {
    RemoteExpertOptions o;
    o.wire_dtype = dt;
    auto y = MakeGrpcExpertClient(2, Fixed({p.address()}), o)->Forward(x);
    ASSERT_TRUE(y.ok()) << dt << ": " << y.status();
    double err = 0, norm = 0;
    for (size_t i = 0; i < y->data.size(); ++i) {
      err += std::pow(y->data[i] - ref->data[i], 2);
      norm += std::pow(ref->data[i], 2);
    }
    EXPECT_LT(std::sqrt(err / norm), std::string(dt) == "f16" ? 2e-3 : 5e-2) << dt;
    EXPECT_GT(err, 0) << dt << " should be lossy";
  }
}

TEST(RemoteExperts, GradientThenApplyGradientIsOneBackwardStep) {
  ExpertHost a(SmallConfig(), [](uint32_t) { return true; });
  ExpertHost b(SmallConfig(), [](uint32_t) { return true; });
  const HostTensor x = Random(3, 4, 1), g = Random(3, 4, 2);
  auto dx = a.Backward(2, x, g);
  ASSERT_TRUE(dx.ok());
  auto r = b.Gradient(2, x, g);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->grad_x.data, dx->data);
  EXPECT_EQ(b.Experts()[0].steps_applied, 0);  // nothing applied yet
  int64_t steps = 0;
  ASSERT_TRUE(b.ApplyGradient(2, r->params, &steps).ok());
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(a.Parameters(2)->data, b.Parameters(2)->data);
  EXPECT_TRUE(absl::IsInvalidArgument(b.ApplyGradient(2, std::vector<float>(3, 0.f))));
  std::vector<float> bad = r->params;
  bad[0] = NAN;
  EXPECT_TRUE(absl::IsInvalidArgument(b.ApplyGradient(2, bad)));
  EXPECT_TRUE(absl::IsNotFound(b.ApplyGradient(9, r->params)));
}

// The service with a RoundSink over train::ExpertRounds, called by clients
// tagged with rounds: one step per round; untagged, replayed and oversized
// calls refused and counted.
TEST(RemoteExperts, PerRoundUpdatesRefuseUntaggedReplayedAndOversizedCalls) {
  ExpertHostConfig hc = SmallConfig();
  hc.tokens_max = 64;
  ExpertHost host(hc, [](uint32_t) { return true; });
  train::ExpertRoundConfig rc;
  rc.aggregator.name = "median";
  rc.round_deadline = Millis(50);
  rc.quorum = 2;
  auto rounds = *train::ExpertRounds::Create(rc);
  std::mutex mu;
  RealClock clock;
  auto apply = [&] {
    for (auto& s : rounds->TakeOutbox()) ASSERT_TRUE(host.ApplyGradient(s.expert, s.gradient).ok());
  };
  RoundSink sink = [&](uint32_t e, uint64_t round, const std::string& caller, std::vector<float> g,
                       int64_t*) -> Status {
    std::lock_guard<std::mutex> lock(mu);
    SWARM_RETURN_IF_ERROR(rounds->AddExpert(e, g.size()));
    Status st = rounds->OnContribution(caller, e, round, std::move(g), clock.Now());
    apply();
    return st;
  };
  ExpertServiceImpl service(&host, {}, sink);
  grpc::ServerBuilder sb;
  int port = 0;
  sb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  sb.RegisterService(&service);
  auto server = sb.BuildAndStart();
  const std::vector<std::string> owners = {"127.0.0.1:" + std::to_string(port)};
  std::atomic<uint64_t> round{0};
  auto client_for = [&](const std::string& name, bool byzantine) {
    RemoteExpertOptions o;
    o.round = [&] { return round.load(); };
    o.trainer = name;
    o.byzantine_replay = byzantine;
    o.oversized_every = byzantine ? 1 : 0;
    o.tokens_max_guess = hc.tokens_max;
    return o;
  };
  auto counters = std::make_shared<RemoteExpertCounters>();
  auto honest = MakeGrpcExpertClient(1, [&] { return owners; }, client_for("h", false));
  auto byz = MakeGrpcExpertClient(1, [&] { return owners; }, client_for("b", true), counters);
  const HostTensor x = Random(3, 4, 1), g = Random(3, 4, 2);
  // Untagged: refused.
  EXPECT_FALSE(honest->Backward(x, g).ok());
  EXPECT_EQ(host.Rejected()["untagged"], 1);
  round = 1;
  ASSERT_TRUE(honest->Backward(x, g).ok());
  ASSERT_TRUE(byz->Backward(x, g).ok());  // then its replay and an oversized call
  EXPECT_EQ(counters->byzantine_replays.load(), 1);
  EXPECT_EQ(counters->byzantine_oversized.load(), 1);
  EXPECT_EQ(counters->byzantine_accepted.load(), 0);
  EXPECT_EQ(host.Rejected()["duplicate"], 1);
  EXPECT_EQ(host.Rejected()["oversized"], 1);
  EXPECT_EQ(host.Experts()[0].steps_applied, 0);  // the round waits for its deadline
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  {
    std::lock_guard<std::mutex> lock(mu);
    rounds->OnTick(clock.Now());
    apply();
  }
  EXPECT_EQ(host.Experts()[0].steps_applied, 1);  // two calls, one step
  server->Shutdown(std::chrono::system_clock::now());
}

TEST(RemoteExperts, SpotChecksCatchAReplicaWhoseOutputsDifferAndPassIdenticalOnes) {
  ExpertHostConfig liar_config = SmallConfig();
  liar_config.seed = 99;  // different parameters: a host answering with other outputs
  Peer honest_a, honest_b, liar(liar_config);
  auto run = [&](const std::vector<std::string>& owners, int calls) {
    RemoteExpertOptions o;
    o.spot_check_share = 1.0;
    std::vector<SpotCheckEvidence> evidence;
    o.on_mismatch = [&](const SpotCheckEvidence& e) { evidence.push_back(e); };
    auto counters = std::make_shared<RemoteExpertCounters>();
    auto client = MakeGrpcExpertClient(0, [owners] { return owners; }, o, counters);
    for (int i = 0; i < calls; ++i) EXPECT_TRUE(client->Forward(Random(3, 4, 40 + i)).ok());
    EXPECT_EQ(counters->spot_checks.load(), calls);
    EXPECT_EQ(counters->spot_checks_answered.load(), calls);
    EXPECT_EQ(counters->spot_check_mismatches.load(), static_cast<int64_t>(evidence.size()));
    return evidence;
  };
  EXPECT_TRUE(run({honest_a.address(), honest_b.address()}, 5).empty());  // no false positive
  auto ev = run({honest_a.address(), liar.address()}, 5);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0].replica_a, honest_a.address());
  EXPECT_EQ(ev[0].replica_b, liar.address());
  EXPECT_EQ(ev[0].input_sha3_hex.size(), 64u);
  EXPECT_NE(ev[0].reply_a, ev[0].reply_b);
  EXPECT_GT(ev[0].max_abs_diff, 1e-4);
  RemoteExpertOptions bad;
  bad.spot_check_share = 1.5;
  EXPECT_NE(bad.Validate().message().find("spot_check_share"), std::string::npos);
}

TEST(RemoteExperts, CheckpointRestoresParametersOptimizerAndSteps) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("swarm-experts-ckpt-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  ExpertHostConfig c = SmallConfig();
  c.checkpoint_dir = dir;
  const HostTensor x = Random(3, 4, 1), g = Random(3, 4, 2);
  std::vector<float> after_two, after_three;
  {
    ExpertHost h(c, [](uint32_t) { return true; });
    ASSERT_TRUE(h.Backward(4, x, g).ok());
    ASSERT_TRUE(h.Backward(4, x, g).ok());
    after_two = h.Parameters(4)->data;
    ASSERT_TRUE(h.Checkpoint().ok());
    ASSERT_TRUE(h.Backward(4, x, g).ok());
    after_three = h.Parameters(4)->data;
  }
  ExpertHost h2(c, nullptr);
  ASSERT_TRUE(h2.Host(4).ok());
  int64_t steps = 0;
  EXPECT_EQ(h2.Parameters(4, &steps)->data, after_two);
  EXPECT_EQ(steps, 2);
  // Optimizer state came back too: the third step lands on the same values.
  ASSERT_TRUE(h2.Backward(4, x, g).ok());
  EXPECT_EQ(h2.Parameters(4)->data, after_three);
  std::filesystem::remove_all(dir);
}

TEST(RemoteExperts, MoeLayerMasksExpertWhoseReplicasAllFailed) {
  Peer a, b;
  const std::string dead = DeadAddress();
  MoeConfig c;
  c.d_model = 4;
  c.num_experts = 4;
  c.top_k = 2;
  c.k_min = 2;
  auto counters = std::make_shared<RemoteExpertCounters>();
  auto stats = std::make_shared<RemoteExpertStats>();
  std::vector<std::shared_ptr<ExpertBackend>> experts;
  for (uint32_t e = 0; e < 4; ++e) {
    std::vector<std::string> owners = {a.address(), b.address()};
    if (e == 1) owners = {dead};                     // gone
    if (e == 2) owners = {dead, b.address()};        // primary gone: fail-over
    experts.push_back(MakeRemoteExpert(MakeGrpcExpertClient(e, Fixed(owners), {}, counters), stats));
  }
  MoeLayer layer(c, experts);
  torch::manual_seed(1);
  {
    torch::NoGradGuard g;
    layer->gate()->weight.normal_(0, 1);  // spread tokens over every expert
  }
  torch::Tensor x = torch::randn({64, 4}).requires_grad_(true);
  auto out = layer->Forward(x);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_GT(out->stats.expert_tokens[1], 0);
  EXPECT_EQ(out->stats.failed_experts, std::vector<int64_t>{1});
  out->y.pow(2).sum().backward();
  EXPECT_GT(x.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_GE(counters->failovers.load(), 2);  // expert 2 forward + backward
  EXPECT_EQ(stats->backward_calls.load(), out->stats.experts_called - 1);
  EXPECT_EQ(stats->backward_failures.load(), 0);
  // Replicas of expert 0 (both alive) applied the same step.
  EXPECT_EQ(a.host.Parameters(0)->data, b.host.Parameters(0)->data);
}

TEST(RemoteExperts, SetParametersCopiesACoReplicaAndChecksSize) {
  Peer a, b;
  const HostTensor x = Random(3, 4, 1), g = Random(3, 4, 2);
  ASSERT_TRUE(a.host.Backward(0, x, g).ok());
  ASSERT_TRUE(b.host.Host(0).ok());
  int64_t steps = 0;
  auto pa = a.host.Parameters(0, &steps);
  ASSERT_TRUE(b.host.SetParameters(0, *pa, steps).ok());
  int64_t sb = 0;
  EXPECT_EQ(b.host.Parameters(0, &sb)->data, pa->data);
  EXPECT_EQ(sb, 1);
  HostTensor wrong = *pa;
  wrong.data.pop_back();
  wrong.shape[0] -= 1;
  EXPECT_TRUE(absl::IsInvalidArgument(b.host.SetParameters(0, wrong, 0)));
  EXPECT_TRUE(absl::IsNotFound(b.host.SetParameters(9, *pa, 0)));
  // Over the wire too.
  auto fetched = FetchExpertParameters(a.address(), 0, Seconds(2));
  ASSERT_TRUE(fetched.ok()) << fetched.status();
  EXPECT_EQ(fetched->data, pa->data);
}

TEST(RemoteExperts, ReleaseStopsHostingAndARestoredExpertResumes) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("swarm-experts-rel-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  ExpertHostConfig c = SmallConfig();
  c.checkpoint_dir = dir;
  std::vector<std::pair<uint32_t, bool>> created;
  ExpertHost::Hooks hooks;
  hooks.on_created = [&](uint32_t id, bool restored) { created.push_back({id, restored}); };
  ExpertHost h(c, [](uint32_t) { return true; }, hooks);
  ASSERT_TRUE(h.Backward(1, Random(2, 4, 1), Random(2, 4, 2)).ok());
  const auto trained = h.Parameters(1)->data;
  ASSERT_TRUE(h.Release(1).ok());
  EXPECT_FALSE(h.Hosts(1));
  EXPECT_TRUE(absl::IsNotFound(h.Release(1)));
  ASSERT_TRUE(h.Host(1).ok());  // back from its checkpoint
  EXPECT_TRUE(h.WasRestored(1));
  EXPECT_EQ(h.Parameters(1)->data, trained);
  EXPECT_EQ(created, (std::vector<std::pair<uint32_t, bool>>{{1, false}, {1, true}}));
  std::filesystem::remove_all(dir);
}

TEST(RemoteExperts, OwnersFromStatusMapsIdsToAddressesAndSkipsDead) {
  const auto j = nlohmann::json::parse(R"({
    "members": [{"id": "n0", "address": "127.0.0.1:1", "state": "alive"},
                {"id": "n1", "address": "127.0.0.1:2", "state": "dead"},
                {"id": "n2", "address": "127.0.0.1:3", "state": "suspect"},
                {"id": 5}],
    "ring": {"owners": {"0": ["n0", "n1"], "1": ["n2", "n0"], "x": ["n0"], "2": "n0"}}})");
  auto o = OwnersFromStatus(j);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0], std::vector<std::string>{"127.0.0.1:1"});
  EXPECT_EQ(o[1], (std::vector<std::string>{"127.0.0.1:3", "127.0.0.1:1"}));
  EXPECT_TRUE(OwnersFromStatus(nlohmann::json::array()).empty());
}

}  // namespace
}  // namespace swarm::nn
