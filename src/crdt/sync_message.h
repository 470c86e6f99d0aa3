// Wire messages of the archive anti-entropy protocol (archive_sync.h) and their
// binary codec. All integers little-endian.
//
//   header   : 'S' 'A' version(1)=1 type(1)
//   kRoot    : root hash (32)
//   kNodes   : depth(1) in {0,1}, prefix(1) (< 16, 0 when depth 0), 16 x hash (32)
//   kEntries : bucket(1), reply_wanted(1) in {0,1}, count(2), then count x
//              { id(32), fitness(8, IEEE-754), payload_len(4), payload }
//
// DecodeSyncMessage checks every field and returns InvalidArgument naming the
// first bad one: short or trailing bytes, unknown version/type, depth/prefix
// out of range, more entries than entries_per_message_max, payload over
// payload_bytes_max, message over message_bytes_max, non-finite fitness, an
// id that is not SHA3-256(payload), or an entry outside the named bucket.
#pragma once

#include <array>
#include <vector>

#include "crdt/champion_archive.h"
#include "crdt/merkle.h"

namespace swarm::crdt {

struct SyncLimits {
  size_t message_bytes_max = 8 << 20;
  size_t entries_per_message_max = 1024;
  size_t payload_bytes_max = 1 << 20;
};

struct SyncMessage {
  enum class Type : uint8_t { kRoot = 1, kNodes = 2, kEntries = 3 };
  Type type = Type::kRoot;
  Hash root{};                          // kRoot
  uint8_t depth = 0, prefix = 0;        // kNodes
  std::array<Hash, kFanout> children{}; // kNodes
  uint8_t bucket = 0;                   // kEntries
  bool reply_wanted = false;            // kEntries
  std::vector<ArchiveEntry> entries;    // kEntries

  bool operator==(const SyncMessage&) const = default;
};

Bytes EncodeSyncMessage(const SyncMessage& m);
StatusOr<SyncMessage> DecodeSyncMessage(ByteSpan data, const SyncLimits& limits = {});

}  // namespace swarm::crdt
