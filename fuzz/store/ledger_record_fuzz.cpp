// Ledger record decoding on arbitrary bytes: never crashes or reads past the
// buffer; whatever parses is canonical (re-encodes to the same bytes) and
// within the field limits.
#include <cstddef>
#include <cstdint>

#include "store/ledger_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::store;
  const swarm::ByteSpan in(data, size);
  auto r = ParseLedgerRecord(in);
  if (r.ok()) {
    const swarm::Bytes again = EncodeLedgerRecord(*r);
    SWARM_ASSERT(again.size() == size && std::equal(again.begin(), again.end(), data));
    SWARM_ASSERT(ValidateLedgerFields(*r).ok());
    SWARM_ASSERT(r->kind.size() <= kLedgerKindBytesMax);
  } else {
    SWARM_ASSERT(!r.status().message().empty());
  }
  // Also fuzz a structurally valid prefix with the input as the variable tail,
  // so the mutator reaches the deeper fields.
  LedgerRecord base;
  base.kind = "k";
  base.signature_scheme = "ed25519";
  base.public_key = swarm::Bytes(32, 1);
  base.signature = swarm::Bytes(64, 2);
  swarm::Bytes enc = EncodeLedgerRecord(base);
  const size_t keep = size == 0 ? enc.size() : data[0] % enc.size();
  enc.resize(keep);
  enc.insert(enc.end(), data, data + size);
  auto r2 = ParseLedgerRecord(enc);
  if (r2.ok()) SWARM_ASSERT(EncodeLedgerRecord(*r2) == enc);
  return 0;
}
