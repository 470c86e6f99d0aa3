// Merkle anti-entropy for a ChampionArchive, as a sans-I/O state machine.
//
// The driver owns the transport and the clock:
//   sync.on_tick(now);                       // every few ms of (virtual) time
//   sync.on_message(from, bytes);            // each message received
//   for (auto& m : sync.TakeOutbox()) send(m.to, m.bytes);
// Nothing here touches a socket, a thread or the wall clock.
//
// Protocol (every message is stateless, so loss only delays convergence):
//   every sync_interval, A sends Root(root) to one random peer B;
//   B: root differs -> Nodes(depth 0, its 16 level-1 hashes);
//   A: for each differing level-1 node p -> Nodes(depth 1, p, its 16 leaves);
//   B: for each differing leaf b -> Entries(b, its entries, reply_wanted);
//   A: merges them and answers Entries(b, the entries B lacked) if any.
// Only subtrees whose hashes differ are descended; bytes sent are counted.
//
// Invalid bytes from a peer are rejected (counted, Status returned naming
// the problem); they never abort. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/rng.h"
#include "crdt/merkle.h"
#include "crdt/sync_message.h"

namespace swarm::crdt {

struct SyncConfig {
  Nanos sync_interval = Millis(250);
  SyncLimits limits;
};

struct Outgoing {
  NodeIndex to;
  Bytes bytes;
};

struct SyncCounters {
  uint64_t bytes_sent = 0;
  uint64_t messages_sent = 0;
  uint64_t sessions_started = 0;
  uint64_t roots_equal = 0;        // Root received and already in sync
  uint64_t entries_received = 0;
  uint64_t rejected_messages = 0;
};

class ArchiveSync {
 public:
  // `archive` is not owned and must outlive this object; the owner may
  // Insert into it between calls.
  ArchiveSync(NodeIndex self, ChampionArchive* archive, SyncConfig cfg, uint64_t seed);

  void SetPeers(std::vector<NodeIndex> peers);
  void on_tick(Nanos now);
  Status on_message(NodeIndex from, ByteSpan bytes);
  // Messages to send, in order; clears the outbox.
  std::vector<Outgoing> TakeOutbox();

  const SyncCounters& counters() const { return counters_; }
  NodeIndex self() const { return self_; }

 private:
  void Send(NodeIndex to, const SyncMessage& m);
  void OnNodes(NodeIndex from, const SyncMessage& m);
  void OnEntries(NodeIndex from, const SyncMessage& m);

  NodeIndex self_;
  ChampionArchive* archive_;
  SyncConfig cfg_;
  Rng rng_;
  ArchiveMerkle merkle_;
  std::vector<NodeIndex> peers_;
  Nanos next_sync_ = -1;
  std::vector<Outgoing> outbox_;
  SyncCounters counters_;
};

}  // namespace swarm::crdt
