// SimCluster — many Swim peers driven by sim::Simulator in virtual time
// (test and benchmark support; library swarm_membership_sim, not a core).
//
// Every peer signs its records through one SimAuthority (keyed hashes); peer
// i is admitted with ClusterOptions::admission(i), or is a Sybil without a
// grant when that returns nullopt. Each peer's timer is scheduled at
// its Swim::NextDeadline(); every outbox is sent through the simulator's link
// model, partitions and Byzantine hooks. Peer i's randomness is derived from
// (seed, i, restarts), so one seed replays the whole run.
//
// Memory: with bootstrap_full every peer knows every other from the start:
// n² member slots of 24 bytes (10,000 peers ≈ 2.4 GB). Thread-safety: none.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "membership/support/sim_authority.h"
#include "membership/swim.h"
#include "sim/simulator.h"

namespace swarm::membership {

struct ClusterOptions {
  uint32_t nodes = 100;
  uint64_t seed = 1;
  Config config;
  sim::LinkModel link;
  // Every peer starts knowing every other (as from cluster.json). Otherwise
  // peer 0 starts alone and the others join through it.
  bool bootstrap_full = true;
  // With bootstrap_full: the last `late_joiners` peers are neither started nor
  // known; start them with StartJoin.
  uint32_t late_joiners = 0;
  // Metadata of peer i (default: capacity 1, region "r<i%3>").
  std::function<Metadata(uint32_t)> metadata;
  // Grant of peer i (default: expert host, capacity 1, region "r<i%3>",
  // operator "op<i>"); nullopt = no grant (a Sybil: its records never verify).
  std::function<std::optional<Admission>(uint32_t)> admission;
};

class SimCluster : public sim::Simulator<Message>::Handler {
 public:
  explicit SimCluster(const ClusterOptions& opt);

  sim::Simulator<Message>& sim() { return sim_; }
  SimAuthority& authority() { return authority_; }
  // Whether peer i holds a grant.
  bool admitted(uint32_t i) const { return admitted_[i] != 0; }
  Nanos now() const { return sim_.now(); }
  uint32_t size() const { return static_cast<uint32_t>(nodes_.size()); }
  // Null while the peer is crashed.
  Swim* node(uint32_t i) { return nodes_[i].get(); }
  const Swim* node(uint32_t i) const { return nodes_[i].get(); }
  bool up(uint32_t i) const { return nodes_[i] != nullptr; }
  void RunUntil(Nanos t) { sim_.RunUntil(t); }
  // Restarted peers join through these (default: the first three up peers).
  void SetRestartSeeds(std::vector<MemberId> seeds) { restart_seeds_ = std::move(seeds); }
  // Called with every message delivered to an up peer, before the peer sees
  // it (Byzantine tests capture messages to replay them).
  void SetDeliverTap(std::function<void(uint32_t to, uint32_t from, const Message&)> tap) {
    tap_ = std::move(tap);
  }
  // Applied to every peer, including restarted ones.
  void SetObserver(Observer* o);
  // Starts peer i (used when bootstrap_full is false) and joins it via `seeds`.
  Status StartJoin(uint32_t i, std::span<const MemberId> seeds);
  // Sum of every up peer's counters (messages, suspicions, rejections...).
  Counters TotalCounters() const;
  // Messages sent by crashed-and-replaced instances are kept here too.
  const Counters& retired_counters() const { return retired_; }

  // Handler
  void OnDeliver(sim::NodeId to, sim::NodeId from, Message&& msg) override;
  void OnTimer(sim::NodeId node, uint32_t tag) override;
  void OnCrash(sim::NodeId node) override;
  void OnRestart(sim::NodeId node) override;

 private:
  std::unique_ptr<Swim> MakeNode(uint32_t i);
  void Flush(uint32_t i);
  static void Add(Counters& into, const Counters& c);

  ClusterOptions opt_;
  SimAuthority authority_;
  sim::Simulator<Message> sim_;
  std::vector<MetadataPtr> metas_;
  std::vector<SharedBytes> credentials_;
  std::vector<uint8_t> admitted_;
  std::vector<std::unique_ptr<Swim>> nodes_;
  std::vector<Nanos> scheduled_;
  std::vector<uint32_t> timer_gen_;
  std::vector<uint32_t> restarts_;
  std::vector<MemberId> restart_seeds_;
  Observer* observer_ = nullptr;
  std::function<void(uint32_t, uint32_t, const Message&)> tap_;
  Counters retired_;
};

}  // namespace swarm::membership
