// Bounded-load assignment (Mirrokni, Thorup, Zadimoghaddam, "Consistent
// Hashing with Bounded Loads", SODA 2018), with replicas and capacities.
//
// Keys (e.g. expert ids) are placed in the order given. Each key walks
// clockwise from its hash and takes the first peers that are not yet among its
// owners, are below their cap, and (when the ring has >= r regions) are in a
// region not yet used by the key. The cap of peer p is
//     ceil(c · (keys · r) · capacity_p / Σ capacity),   c = 1 + load_epsilon,
// so max load / mean load <= c (up to the rounding of ceil). If the region
// rule cannot be met under the caps, it is relaxed for that key, then the
// caps (never observed with c > 1; counted in `relaxed_caps`).
//
// Pure function of (ring, key hashes): every peer computes the same result.
#pragma once

#include <span>
#include <vector>

#include "placement/ring.h"

namespace swarm::placement {

struct Assignment {
  std::vector<std::vector<uint32_t>> owners;  // per key, primary first (peer indices)
  std::vector<uint32_t> load;                 // per peer: keys·replicas assigned
  std::vector<uint32_t> cap;                  // per peer
  uint64_t relaxed_regions = 0;               // keys placed without distinct regions
  uint64_t relaxed_caps = 0;                  // keys placed over a cap
};

Assignment AssignBounded(const Ring& ring, std::span<const uint64_t> key_hashes);

// (key, owner) pairs of `after` whose owner did not hold that key in
// `before`, compared by peer id (for swarm_ring_moves_total). Both
// assignments must cover the same keys in the same order (asserted).
uint64_t CountMoves(const Ring& ring_before, const Assignment& before, const Ring& ring_after,
                    const Assignment& after);

}  // namespace swarm::placement
