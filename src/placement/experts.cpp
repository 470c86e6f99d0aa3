#include "placement/experts.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

namespace swarm::placement {

std::string OperatorOf(const PeerInfo& p) {
  return p.operator_name.empty() ? "peer:" + p.id : p.operator_name;
}

ExpertPlacement PlaceExperts(const Ring& ring, uint32_t experts, const PlacementCaps& caps) {
  ExpertPlacement out;
  const auto& peers = ring.peers();
  const size_t n = peers.size();
  out.primaries.assign(n, 0);
  out.owners.resize(experts);
  if (experts == 0 || n == 0 || ring.vnode_count() == 0) return out;
  std::vector<uint32_t> op(n);
  std::map<std::string, uint32_t> op_index;
  for (size_t i = 0; i < n; ++i) op[i] = op_index.emplace(OperatorOf(peers[i]), op_index.size()).first->second;
  const uint32_t operators = static_cast<uint32_t>(op_index.size());
  const double share = std::clamp(caps.operator_share_max, 0.0, 1.0);
  out.operator_cap = std::max<uint32_t>(static_cast<uint32_t>(std::ceil(experts * share - 1e-9)),
                                        (experts + operators - 1) / operators);
  out.operator_cap = std::max<uint32_t>(out.operator_cap, 1);
  out.identity_cap = std::min<uint32_t>(
      static_cast<uint32_t>((experts + n - 1) / n) + caps.identity_slack, out.operator_cap);
  std::vector<uint32_t> op_count(operators, 0);
  const size_t v = ring.vnode_count();
  const size_t want = std::min<size_t>(ring.config().replicas, n);
  const bool distinct_regions = ring.region_count() >= want;
  for (uint32_t e = 0; e < experts; ++e) {
    const size_t start = ring.FirstPoint(KeyHash(static_cast<uint64_t>(e)));
    auto& owners = out.owners[e];
    // Primary: first peer clockwise under both caps; else (an operator with
    // too few hosts for its share) the first under the operator cap; else
    // (unreachable: operator caps sum to >= E) the least loaded.
    std::optional<uint32_t> primary, op_only;
    for (size_t step = 0; step < v && !primary; ++step) {
      const uint32_t p = ring.point_owner((start + step) % v);
      if (op_count[op[p]] >= out.operator_cap) continue;
      if (!op_only) op_only = p;
      if (out.primaries[p] < out.identity_cap) primary = p;
    }
    if (!primary && op_only) {
      ++out.relaxed_identity;
      primary = op_only;
    }
    if (!primary) {
      ++out.relaxed_caps;
      uint32_t best = 0;
      for (uint32_t p = 1; p < n; ++p)
        if (op_count[op[p]] < op_count[op[best]] ||
            (op_count[op[p]] == op_count[op[best]] && out.primaries[p] < out.primaries[best]))
          best = p;
      primary = best;
    }
    owners.push_back(*primary);
    ++out.primaries[*primary];
    ++op_count[op[*primary]];
    // Replicas: distinct peers on operators (and regions) the expert lacks.
    for (int pass = 0; pass < 3 && owners.size() < want; ++pass) {
      for (size_t step = 0; step < v && owners.size() < want; ++step) {
        const uint32_t p = ring.point_owner((start + step) % v);
        bool ok = true;
        for (uint32_t q : owners) {
          if (q == p || (pass < 2 && op[q] == op[p]) ||
              (pass == 0 && distinct_regions && ring.region_of(q) == ring.region_of(p))) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        if (pass == 2) ++out.relaxed_operators;
        owners.push_back(p);
      }
    }
  }
  for (const auto& [name, idx] : op_index) out.operator_primaries[name] = op_count[idx];
  return out;
}

}  // namespace swarm::placement
