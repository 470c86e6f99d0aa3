#include "evo/island_archives.h"

#include "evo/genome_codec.h"

namespace swarm::evo {

IslandArchives::IslandArchives(size_t islands, crdt::ArchiveLimits limits, uint64_t seed) {
  std::vector<NodeIndex> ids;
  for (size_t i = 0; i < islands; ++i) ids.push_back(NodeIndex(static_cast<uint32_t>(i)));
  for (size_t i = 0; i < islands; ++i) {
    archives_.push_back(std::make_unique<crdt::ChampionArchive>(limits));
    syncs_.push_back(std::make_unique<crdt::ArchiveSync>(ids[i], archives_[i].get(),
                                                         crdt::SyncConfig{}, seed + 101 * i));
    syncs_[i]->SetPeers(ids);
  }
}

Status IslandArchives::Record(size_t i, const Scored& champion) {
  SWARM_ASSERT(i < archives_.size());
  const std::string text = EncodeGenome(champion.genome);
  SWARM_ASSIGN_OR_RETURN(crdt::ArchiveEntry e, crdt::MakeEntry(champion.fitness, Bytes(text.begin(), text.end())));
  return archives_[i]->Insert(std::move(e)).status();
}

Status IslandArchives::Sync(Nanos now, int rounds_max) {
  if (syncs_.size() < 2) return absl::OkStatus();
  for (auto& s : syncs_) s->on_tick(now);
  for (int round = 0; round < rounds_max; ++round) {
    bool any = false;
    for (size_t i = 0; i < syncs_.size(); ++i) {
      for (auto& m : syncs_[i]->TakeOutbox()) {
        any = true;
        SWARM_RETURN_IF_ERROR(
            syncs_[m.to.value()]->on_message(NodeIndex(static_cast<uint32_t>(i)), m.bytes));
      }
    }
    if (!any) break;
  }
  return absl::OkStatus();
}

bool IslandArchives::Converged() const {
  for (size_t i = 1; i < archives_.size(); ++i)
    if (!(*archives_[i] == *archives_[0])) return false;
  return true;
}

uint64_t IslandArchives::sync_bytes() const {
  uint64_t n = 0;
  for (const auto& s : syncs_) n += s->counters().bytes_sent;
  return n;
}

uint64_t IslandArchives::sync_messages() const {
  uint64_t n = 0;
  for (const auto& s : syncs_) n += s->counters().messages_sent;
  return n;
}

}  // namespace swarm::evo
