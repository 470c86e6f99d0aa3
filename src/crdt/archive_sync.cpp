#include "crdt/archive_sync.h"

#include <algorithm>

namespace swarm::crdt {

ArchiveSync::ArchiveSync(NodeIndex self, ChampionArchive* archive, SyncConfig cfg, uint64_t seed)
    : self_(self), archive_(archive), cfg_(cfg), rng_(seed) {}

void ArchiveSync::SetPeers(std::vector<NodeIndex> peers) {
  std::erase(peers, self_);
  peers_ = std::move(peers);
}

void ArchiveSync::Send(NodeIndex to, const SyncMessage& m) {
  Bytes b = EncodeSyncMessage(m);
  counters_.bytes_sent += b.size();
  ++counters_.messages_sent;
  outbox_.push_back({to, std::move(b)});
}

std::vector<Outgoing> ArchiveSync::TakeOutbox() {
  std::vector<Outgoing> out;
  out.swap(outbox_);
  return out;
}

void ArchiveSync::on_tick(Nanos now) {
  if (next_sync_ < 0) {
    // Spread the first rounds of different peers over one interval.
    next_sync_ = now + static_cast<Nanos>(rng_.Uniform(static_cast<uint64_t>(cfg_.sync_interval)));
  }
  if (now < next_sync_ || peers_.empty()) return;
  next_sync_ = now + cfg_.sync_interval;
  merkle_.Update(*archive_);
  SyncMessage m;
  m.type = SyncMessage::Type::kRoot;
  m.root = merkle_.root();
  ++counters_.sessions_started;
  Send(peers_[rng_.Uniform(peers_.size())], m);
}

Status ArchiveSync::on_message(NodeIndex from, ByteSpan bytes) {
  auto m = DecodeSyncMessage(bytes, cfg_.limits);
  if (!m.ok()) {
    ++counters_.rejected_messages;
    return absl::InvalidArgumentError(
        absl::StrCat("from peer ", from.value(), ": ", m.status().message()));
  }
  merkle_.Update(*archive_);
  switch (m->type) {
    case SyncMessage::Type::kRoot: {
      if (m->root == merkle_.root()) {
        ++counters_.roots_equal;
        break;
      }
      SyncMessage r;
      r.type = SyncMessage::Type::kNodes;
      r.depth = 0;
      r.children = merkle_.level1();
      Send(from, r);
      break;
    }
    case SyncMessage::Type::kNodes:
      OnNodes(from, *m);
      break;
    case SyncMessage::Type::kEntries:
      OnEntries(from, *m);
      break;
  }
  return absl::OkStatus();
}

void ArchiveSync::OnNodes(NodeIndex from, const SyncMessage& m) {
  if (m.depth == 0) {
    for (int p = 0; p < kFanout; ++p) {
      if (m.children[p] == merkle_.level1()[p]) continue;
      SyncMessage r;
      r.type = SyncMessage::Type::kNodes;
      r.depth = 1;
      r.prefix = static_cast<uint8_t>(p);
      r.children = merkle_.Leaves(p);
      Send(from, r);
    }
    return;
  }
  for (int j = 0; j < kFanout; ++j) {
    const int bucket = m.prefix * kFanout + j;
    if (m.children[j] == merkle_.leaf(bucket)) continue;
    SyncMessage r;
    r.type = SyncMessage::Type::kEntries;
    r.bucket = static_cast<uint8_t>(bucket);
    r.reply_wanted = true;
    r.entries = ArchiveMerkle::BucketEntries(*archive_, bucket);
    Send(from, r);
  }
}

void ArchiveSync::OnEntries(NodeIndex from, const SyncMessage& m) {
  counters_.entries_received += m.entries.size();
  if (m.reply_wanted) {
    SyncMessage r;
    r.type = SyncMessage::Type::kEntries;
    r.bucket = m.bucket;
    for (auto& e : ArchiveMerkle::BucketEntries(*archive_, m.bucket)) {
      if (std::find(m.entries.begin(), m.entries.end(), e) == m.entries.end())
        r.entries.push_back(std::move(e));
    }
    if (!r.entries.empty()) Send(from, r);
  }
  archive_->MergeEntries(m.entries);
}

}  // namespace swarm::crdt
