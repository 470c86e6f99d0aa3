// Per-link network behaviour for the simulator.
//
// A LinkModel says how one directed link (from -> to) treats a message: a
// latency drawn as `latency_base + Exponential(latency_jitter_mean) +
// Uniform[0, latency_jitter_max]` (either jitter reorders messages; the
// uniform one alone keeps the delay bounded, as partial synchrony after GST
// assumes), an independent loss
// probability, a duplication probability (the copy gets its own latency) and
// an explicit reordering probability that adds `Exponential(reorder_delay_mean)`.
// LinkTable resolves the model of a link: an exact (from,to) override first,
// then a per-node override of the sender, then of the receiver, then the
// default. Not thread-safe; owned by one Simulator.
#pragma once

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "common/clock.h"
#include "common/rng.h"
#include "common/status.h"

namespace swarm::sim {

using NodeId = uint32_t;

struct LinkModel {
  Nanos latency_base = Millis(5);
  Nanos latency_jitter_mean = Millis(5);
  Nanos latency_jitter_max = 0;  // bounded uniform jitter on top (0: none)
  double loss = 0.0;        // probability a message is dropped
  double duplicate = 0.0;   // probability a second copy is delivered
  double reorder = 0.0;     // probability of an extra reorder delay
  Nanos reorder_delay_mean = Millis(50);

  // InvalidArgument naming the field when a probability is outside [0,1] or a
  // time is negative.
  Status Validate() const;
  // One latency sample (>= latency_base).
  Nanos SampleLatency(Rng& rng) const;
};

class LinkTable {
 public:
  explicit LinkTable(LinkModel default_model = {}) : default_(default_model) {}
  void SetDefault(const LinkModel& m) { default_ = m; }
  void SetLink(NodeId from, NodeId to, const LinkModel& m) { links_[Key(from, to)] = m; }
  void ClearLink(NodeId from, NodeId to) { links_.erase(Key(from, to)); }
  // Applies to every link that starts or ends at `node` (unless an exact link override exists).
  void SetNode(NodeId node, const LinkModel& m) { nodes_[node] = m; }
  void ClearNode(NodeId node) { nodes_.erase(node); }
  const LinkModel& Get(NodeId from, NodeId to) const;

 private:
  static uint64_t Key(NodeId a, NodeId b) { return (uint64_t{a} << 32) | b; }
  LinkModel default_;
  absl::flat_hash_map<uint64_t, LinkModel> links_;
  absl::flat_hash_map<NodeId, LinkModel> nodes_;
};

}  // namespace swarm::sim
