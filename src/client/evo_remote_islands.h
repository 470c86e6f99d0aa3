// RemoteArchipelago: islands hosted on evaluator peers (EvoEvaluator.IslandStep,
// proto/swarm/v1/evo.proto), driven generation by generation by the
// coordinator, which also does the migration between them (pagmo2-style
// topology, evo/archipelago.h MigrationRoutes) — `swarm evolve --remote-islands`.
//
// Island i starts on host i mod hosts. Every Step runs one generation on
// every island at once (one RPC per island) with the immigrants routed to it,
// then, every migration_interval generations, routes each island's returned
// best genomes along the topology. A host that fails or times out is marked
// dead and its islands move to the next live host: the population there is
// lost, the island restarts (fresh seed) with the last best genomes the
// coordinator holds for it as immigrants. A claimed solution is re-evaluated
// locally (fitness must match, the task's solution check must pass); a false
// claim counts as rejected and the island moves off that host.
//
// Thread-safety: one driver thread; Step runs its RPCs on helper threads.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "evo/archipelago.h"
#include "net/options.h"
#include "swarm/v1/evo.grpc.pb.h"

namespace swarm::node {

struct RemoteIslandsConfig {
  std::string task;
  std::string run_id;  // distinguishes runs on shared hosts
  uint64_t seed = 1;
  std::vector<std::string> neat_overrides;
  evo::ArchipelagoConfig migration;
  Nanos step_timeout = Seconds(60);
  net::NetOptions net;
};

struct RemoteIslandView {
  uint32_t island = 0;
  std::string host;
  uint64_t moves = 0;
};

class RemoteArchipelago {
 public:
  // `task` (not owned) verifies claimed solutions locally.
  RemoteArchipelago(RemoteIslandsConfig cfg, const evo::Task* task, evo::Topology topology);
  ~RemoteArchipelago();

  // Register; the host must offer the task. Call before the first Step.
  Status AddHost(const std::string& address);
  StatusOr<evo::ArchipelagoStats> Step();

  bool solved() const { return solution_.has_value(); }
  uint64_t generation() const { return generation_; }
  uint64_t evaluations() const { return evaluations_; }
  uint64_t migrations() const { return migrations_; }
  uint64_t island_moves() const { return moves_; }
  uint64_t rejected_claims() const { return rejected_claims_; }
  // The last few rejected replies, one line each naming island, host and why
  // (a lie, a NaN/Inf number): the evidence the coordinator reports.
  const std::vector<std::string>& rejections() const { return rejections_; }
  const std::optional<evo::Scored>& champion(size_t i) const { return islands_[i].champion; }
  std::vector<RemoteIslandView> islands() const;
  size_t hosts_alive() const { return hosts_.size() - dead_.size(); }
  size_t size() const { return islands_.size(); }

 private:
  struct IslandSlot {
    size_t host = 0;
    uint64_t moves = 0;
    uint64_t reported_evaluations = 0;  // cumulative count on the current host
    std::vector<std::string> immigrants;  // to place before the next step
    std::vector<std::string> emigrants;   // best of the last step
    std::optional<evo::Scored> champion;
    std::string verified_text;     // last champion text re-checked locally...
    evo::Scored verified;          // ...and its locally measured score
  };
  struct Host {
    std::string address;
    std::unique_ptr<swarm::v1::EvoEvaluator::Stub> stub;
  };
  bool MoveIsland(size_t i);
  // Re-evaluates the reply's champion locally unless it is the one already
  // verified for island i; fails when the claimed fitness disagrees.
  Status CheckClaim(size_t i, const swarm::v1::EvoIslandStepReply& r, evo::Scored* out);
  // Fails when a number of the reply is NaN or Inf.
  static Status CheckNumbers(const swarm::v1::EvoIslandStepReply& r);
  static constexpr size_t kRejectionsKept = 16;
  std::vector<std::string> rejections_;

  RemoteIslandsConfig cfg_;
  const evo::Task* task_;
  evo::Topology topology_;
  Rng rng_;
  std::vector<Host> hosts_;
  std::set<size_t> dead_;
  std::vector<IslandSlot> islands_;
  uint64_t generation_ = 0, evaluations_ = 0, migrations_ = 0, moves_ = 0, rejected_claims_ = 0;
  std::optional<evo::Scored> solution_;
};

}  // namespace swarm::node
