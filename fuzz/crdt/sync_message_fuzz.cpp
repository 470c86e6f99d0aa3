// Sync message decoder and the ArchiveSync state machine fed peer bytes:
// either rejected with a reason or accepted, re-encoded identically and
// handled without breaking the archive's invariants. Never crashes.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "crdt/archive_sync.h"

namespace {

// Odd first byte: a valid Entries message built from the input (so random
// bytes reach the semantic checks), then one byte of it flipped.
swarm::Bytes Structured(const uint8_t* data, size_t size) {
  using namespace swarm::crdt;
  SyncMessage m;
  m.type = SyncMessage::Type::kEntries;
  swarm::Bytes payload(data + 1, data + size);
  auto e = MakeEntry(static_cast<double>(size % 7), payload);
  if (!e.ok()) return {};
  m.bucket = e->id[0];
  m.reply_wanted = (size & 2) != 0;
  m.entries.push_back(*e);
  swarm::Bytes b = EncodeSyncMessage(m);
  if (size > 2) b[data[1] % b.size()] ^= data[2];
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::crdt;
  swarm::Bytes structured;
  swarm::ByteSpan in(data, size);
  if (size >= 2 && (data[0] & 1)) {
    structured = Structured(data, size);
    in = structured;
  }
  auto m = DecodeSyncMessage(in);
  if (m.ok()) {
    if (EncodeSyncMessage(*m) != swarm::Bytes(in.begin(), in.end())) std::abort();
  } else if (m.status().message().empty()) {
    std::abort();
  }
  ChampionArchive archive({8, 1 << 16});
  (void)archive.Insert(*MakeEntry(1.0, {1, 2, 3}));
  ArchiveSync sync(swarm::NodeIndex(0), &archive, {}, 1);
  sync.SetPeers({swarm::NodeIndex(1)});
  const swarm::Status s = sync.on_message(swarm::NodeIndex(1), in);
  if (s.ok() != m.ok()) std::abort();
  for (const auto& out : sync.TakeOutbox())
    if (!DecodeSyncMessage(out.bytes).ok()) std::abort();  // we only emit valid messages
  if (archive.size() > 8) std::abort();
  for (size_t i = 1; i < archive.size(); ++i)
    if (!BetterThan(archive.entries()[i - 1], archive.entries()[i])) std::abort();
  return 0;
}
