// Named network partitions for the simulator.
//
// A partition named N cuts a group of nodes from every node outside it from
// `start` until `heal` (exclusive): a message whose endpoints are on different
// sides of any active partition is dropped. Several partitions may overlap.
// Not thread-safe; owned by one Simulator.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "sim/link_model.h"

namespace swarm::sim {

class PartitionSet {
 public:
  explicit PartitionSet(uint32_t node_count) : node_count_(node_count) {}

  // InvalidArgument for an empty/duplicate name, a node id >= node_count or heal < start.
  Status Add(const std::string& name, const std::vector<NodeId>& group, Nanos start, Nanos heal);
  // Moves the heal time of partition `name` (NotFound if unknown).
  Status SetHeal(const std::string& name, Nanos heal);
  bool Blocked(NodeId from, NodeId to, Nanos now) const {
    for (const auto& p : parts_) {
      if (now >= p.start && now < p.heal && p.in[from] != p.in[to]) return true;
    }
    return false;
  }
  bool AnyActive(Nanos now) const;

 private:
  struct Part {
    std::string name;
    std::vector<uint8_t> in;
    Nanos start;
    Nanos heal;
  };
  uint32_t node_count_;
  std::vector<Part> parts_;
};

}  // namespace swarm::sim
