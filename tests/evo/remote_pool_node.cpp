// RemoteEvaluatorPool (client/evo_pool.h) against in-process EvoEvaluator
// services (node/evo/service.h) over real gRPC on loopback.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "evo/genome_codec.h"
#include "evo/operators.h"
#include "evo/presets.h"
#include "evo/tasks.h"
#include "net/rpc.h"
#include "client/evo_pool.h"
#include "client/evo_remote_islands.h"
#include "node/evo/service.h"

namespace swarm::node {
namespace {

struct Peer {
  std::unique_ptr<EvoEvaluatorService> service;
  std::unique_ptr<net::RpcServer> server;
  std::string address;
};

Peer StartPeer(const std::string& id, uint32_t capacity, bool lie = false) {
  EvoServiceConfig cfg;
  cfg.evaluator_id = id;
  cfg.capacity = capacity;
  cfg.lie = lie;
  Peer p;
  auto s = EvoEvaluatorService::Create(cfg);
  EXPECT_TRUE(s.ok()) << s.status();
  p.service = std::move(*s);
  auto srv = net::RpcServer::Start("127.0.0.1:0", net::NetOptions{}, {p.service.get()});
  EXPECT_TRUE(srv.ok()) << srv.status();
  p.server = std::move(*srv);
  p.address = "127.0.0.1:" + std::to_string(p.server->port());
  return p;
}

std::vector<evo::Genome> RandomXorGenomes(size_t n, uint64_t seed) {
  evo::NeatConfig cfg = *evo::PresetConfig("xor");
  Rng rng(seed);
  std::vector<evo::Genome> out;
  for (size_t i = 0; i < n; ++i) {
    evo::Genome g = evo::RandomInitialGenome(2, 1, cfg, rng);
    for (int k = 0; k < 3; ++k) evo::Mutate(g, cfg, rng);
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<const evo::Genome*> Ptrs(const std::vector<evo::Genome>& v) {
  std::vector<const evo::Genome*> p;
  for (const auto& g : v) p.push_back(&g);
  return p;
}

RemotePoolConfig Cfg() {
  RemotePoolConfig pc;
  pc.task = "xor";
  pc.dispatch.evaluation_timeout = Seconds(5);
  return pc;
}

TEST(RemotePool, SpreadsABatchOverEvaluatorsAndMatchesLocalFitness) {
  evo::XorTask task;
  Peer a = StartPeer("a", 2), b = StartPeer("b", 2);
  RemoteEvaluatorPool pool(Cfg(), &task);
  auto info = pool.AddEvaluator(a.address);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->id, "a");
  EXPECT_EQ(info->capacity, 2u);
  ASSERT_TRUE(pool.AddEvaluator(b.address).ok());
  auto genomes = RandomXorGenomes(100, 3);
  auto results = pool.EvaluateBatch(Ptrs(genomes));
  ASSERT_EQ(results.size(), genomes.size());
  for (size_t i = 0; i < genomes.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status();
    EXPECT_EQ(*results[i], *task.Evaluate(genomes[i]));
  }
  EXPECT_GT(a.service->counters().evaluations.load(), 0u);
  EXPECT_GT(b.service->counters().evaluations.load(), 0u);
  EXPECT_EQ(pool.counters().exclusions, 0u);
  EXPECT_EQ(pool.evaluators_alive(), 2u);
}

TEST(RemotePool, RegistrationChecksTheTask) {
  evo::XorTask task;
  Peer a = StartPeer("a", 1);
  RemotePoolConfig pc = Cfg();
  pc.task = "no-such-task";
  RemoteEvaluatorPool pool(pc, &task);
  auto r = pool.AddEvaluator(a.address);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not offer task 'no-such-task'"), std::string::npos);
  RemoteEvaluatorPool pool2(Cfg(), &task);
  auto dead = pool2.AddEvaluator("127.0.0.1:1");
  ASSERT_FALSE(dead.ok());
  EXPECT_NE(dead.status().message().find("127.0.0.1:1"), std::string::npos);
}

TEST(RemotePool, ALyingEvaluatorIsExcludedAndResultsStayCorrect) {
  evo::XorTask task;
  Peer honest = StartPeer("honest", 2), liar = StartPeer("liar", 2, /*lie=*/true);
  RemotePoolConfig pc = Cfg();
  pc.dispatch.spot_check_fraction = 0.2;
  RemoteEvaluatorPool pool(pc, &task);
  ASSERT_TRUE(pool.AddEvaluator(honest.address).ok());
  ASSERT_TRUE(pool.AddEvaluator(liar.address).ok());
  for (int round = 0; round < 3; ++round) {
    auto genomes = RandomXorGenomes(80, 10 + round);
    auto results = pool.EvaluateBatch(Ptrs(genomes));
    for (size_t i = 0; i < genomes.size(); ++i) {
      ASSERT_TRUE(results[i].ok());
      EXPECT_EQ(*results[i], *task.Evaluate(genomes[i])) << "round " << round << " genome " << i;
    }
  }
  EXPECT_EQ(pool.counters().exclusions, 1u);
  EXPECT_EQ(pool.evaluators_alive(), 1u);
}

TEST(RemotePool, FallsBackToLocalWhenEvaluatorsDie) {
  evo::XorTask task;
  Peer a = StartPeer("a", 2);
  RemotePoolConfig pc = Cfg();
  pc.dispatch.evaluation_timeout = Millis(500);
  RemoteEvaluatorPool pool(pc, &task);
  ASSERT_TRUE(pool.AddEvaluator(a.address).ok());
  a.server->Shutdown(0);
  a.server.reset();
  auto genomes = RandomXorGenomes(30, 4);
  auto results = pool.EvaluateBatch(Ptrs(genomes));
  for (size_t i = 0; i < genomes.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status();
    EXPECT_EQ(*results[i], *task.Evaluate(genomes[i]));
  }
  EXPECT_GT(pool.counters().request_failures, 0u);
  EXPECT_EQ(pool.counters().local_results, 30u);
}

TEST(EvoService, RejectsBadRequestsAndBadGenomesWithReasons) {
  Peer a = StartPeer("a", 1);
  grpc::ServerContext ctx;
  swarm::v1::EvoEvaluateRequest req;
  swarm::v1::EvoEvaluateReply reply;
  req.set_task("chess");
  grpc::Status s = a.service->Evaluate(&ctx, &req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("task 'chess'"), std::string::npos);

  req.set_task("xor");
  req.add_genomes("{not json");
  req.add_genomes(evo::EncodeGenome(evo::MinimalGenome(4, 1, true, true)));  // wrong shape
  req.add_genomes(evo::EncodeGenome(RandomXorGenomes(1, 1)[0]));
  reply.Clear();
  s = a.service->Evaluate(&ctx, &req, &reply);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(reply.results_size(), 3);
  EXPECT_FALSE(reply.results(0).ok());
  EXPECT_FALSE(reply.results(0).error().empty());
  EXPECT_FALSE(reply.results(1).ok());
  EXPECT_TRUE(reply.results(2).ok());
  EXPECT_EQ(a.service->counters().failed_evaluations.load(), 2u);

  EvoServiceConfig small;
  small.batch_genomes_max = 2;
  auto svc = EvoEvaluatorService::Create(small);
  ASSERT_TRUE(svc.ok());
  s = (*svc)->Evaluate(&ctx, &req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("batch_genomes_max"), std::string::npos);

  EvoServiceConfig bad;
  bad.tasks = {"xor", "tetris"};
  auto r = EvoEvaluatorService::Create(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("evo.tasks contains 'tetris'"), std::string::npos);
}

swarm::v1::EvoIslandStepRequest StepRequest(const std::string& run, uint32_t island) {
  swarm::v1::EvoIslandStepRequest req;
  req.set_run_id(run);
  req.set_island(island);
  req.set_task("xor");
  req.set_seed(1);
  req.add_neat_overrides("population_size=20");
  return req;
}

TEST(EvoService, IslandSizesAreBoundedWithTheFieldAndValueNamed) {
  EvoServiceConfig cfg;
  auto svc = EvoEvaluatorService::Create(cfg);
  ASSERT_TRUE(svc.ok());
  const crypto::PeerIdBytes caller{1};
  swarm::v1::EvoIslandStepReply reply;
  auto req = StepRequest("big", 0);
  req.set_neat_overrides(0, "population_size=1000000");
  grpc::Status s = (*svc)->IslandStepFor(caller, req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "population_size = 1000000 exceeds island_population_max = 1000");
  req = StepRequest("e", 0);
  req.set_emigrants(21);
  s = (*svc)->IslandStepFor(caller, req, &reply);
  EXPECT_EQ(s.error_message(), "emigrants = 21 exceeds population_size = 20");
  EXPECT_EQ((*svc)->hosted_islands(), 0u);
  EXPECT_EQ((*svc)->counters().rejected_requests.load(), 2u);
}

TEST(EvoService, ACallerCannotEvictAnotherCallersIslands) {
  EvoServiceConfig cfg;
  cfg.islands_max = 4;
  cfg.islands_per_caller_max = 2;
  auto svc = EvoEvaluatorService::Create(cfg);
  ASSERT_TRUE(svc.ok());
  const crypto::PeerIdBytes honest{1}, flooder{2}, third{3};
  swarm::v1::EvoIslandStepReply reply;
  ASSERT_TRUE((*svc)->IslandStepFor(honest, StepRequest("run", 0), &reply).ok());
  ASSERT_TRUE((*svc)->IslandStepFor(honest, StepRequest("run", 1), &reply).ok());
  const uint64_t honest_evaluations = reply.evaluations();
  // The flooder creates many islands: it only ever replaces its own.
  for (uint32_t i = 0; i < 20; ++i) {
    ASSERT_TRUE((*svc)->IslandStepFor(flooder, StepRequest("flood", i), &reply).ok());
  }
  EXPECT_EQ((*svc)->hosted_islands(), 4u);
  // The peer is full and nobody is idle: a third caller is refused, not served
  // by evicting the honest caller.
  grpc::Status s = (*svc)->IslandStepFor(third, StepRequest("late", 0), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("islands_max = 4"), std::string::npos);
  // The honest caller's island kept its state (its evaluations keep counting).
  ASSERT_TRUE((*svc)->IslandStepFor(honest, StepRequest("run", 1), &reply).ok());
  EXPECT_EQ(reply.evaluations(), honest_evaluations + 20);
  // Same run id from another caller is another island, not the honest one.
  ASSERT_TRUE((*svc)->IslandStepFor(flooder, StepRequest("run", 1), &reply).ok());
  EXPECT_EQ(reply.evaluations(), 20u);
}

TEST(EvoService, AnIdleIslandOfAnotherCallerMayBeReplaced) {
  EvoServiceConfig cfg;
  cfg.islands_max = 1;
  cfg.island_idle_evict = 0;
  auto svc = EvoEvaluatorService::Create(cfg);
  ASSERT_TRUE(svc.ok());
  swarm::v1::EvoIslandStepReply reply;
  ASSERT_TRUE((*svc)->IslandStepFor(crypto::PeerIdBytes{1}, StepRequest("a", 0), &reply).ok());
  ASSERT_TRUE((*svc)->IslandStepFor(crypto::PeerIdBytes{2}, StepRequest("b", 0), &reply).ok());
  EXPECT_EQ((*svc)->hosted_islands(), 1u);
}

RemoteIslandsConfig IslandsCfg() {
  RemoteIslandsConfig rc;
  rc.task = "xor";
  rc.run_id = "test";
  rc.seed = 3;
  rc.migration.migration_interval = 2;
  rc.step_timeout = Seconds(10);
  return rc;
}

TEST(RemoteIslands, IslandsOnPeersSolveXorWithMigration) {
  evo::XorTask task;
  Peer a = StartPeer("a", 2), b = StartPeer("b", 2);
  RemoteArchipelago arch(IslandsCfg(), &task, evo::Topology::Ring(3));
  ASSERT_TRUE(arch.AddHost(a.address).ok());
  ASSERT_TRUE(arch.AddHost(b.address).ok());
  for (int g = 0; g < 150 && !arch.solved(); ++g) {
    auto st = arch.Step();
    ASSERT_TRUE(st.ok()) << st.status();
    ASSERT_EQ(st->islands.size(), 3u);
  }
  EXPECT_TRUE(arch.solved());
  EXPECT_GT(arch.migrations(), 0u);
  EXPECT_EQ(arch.evaluations(), arch.generation() * 3 * 150);
  EXPECT_EQ(a.service->hosted_islands(), 2u);  // islands 0 and 2
  EXPECT_EQ(b.service->hosted_islands(), 1u);
  EXPECT_EQ(arch.island_moves(), 0u);
}

TEST(RemoteIslands, AFailedOrLyingHostsIslandMovesToALiveHost) {
  evo::XorTask task;
  Peer a = StartPeer("a", 2), dying = StartPeer("dying", 2), liar = StartPeer("liar", 2, /*lie=*/true);
  RemoteArchipelago arch(IslandsCfg(), &task, evo::Topology::Ring(3));
  ASSERT_TRUE(arch.AddHost(a.address).ok());
  ASSERT_TRUE(arch.AddHost(dying.address).ok());
  ASSERT_TRUE(arch.AddHost(liar.address).ok());
  ASSERT_TRUE(arch.Step().ok());
  EXPECT_GE(arch.rejected_claims(), 1u);  // the liar's champion claim failed the local re-check
  dying.server->Shutdown(0);
  dying.server.reset();
  for (int g = 0; g < 150 && !arch.solved(); ++g) ASSERT_TRUE(arch.Step().ok());
  EXPECT_TRUE(arch.solved());
  EXPECT_EQ(arch.hosts_alive(), 1u);
  EXPECT_GE(arch.island_moves(), 2u);
  for (const auto& v : arch.islands()) EXPECT_EQ(v.host, a.address);
}

}  // namespace
}  // namespace swarm::node

namespace swarm::node {
namespace {

// Steps a real island but reports NaN numbers: a poisoned host.
class NanIslandHost final : public swarm::v1::EvoEvaluator::Service {
 public:
  explicit NanIslandHost(EvoEvaluatorService* inner) : inner_(inner) {}
  grpc::Status Register(grpc::ServerContext* c, const swarm::v1::EvoRegisterRequest* q,
                        swarm::v1::EvoRegisterReply* r) override {
    return inner_->Register(c, q, r);
  }
  grpc::Status IslandStep(grpc::ServerContext* c, const swarm::v1::EvoIslandStepRequest* q,
                          swarm::v1::EvoIslandStepReply* r) override {
    grpc::Status s = inner_->IslandStep(c, q, r);
    r->set_best_fitness(std::numeric_limits<double>::quiet_NaN());
    r->set_champion_fitness(std::numeric_limits<double>::quiet_NaN());
    return s;
  }

 private:
  EvoEvaluatorService* inner_;
};

TEST(RemoteIslands, AHostReportingNanIsRejectedWithTheReasonAndTheRunContinues) {
  evo::XorTask task;
  Peer honest = StartPeer("honest", 2);
  auto inner = EvoEvaluatorService::Create(EvoServiceConfig{});
  ASSERT_TRUE(inner.ok());
  NanIslandHost nan_host(inner->get());
  auto srv = net::RpcServer::Start("127.0.0.1:0", net::NetOptions{}, {&nan_host});
  ASSERT_TRUE(srv.ok());
  const std::string nan_address = "127.0.0.1:" + std::to_string((*srv)->port());
  RemoteArchipelago arch(IslandsCfg(), &task, evo::Topology::Ring(2));
  ASSERT_TRUE(arch.AddHost(nan_address).ok());
  ASSERT_TRUE(arch.AddHost(honest.address).ok());
  for (int g = 0; g < 150 && !arch.solved(); ++g) {
    auto st = arch.Step();
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_TRUE(std::isfinite(st->best_fitness));
  }
  EXPECT_TRUE(arch.solved());
  EXPECT_EQ(arch.hosts_alive(), 1u);
  EXPECT_GE(arch.rejected_claims(), 1u);
  ASSERT_FALSE(arch.rejections().empty());
  EXPECT_NE(arch.rejections()[0].find("on " + nan_address + ": best_fitness = nan is not finite"), std::string::npos)
      << arch.rejections()[0];
}

}  // namespace
}  // namespace swarm::node
