// placement::PlaceExperts — expert ownership that resists Sybils.
//
// Input: a Ring built from admitted expert hosts only (PeersFromView keeps
// members whose grant has role expert_host, weighted by granted capacity).
// Experts 0..E-1 are placed in id order; expert e walks clockwise from
// KeyHash(e) and takes as primary the first peer under both caps:
//   identity cap  per peer:      ceil(E / H) + 1                (H = hosts)
//   operator cap  per operator:  max(ceil(E · operator_share_max), ceil(E / O))
//                                (O = distinct operators; default share 1/3)
// and the identity cap never exceeds the operator cap. So no identity owns
// more than about its fair share however much capacity it was granted, and no
// operator (however many identities it runs) owns more than a third of the
// experts once three operators exist. Replicas continue the walk, taking
// peers of operators (and, when the ring has >= r regions, regions) that the
// expert does not use yet; each rule is relaxed only when it cannot be met
// (counted). The operator cap always holds (O · cap >= E); the identity cap is
// relaxed, within the operator cap, only when an operator has too few hosts
// for its share (counted in relaxed_identity). A peer with no operator is its
// own operator.
//
// Pure function of (ring, experts, caps): every peer computes the same owners.
// Thread-safety: none needed (no state). Errors: none; E = 0 gives nothing.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "placement/ring.h"

namespace swarm::placement {

struct PlacementCaps {
  double operator_share_max = 1.0 / 3.0;  // of primaries, per operator (when >= 3 operators)
  uint32_t identity_slack = 1;            // identity cap = ceil(E/H) + identity_slack
};

struct ExpertPlacement {
  std::vector<std::vector<uint32_t>> owners;   // per expert: peer indices, primary first
  std::vector<uint32_t> primaries;             // per peer
  std::map<std::string, uint32_t> operator_primaries;
  uint32_t identity_cap = 0;
  uint32_t operator_cap = 0;
  uint64_t relaxed_identity = 0;   // primaries over the identity cap (an operator with few hosts)
  uint64_t relaxed_caps = 0;       // primaries over the operator cap (never: caps sum to >= E)
  uint64_t relaxed_operators = 0;  // replicas placed on an operator the expert already uses
};

// The operator key of a peer: its operator_name, or "peer:<id>" when empty.
std::string OperatorOf(const PeerInfo& p);

ExpertPlacement PlaceExperts(const Ring& ring, uint32_t experts, const PlacementCaps& caps = {});

}  // namespace swarm::placement
