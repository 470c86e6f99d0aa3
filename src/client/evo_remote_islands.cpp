#include "client/evo_remote_islands.h"

#include <chrono>
#include <cmath>
#include <future>

#include "evo/genome_codec.h"
#include "net/rpc.h"

namespace swarm::node {

RemoteArchipelago::RemoteArchipelago(RemoteIslandsConfig cfg, const evo::Task* task,
                                     evo::Topology topology)
    : cfg_(std::move(cfg)),
      task_(task),
      topology_(std::move(topology)),
      rng_(cfg_.seed ^ 0x15a7d5ULL),
      islands_(topology_.size()) {}

RemoteArchipelago::~RemoteArchipelago() = default;

Status RemoteArchipelago::AddHost(const std::string& address) {
  SWARM_ASSIGN_OR_RETURN(auto client, net::PeerClient::Create(address, cfg_.net));
  auto stub = swarm::v1::EvoEvaluator::NewStub(client->channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  swarm::v1::EvoRegisterRequest req;
  req.set_coordinator("swarm evolve --remote-islands");
  swarm::v1::EvoRegisterReply reply;
  grpc::Status s = stub->Register(&ctx, req, &reply);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("island host ", address, ": Register failed: ", net::GrpcStatusText(s)));
  }
  bool offers = false;
  for (const auto& t : reply.tasks()) offers |= t == cfg_.task;
  if (!offers) {
    return absl::FailedPreconditionError(absl::StrCat("island host ", address, " does not offer task '", cfg_.task, "'"));
  }
  hosts_.push_back({address, std::move(stub)});
  for (size_t i = 0; i < islands_.size(); ++i) islands_[i].host = i % hosts_.size();
  return absl::OkStatus();
}

bool RemoteArchipelago::MoveIsland(size_t i) {
  IslandSlot& s = islands_[i];
  for (size_t k = 1; k <= hosts_.size(); ++k) {
    const size_t h = (s.host + k) % hosts_.size();
    if (dead_.count(h)) continue;
    s.host = h;
    ++s.moves;
    ++moves_;
    s.reported_evaluations = 0;
    // The fresh island starts from the last best genomes we hold for it.
    s.immigrants.insert(s.immigrants.end(), s.emigrants.begin(), s.emigrants.end());
    if (s.champion) s.immigrants.push_back(evo::EncodeGenome(s.champion->genome));
    return true;
  }
  return false;
}

Status RemoteArchipelago::CheckNumbers(const swarm::v1::EvoIslandStepReply& r) {
  // An honest island never reports a non-finite number (evo::Island scores a
  // NaN/Inf evaluation as the lowest fitness): this is a poisoned reply.
  for (auto [name, v] : {std::pair<const char*, double>{"best_fitness", r.best_fitness()},
                         {"mean_fitness", r.mean_fitness()},
                         {"champion_fitness", r.champion_fitness()}}) {
    if (!std::isfinite(v)) return absl::DataLossError(absl::StrCat(name, " = ", v, " is not finite"));
  }
  return absl::OkStatus();
}

Status RemoteArchipelago::CheckClaim(size_t i, const swarm::v1::EvoIslandStepReply& r, evo::Scored* out) {
  IslandSlot& s = islands_[i];
  if (!s.verified_text.empty() && r.champion() == s.verified_text &&
      r.champion_fitness() == s.verified.fitness) {
    *out = s.verified;
    return absl::OkStatus();
  }
  SWARM_ASSIGN_OR_RETURN(evo::Genome g, evo::DecodeGenome(r.champion()));
  SWARM_ASSIGN_OR_RETURN(double f, task_->Evaluate(g));
  const double scale = std::max({1.0, std::fabs(f), std::fabs(r.champion_fitness())});
  if (std::fabs(f - r.champion_fitness()) > 1e-9 * scale) {
    return absl::DataLossError(absl::StrCat("claimed champion fitness ", r.champion_fitness(),
                                            ", local re-evaluation ", f));
  }
  *out = {std::move(g), f};
  s.verified_text = r.champion();
  s.verified = *out;
  return absl::OkStatus();
}

StatusOr<evo::ArchipelagoStats> RemoteArchipelago::Step() {
  if (hosts_.empty()) return absl::FailedPreconditionError("no island host registered");
  const size_t n = islands_.size();
  std::vector<swarm::v1::EvoIslandStepReply> replies(n);
  std::vector<bool> done(n, false);
  for (size_t attempt = 0; attempt <= hosts_.size(); ++attempt) {
    std::vector<std::future<grpc::Status>> calls(n);
    for (size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      IslandSlot& s = islands_[i];
      auto req = std::make_shared<swarm::v1::EvoIslandStepRequest>();
      req->set_run_id(cfg_.run_id);
      req->set_island(static_cast<uint32_t>(i));
      req->set_task(cfg_.task);
      req->set_seed(cfg_.seed + i + 1000003ULL * s.moves);
      for (const auto& o : cfg_.neat_overrides) req->add_neat_overrides(o);
      for (const auto& g : s.immigrants) req->add_immigrants(g);
      req->set_emigrants(std::max<uint32_t>(1, cfg_.migration.migrants));
      auto* stub = hosts_[s.host].stub.get();
      const Nanos timeout = cfg_.step_timeout;
      calls[i] = std::async(std::launch::async, [stub, req, timeout, reply = &replies[i]] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(timeout));
        return stub->IslandStep(&ctx, *req, reply);
      });
    }
    bool all = true;
    for (size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      grpc::Status st = calls[i].get();
      IslandSlot& s = islands_[i];
      evo::Scored champ;
      Status claim = absl::OkStatus();
      if (st.ok()) claim = CheckNumbers(replies[i]);
      if (st.ok() && claim.ok() && !replies[i].champion().empty()) claim = CheckClaim(i, replies[i], &champ);
      if (!claim.ok()) {
        rejections_.push_back(absl::StrCat("island ", i, " on ", hosts_[s.host].address, ": ", claim.message()));
        if (rejections_.size() > kRejectionsKept) rejections_.erase(rejections_.begin());
      }
      if (st.ok() && claim.ok()) {
        done[i] = true;
        s.immigrants.clear();
        continue;
      }
      if (!claim.ok()) ++rejected_claims_;
      all = false;
      dead_.insert(s.host);  // failed, timed out or lied: never used again
      if (!MoveIsland(i)) {
        return absl::UnavailableError(absl::StrCat("island ", i, ": no live host left (last error: ",
                                                   st.ok() ? std::string(claim.message()) : net::GrpcStatusText(st), ")"));
      }
    }
    if (all) break;
  }

  evo::ArchipelagoStats stats;
  stats.generation = generation_;
  stats.best_fitness = -1e300;
  for (size_t i = 0; i < n; ++i) {
    const auto& r = replies[i];
    IslandSlot& s = islands_[i];
    evaluations_ += r.evaluations() - std::min(r.evaluations(), s.reported_evaluations);
    s.reported_evaluations = r.evaluations();
    s.emigrants.assign(r.emigrants().begin(), r.emigrants().end());
    evo::Scored champ;
    if (!r.champion().empty() && CheckClaim(i, r, &champ).ok()) {
      if (!s.champion || champ.fitness > s.champion->fitness) s.champion = champ;
      if (r.solved() && !solution_) {
        auto ok = task_->IsSolution(champ.genome, champ.fitness);
        if (ok.ok() && *ok) solution_ = champ;
        else ++rejected_claims_;
      }
    }
    evo::GenerationStats g;
    g.generation = r.generation();
    g.best_fitness = r.best_fitness();
    g.mean_fitness = r.mean_fitness();
    g.species = r.species();
    g.evaluations_total = r.evaluations();
    g.solved = r.solved();
    stats.best_fitness = std::max(stats.best_fitness, g.best_fitness);
    stats.islands.push_back(g);
  }
  ++generation_;
  if (cfg_.migration.migration_interval > 0 && generation_ % cfg_.migration.migration_interval == 0) {
    for (const auto& route : evo::MigrationRoutes(topology_, rng_)) {
      const auto& from = islands_[route.from].emigrants;
      const size_t k = std::min<size_t>(cfg_.migration.migrants, from.size());
      auto& to = islands_[route.to].immigrants;
      to.insert(to.end(), from.begin(), from.begin() + k);
      migrations_ += k;
    }
  }
  stats.solved = solved();
  stats.evaluations_total = evaluations_;
  stats.migrations_total = migrations_;
  return stats;
}

std::vector<RemoteIslandView> RemoteArchipelago::islands() const {
  std::vector<RemoteIslandView> out;
  for (size_t i = 0; i < islands_.size(); ++i)
    out.push_back({static_cast<uint32_t>(i), hosts_[islands_[i].host].address, islands_[i].moves});
  return out;
}

}  // namespace swarm::node
