// A peer's snapshot of the swarm for extensions: who is a member, in which
// state, and which peers the placement ring assigns to each expert id.
// Members are admitted members only: the membership driver leaves out those
// whose grant expired, was excluded, revoked or is not committed
// (node/membership_driver.h), so everything built on this view follows
// admission without a restart.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
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
  uint32_t roles = 0;          // admission::Role bits of its grant (all bits in open mode)
  std::string operator_name;   // its grant's operator ("" in open mode)
};

struct PlacementView {
  std::vector<MemberInfo> members;  // includes self; empty when membership is off
  // Expert id → owner addresses, primary first (ring.replicas of them), over
  // the members currently alive or suspect. Empty when membership is off.
  std::map<uint32_t, std::vector<std::string>> owners;
  uint64_t ring_moves = 0;

  // Alive members whose grant holds every bit of `role_bits`, as
  // (address, operator) pairs sorted by address.
  std::vector<std::pair<std::string, std::string>> AliveWithRoles(uint32_t role_bits) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& m : members) {
      if (m.state == "alive" && !m.address.empty() && (m.roles & role_bits) == role_bits)
        out.emplace_back(m.address, m.operator_name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::vector<std::string> AliveAddresses() const {
    std::vector<std::string> out;
    for (const auto& m : members) {
      if (m.state == "alive") out.push_back(m.address);
    }
    return out;
  }
};

}  // namespace swarm::node
