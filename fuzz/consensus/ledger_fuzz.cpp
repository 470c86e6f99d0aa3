// Fuzz target for what a PBFT member decodes on the ledger path from peers
// and clients: a state-transfer snapshot (LedgerStateMachine::Restore) and a
// client's record (Apply of a request payload, store::ParseLedgerRecord).
// Both must refuse bad bytes with an error / a recorded refusal, never crash;
// whatever Restore accepts must snapshot back to the same bytes, and a
// refused request must leave the chain unchanged.
//
// Each input is used twice: raw, and as a recipe that mutates a valid
// snapshot of 3 records and a valid 4th record (built once, Ed25519-signed)
// by XOR at input-chosen positions, so even the bounded standalone runner
// reaches the chain, signature and head checks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "consensus/ledger_machine.h"
#include "store/signers.h"

namespace {

using namespace swarm;

struct Valid {
  Bytes snapshot;  // 3 records
  Bytes next;      // record 3 on top of them
};

const Valid& Fixture() {
  static const Valid v = [] {
    Bytes seed(32, 7);
    auto signer = std::move(store::Ed25519RecordSigner::FromSeed(seed)).value();
    auto sm = std::move(node::LedgerStateMachine::Open("")).value();
    Valid out;
    for (uint64_t i = 0; i < 4; ++i) {
      store::LedgerRecord r;
      r.index = i;
      r.signature_scheme = signer->Scheme();
      r.public_key = signer->PublicKey();
      r.author_id = store::LedgerAuthorId(r.signature_scheme, r.public_key);
      r.kind = "fuzz";
      r.payload_root.fill(static_cast<uint8_t>(i));
      r.prev_hash = sm->Head().hash;
      r.signature = signer->Sign(store::LedgerSigningBytes(r)).value();
      const Bytes enc = store::EncodeLedgerRecord(r);
      if (i == 3) {
        out.snapshot = sm->Snapshot();
        out.next = enc;
      } else {
        sm->Apply(i + 1, consensus::Request{1, i + 1, enc});
      }
    }
    return out;
  }();
  return v;
}

void RunOne(ByteSpan snapshot, ByteSpan record) {
  auto sm = std::move(node::LedgerStateMachine::Open("")).value();
  if (sm->Restore(snapshot).ok()) {
    if (sm->Snapshot() != Bytes(snapshot.begin(), snapshot.end())) std::abort();
  }
  const uint64_t before = sm->Head().size;
  sm->Apply(1, consensus::Request{2, 1, Bytes(record.begin(), record.end())});
  auto r = sm->Result(2, 1);
  if (!r) std::abort();
  if (!r->applied && sm->Head().size != before) std::abort();
  if (r->applied && sm->Head().size != before + 1) std::abort();
}

Bytes Mutate(const Bytes& base, ByteSpan recipe) {
  Bytes out = base;
  for (size_t i = 0; i + 2 < recipe.size() && !out.empty(); i += 3) {
    const size_t pos = (static_cast<size_t>(recipe[i]) << 8 | recipe[i + 1]) % out.size();
    out[pos] ^= recipe[i + 2];
  }
  if (!recipe.empty() && (recipe[0] & 1) && !out.empty()) out.resize(out.size() - recipe[0] % out.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in(data, size);
  RunOne(in, in);
  const Valid& v = Fixture();
  const bool mutate_snapshot = size > 0 && (data[0] & 2);
  const Bytes snap = mutate_snapshot ? Mutate(v.snapshot, in.subspan(1)) : v.snapshot;
  const Bytes rec = mutate_snapshot ? v.next : Mutate(v.next, size ? in.subspan(1) : in);
  RunOne(snap, rec);
  return 0;
}
