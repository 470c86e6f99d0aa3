// A bounded champion archive as a state-based CRDT.
//
// Value: the top `capacity` entries of everything ever inserted or merged,
// ordered by fitness (descending), then by id (ascending bytes). An entry is
// (id, fitness, payload) with id = SHA3-256(payload), so the id names the
// payload (a serialized genome; this module treats it as opaque bytes). When
// two replicas hold the same id with different fitness (e.g. a peer measured
// differently), the higher fitness wins.
//
// Merge(a, b) = top_N(max-by-id(a U b)). It is commutative, associative and
// idempotent (tests/crdt/champion_archive_test.cpp checks it over random
// merge orders), so replicas that have seen the same entries hold the same
// value whatever the order of merges. An entry of the global top N is never
// evicted by any merge: "no champion lost".
//
// Not thread-safe; one owner (the node's sync driver) mutates it.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/hash.h"

namespace swarm::crdt {

using EntryId = crypto::Digest256;

struct ArchiveEntry {
  EntryId id{};
  double fitness = 0;
  Bytes payload;
  bool operator==(const ArchiveEntry&) const = default;
};

// Strict total order: better first.
bool BetterThan(const ArchiveEntry& a, const ArchiveEntry& b);
EntryId EntryIdOf(ByteSpan payload);
// An entry with id = SHA3-256(payload); fitness must be finite.
StatusOr<ArchiveEntry> MakeEntry(double fitness, Bytes payload);

struct ArchiveLimits {
  size_t capacity = 64;                 // N of top-N
  size_t payload_bytes_max = 1 << 20;   // per entry
};

class ChampionArchive {
 public:
  explicit ChampionArchive(ArchiveLimits limits = {}) : limits_(limits) {}

  // Adds one entry (checked: finite fitness, id matches payload, payload
  // within limit). Returns true when the archive's value changed.
  StatusOr<bool> Insert(ArchiveEntry e);
  // Joins another replica's state into this one; returns true on change.
  bool Merge(const ChampionArchive& other);
  // Merges already-validated entries (from a sync message).
  bool MergeEntries(const std::vector<ArchiveEntry>& entries);

  const std::vector<ArchiveEntry>& entries() const { return entries_; }  // best first
  size_t size() const { return entries_.size(); }
  const ArchiveLimits& limits() const { return limits_; }
  const ArchiveEntry* Find(const EntryId& id) const;
  // Increases whenever the value changes (Merkle caches key on it).
  uint64_t version() const { return version_; }

  bool operator==(const ChampionArchive& o) const { return entries_ == o.entries_; }

 private:
  bool Absorb(const ArchiveEntry& e);  // no bound enforcement
  bool Trim();
  ArchiveLimits limits_;
  std::vector<ArchiveEntry> entries_;
  uint64_t version_ = 0;
};

}  // namespace swarm::crdt
