// placement::Ring — consistent hashing with virtual nodes.
//
// Build() takes the peers (id, capacity, region) and places
// round(vnodes_per_capacity · capacity) points per peer on a 64-bit circle.
// Point i of peer p is SplitMix64(seed_p + i·φ) with seed_p the first 8 bytes
// of SHA3-256(p.id): positions depend only on the id, never on the order of
// the input or on any process-local index, so every peer that sees the same
// membership builds the same ring. Peers are kept sorted by id; equal points
// are ordered by peer id.
//
// Lookup is a binary search in a sorted vector of points (cache-friendly,
// O(log V)), then a clockwise walk collecting `replicas` distinct peers — in
// distinct regions when at least `replicas` regions are present.
//
// Thread-safety: a built Ring is immutable; concurrent lookups are safe.
// Errors: Build() returns InvalidArgument naming the peer and field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace swarm::placement {

struct PeerInfo {
  std::string id;
  double capacity = 1.0;
  std::string region;
  std::string operator_name;  // from the grant; "" = the peer is its own operator
  bool operator==(const PeerInfo&) const = default;
};

struct RingConfig {
  uint32_t vnodes_per_capacity = 150;
  uint32_t replicas = 3;                 // r; fewer owners if fewer peers
  double load_epsilon = 0.25;            // bounded loads: c = 1 + ε
  uint32_t vnodes_per_peer_max = 15000;  // named limit (capacity 100)
  uint32_t peers_max = 1u << 16;
  Status Validate() const;
};

// 64-bit position of a key on the circle.
uint64_t KeyHash(std::string_view key);  // SHA3-256 prefix
uint64_t KeyHash(uint64_t key);          // SplitMix64 finalizer (expert ids)

class Ring {
 public:
  static StatusOr<Ring> Build(std::vector<PeerInfo> peers, const RingConfig& cfg = {});

  // Owners of the key: up to `replicas` distinct peer indices (into peers()),
  // primary first. `out` is cleared first.
  void Owners(uint64_t key_hash, std::vector<uint32_t>* out) const;
  uint32_t Primary(uint64_t key_hash) const { return owner_[FirstPoint(key_hash)]; }

  const std::vector<PeerInfo>& peers() const { return peers_; }
  size_t vnode_count() const { return points_.size(); }
  size_t region_count() const { return region_count_; }
  const RingConfig& config() const { return cfg_; }
  // Index of the first point clockwise from (>=) the hash, wrapping around.
  size_t FirstPoint(uint64_t key_hash) const;
  uint64_t point(size_t i) const { return points_[i]; }
  uint32_t point_owner(size_t i) const { return owner_[i]; }
  uint32_t region_of(uint32_t peer) const { return region_[peer]; }

 private:
  RingConfig cfg_;
  std::vector<PeerInfo> peers_;    // sorted by id
  std::vector<uint32_t> region_;   // dense region index per peer
  size_t region_count_ = 0;
  std::vector<uint64_t> points_;   // sorted
  std::vector<uint32_t> owner_;    // peer index per point
};

}  // namespace swarm::placement
