// A peer's snapshot of the swarm for extensions: who is a member, in which
// state, and which peers the placement ring assigns to each expert id.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace swarm::node {

struct MemberInfo {
  std::string id;       // display name (node.id), else the address
  std::string address;  // gRPC host:port; the key used everywhere else
  std::string state;    // alive | suspect | dead | left
  std::string region;
  double capacity = 0;
  uint64_t incarnation = 0;
  bool self = false;
};

struct PlacementView {
  std::vector<MemberInfo> members;  // includes self; empty when membership is off
  // Expert id → owner addresses, primary first (ring.replicas of them), over
  // the members currently alive or suspect. Empty when membership is off.
  std::map<uint32_t, std::vector<std::string>> owners;
  uint64_t ring_moves = 0;

  std::vector<std::string> AliveAddresses() const {
    std::vector<std::string> out;
    for (const auto& m : members) {
      if (m.state == "alive") out.push_back(m.address);
    }
    return out;
  }
};

}  // namespace swarm::node
