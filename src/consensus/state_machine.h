// The replicated state machine, provided by the driver (ledger, epoch log...).
//
// The replica calls it synchronously on its own thread, in sequence order:
// Apply for every request of every committed batch (never twice for one
// (client, client_seq)), Snapshot after each checkpoint interval, Restore when
// state transfer installs a checkpoint fetched from peers. Apply must be
// deterministic: replicas compare snapshot digests at checkpoints.
#pragma once

#include "common/bytes.h"
#include "common/status.h"
#include "consensus/types.h"

namespace swarm::consensus {

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  virtual void Apply(SeqNumber seq, const Request& request) = 0;
  // Complete state as bytes (what a lagging replica fetches).
  virtual Bytes Snapshot() = 0;
  // Replaces the whole state. The bytes passed a 2f+1 digest check, but the
  // implementation must still reject (not crash on) bytes it cannot parse.
  virtual Status Restore(ByteSpan snapshot) = 0;
};

}  // namespace swarm::consensus
