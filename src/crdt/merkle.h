// Merkle tree over a ChampionArchive for anti-entropy.
//
// Fixed shape: root -> 16 level-1 nodes (high nibble of id[0]) -> 16 leaves
// each (low nibble), so leaf b holds the entries whose id[0] == b.
//   leaf hash  = SHA3-256("L" || for each entry in archive order: id || fitness as IEEE-754 big-endian)
//   inner hash = SHA3-256("I" || 16 child hashes)
// An empty leaf or subtree hashes to all zeros, so equal archives have equal
// roots and differing archives differ (up to SHA3 collisions) only along the
// paths to the buckets that differ.
// Pure function of the archive; recomputed when the archive's version moves.
#pragma once

#include <array>
#include <vector>

#include "crdt/champion_archive.h"

namespace swarm::crdt {

using Hash = crypto::Digest256;
constexpr int kFanout = 16;
constexpr int kBuckets = 256;

class ArchiveMerkle {
 public:
  // Rebuilds if `a` changed since the last call.
  void Update(const ChampionArchive& a);
  const Hash& root() const { return root_; }
  const std::array<Hash, kFanout>& level1() const { return level1_; }
  // The 16 leaf hashes under level-1 node `prefix` (0..15).
  std::array<Hash, kFanout> Leaves(int prefix) const;
  const Hash& leaf(int bucket) const { return leaves_[bucket]; }
  // Entries of one leaf bucket, archive order.
  static std::vector<ArchiveEntry> BucketEntries(const ChampionArchive& a, int bucket);

 private:
  uint64_t version_ = ~0ULL;
  const ChampionArchive* built_from_ = nullptr;
  std::array<Hash, kBuckets> leaves_{};
  std::array<Hash, kFanout> level1_{};
  Hash root_{};
};

}  // namespace swarm::crdt
