#include "placement/bounded.h"

#include <algorithm>
#include <cmath>

namespace swarm::placement {

Assignment AssignBounded(const Ring& ring, std::span<const uint64_t> key_hashes) {
  const auto& peers = ring.peers();
  const size_t n = peers.size();
  const size_t r = std::min<size_t>(ring.config().replicas, n);
  const double c = 1.0 + ring.config().load_epsilon;
  double total_cap = 0;
  for (const auto& p : peers) total_cap += p.capacity;
  Assignment a;
  a.owners.resize(key_hashes.size());
  a.load.assign(n, 0);
  a.cap.resize(n);
  const double balls = static_cast<double>(key_hashes.size() * r);
  for (size_t i = 0; i < n; ++i)
    a.cap[i] = static_cast<uint32_t>(std::ceil(c * balls * peers[i].capacity / total_cap));
  const bool regions = ring.region_count() >= r;
  const size_t v = ring.vnode_count();
  for (size_t k = 0; k < key_hashes.size(); ++k) {
    auto& own = a.owners[k];
    own.reserve(r);
    const size_t start = ring.FirstPoint(key_hashes[k]);
    // Pass 0: caps + distinct regions; pass 1: caps only; pass 2: no caps.
    for (int pass = regions ? 0 : 1; pass < 3 && own.size() < r; ++pass) {
      if (pass == 1 && regions) ++a.relaxed_regions;
      if (pass == 2) ++a.relaxed_caps;
      for (size_t step = 0; step < v && own.size() < r; ++step) {
        const uint32_t p = ring.point_owner((start + step) % v);
        if (pass < 2 && a.load[p] >= a.cap[p]) continue;
        bool ok = true;
        for (uint32_t q : own) {
          if (q == p || (pass == 0 && ring.region_of(q) == ring.region_of(p))) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        own.push_back(p);
        ++a.load[p];
      }
    }
  }
  return a;
}

uint64_t CountMoves(const Ring& ring_before, const Assignment& before, const Ring& ring_after,
                    const Assignment& after) {
  SWARM_ASSERT(before.owners.size() == after.owners.size());
  uint64_t moves = 0;
  for (size_t k = 0; k < after.owners.size(); ++k) {
    for (uint32_t q : after.owners[k]) {
      const std::string& id = ring_after.peers()[q].id;
      bool held = false;
      for (uint32_t p : before.owners[k]) held |= ring_before.peers()[p].id == id;
      moves += !held;
    }
  }
  return moves;
}

}  // namespace swarm::placement
