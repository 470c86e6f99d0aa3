#include "crdt/champion_archive.h"

#include <algorithm>
#include <cmath>

namespace swarm::crdt {

bool BetterThan(const ArchiveEntry& a, const ArchiveEntry& b) {
  if (a.fitness != b.fitness) return a.fitness > b.fitness;
  return a.id < b.id;
}

EntryId EntryIdOf(ByteSpan payload) { return crypto::Sha3_256(payload); }

StatusOr<ArchiveEntry> MakeEntry(double fitness, Bytes payload) {
  if (!std::isfinite(fitness)) {
    return absl::InvalidArgumentError(absl::StrCat("archive entry fitness ", fitness,
                                                   " is not finite"));
  }
  ArchiveEntry e;
  e.fitness = fitness == 0 ? 0.0 : fitness;  // -0 -> +0: one representation
  e.id = EntryIdOf(payload);
  e.payload = std::move(payload);
  return e;
}

const ArchiveEntry* ChampionArchive::Find(const EntryId& id) const {
  for (const auto& e : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

bool ChampionArchive::Absorb(const ArchiveEntry& e) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->id != e.id) continue;
    if (e.fitness <= it->fitness) return false;
    entries_.erase(it);  // same genome, higher fitness wins
    break;
  }
  auto pos = std::lower_bound(entries_.begin(), entries_.end(), e, BetterThan);
  entries_.insert(pos, e);
  return true;
}

bool ChampionArchive::Trim() {
  if (entries_.size() <= limits_.capacity) return false;
  entries_.resize(limits_.capacity);
  return true;
}

StatusOr<bool> ChampionArchive::Insert(ArchiveEntry e) {
  if (!std::isfinite(e.fitness)) {
    return absl::InvalidArgumentError(absl::StrCat("archive entry fitness ", e.fitness,
                                                   " is not finite"));
  }
  if (e.payload.size() > limits_.payload_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat("archive entry payload is ", e.payload.size(),
                                                   " bytes, over payload_bytes_max ",
                                                   limits_.payload_bytes_max));
  }
  if (EntryIdOf(e.payload) != e.id) {
    return absl::InvalidArgumentError("archive entry id is not SHA3-256 of its payload");
  }
  if (e.fitness == 0) e.fitness = 0.0;
  return MergeEntries({e});
}

bool ChampionArchive::MergeEntries(const std::vector<ArchiveEntry>& entries) {
  bool changed = false;
  for (const auto& e : entries) {
    // An entry not better than a full archive's last cannot enter. Otherwise
    // it enters (or raises its id's fitness) and the value changes.
    if (entries_.size() >= limits_.capacity && !BetterThan(e, entries_.back())) continue;
    if (Absorb(e)) changed = true;
    Trim();
  }
  if (changed) ++version_;
  return changed;
}

bool ChampionArchive::Merge(const ChampionArchive& other) { return MergeEntries(other.entries_); }

}  // namespace swarm::crdt
