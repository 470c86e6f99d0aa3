// Fuzz target for the PBFT wire decoder and for the replica behind it.
//
// Each input is used twice:
//  1. as raw wire bytes for DecodeMessage;
//  2. as a recipe: the first byte picks a well-formed message kind, which is
//     encoded and then mutated by the rest of the input (XOR at positions), so
//     that even the bounded standalone runner (random bytes, no coverage
//     feedback) reaches the deep decoding paths.
// Whatever decodes is re-encoded (must succeed and decode to the same value)
// and fed to a replica, which must drop it (counted) rather than crash.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/status.h"
#include "consensus/canonical.h"
#include "consensus/codec.h"
#include "consensus/replica.h"

namespace {

using namespace swarm;
using namespace swarm::consensus;

class NullMachine final : public StateMachine {
 public:
  void Apply(SeqNumber, const Request&) override {}
  Bytes Snapshot() override { return {}; }
  Status Restore(ByteSpan) override { return absl::OkStatus(); }
};

struct Harness {
  Harness() : auth(ReplicaId(1), KeyedHashAuthenticator::DeriveKeys(4, 7)) {
    ReplicaConfig c;
    c.self = ReplicaId(1);
    c.checkpoint_interval = 2;
    c.log_window = 4;
    replica = std::move(Replica::Create(c, &auth, &machine)).value();
  }
  KeyedHashAuthenticator auth;
  NullMachine machine;
  std::unique_ptr<Replica> replica;
};

Digest D(uint8_t x) {
  Digest d;
  d.fill(x);
  return d;
}

template <typename T>
Signed<T> S(uint32_t who, T body) {
  return Signed<T>{ReplicaId(who), std::move(body), Bytes(32, 0x5a)};
}

Message Template(uint8_t kind) {
  const PrePrepare pp{0, 1, D(1), {Request{1, 1, Bytes{1, 2}}}};
  const CheckpointCert cp{2, D(2), {S(0, Checkpoint{2, D(2)}), S(2, Checkpoint{2, D(2)})}};
  const PreparedCert pc{S(0, pp), {S(2, Prepare{0, 1, D(1)}), S(3, Prepare{0, 1, D(1)})}};
  switch (kind % 10) {
    case 0: return S(0, Request{1, 1, Bytes{3}});
    case 1: return S(0, pp);
    case 2: return S(2, Prepare{0, 1, D(1)});
    case 3: return S(2, Commit{0, 1, D(1)});
    case 4: return S(2, Checkpoint{2, D(2)});
    case 5: return S(2, ViewChange{1, cp, {pc}});
    case 6: return S(1, NewView{1, {S(2, ViewChange{1, cp, {pc}})}, {S(1, pp)}});
    case 7: return S(3, StatusReport{0, false, 3, 2});
    case 8: return S(3, Fetch{1, 0});
    default: {
      FetchReply r;
      r.checkpoint = cp;
      r.snapshot = Bytes{1};
      r.entries.push_back(CommitCert{S(0, pp), {S(2, Commit{0, 1, D(1)})}});
      return S(0, r);
    }
  }
}

void Check(Harness& h, ByteSpan wire) {
  auto m = DecodeMessage(wire);
  if (!m.ok()) return;
  auto again = EncodeMessage(*m);
  SWARM_ASSERT(again.ok());
  auto back = DecodeMessage(*again);
  SWARM_ASSERT(back.ok() && *back == *m);
  h.replica->OnMessage(ReplicaId(0), *m);
  h.replica->OnTick(1);
  (void)h.replica->TakeOutbox();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* h = new Harness();
  Check(*h, ByteSpan(data, size));
  if (size == 0) return 0;
  Bytes wire = *EncodeMessage(Template(data[0]));
  for (size_t i = 1; i + 1 < size && !wire.empty(); i += 2) {
    wire[data[i] % wire.size()] ^= data[i + 1];
  }
  Check(*h, wire);
  return 0;
}
