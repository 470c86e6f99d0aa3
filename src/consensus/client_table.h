// Which (client, client_seq) requests have been applied, so each is applied
// at most once. Part of the replicated checkpoint state: it is serialized
// together with the application snapshot (see EncodeState / DecodeState).
//
// Bounded: per client, the sequence numbers above the contiguous low mark are
// kept up to `above_max` entries; beyond that the low mark is advanced
// (deterministically, so every replica forgets the same entries).
#pragma once

#include <cstdint>
#include <map>
#include <set>

#include "common/bytes.h"
#include "common/status.h"

namespace swarm::consensus {

class ClientTable {
 public:
  static constexpr size_t kAboveMax = 1024;
  static constexpr size_t kClientsMax = 1 << 20;

  bool Contains(uint64_t client, uint64_t client_seq) const;
  // Records the request; false if it was already recorded.
  bool Insert(uint64_t client, uint64_t client_seq);
  size_t clients() const { return clients_.size(); }

  void Encode(Bytes& out) const;
  // Parses what Encode wrote at data[pos...]; advances pos.
  Status Decode(ByteSpan data, size_t& pos);

 private:
  struct Entry {
    uint64_t low = 0;          // every seq <= low counts as applied (seq 0 never used)
    std::set<uint64_t> above;  // applied seqs > low + 1
  };
  std::map<uint64_t, Entry> clients_;
};

// Checkpoint state = application snapshot + client table.
Bytes EncodeState(ByteSpan app_snapshot, const ClientTable& table);
Status DecodeState(ByteSpan state, Bytes& app_snapshot, ClientTable& table);

}  // namespace swarm::consensus
