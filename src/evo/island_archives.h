// One champion archive replica (crdt/champion_archive.h) per island, kept in
// agreement by Merkle anti-entropy (crdt/archive_sync.h).
//
// After each generation the driver records every island's champion into that
// island's own replica (payload = canonical genome JSON), then calls
// Sync(now): every replica's anti-entropy ticks once and the messages are
// delivered in-process until no replica has anything left to send (bounded
// by rounds_max). Bytes exchanged are counted: this is what
// swarm_crdt_sync_bytes_total reports for islands run by one coordinator.
// (Islands on different peers would carry the same messages over the network.)
//
// Not thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "crdt/archive_sync.h"
#include "crdt/champion_archive.h"
#include "evo/island.h"

namespace swarm::evo {

class IslandArchives {
 public:
  IslandArchives(size_t islands, crdt::ArchiveLimits limits, uint64_t seed);

  // Inserts `champion` into island `i`'s replica.
  Status Record(size_t i, const Scored& champion);
  // One anti-entropy round at virtual time `now` (advance it by at least the
  // sync interval, 250 ms, between calls). Returns the first peer-message error.
  Status Sync(Nanos now, int rounds_max = 64);

  size_t size() const { return archives_.size(); }
  const crdt::ChampionArchive& archive(size_t i) const { return *archives_[i]; }
  bool Converged() const;
  uint64_t sync_bytes() const;
  uint64_t sync_messages() const;

 private:
  std::vector<std::unique_ptr<crdt::ChampionArchive>> archives_;
  std::vector<std::unique_ptr<crdt::ArchiveSync>> syncs_;
};

}  // namespace swarm::evo
