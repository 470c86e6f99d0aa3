// Envelope decoding and verification must reject any byte string cleanly.
#include <cstdint>

#include "net/envelope.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static swarm::net::EnvelopeOpener opener;
  auto r = opener.Open(swarm::ByteSpan(data, size));
  (void)r;
  // Also a valid envelope with the fuzz input as payload must round-trip.
  static const auto* id = new swarm::crypto::Identity(*swarm::crypto::Identity::Generate());
  static swarm::net::EnvelopeSealer sealer(*id);
  // Sealing signs with ML-DSA (slow): do the round trip for 1 input in 16.
  if (size > 0 && size < 256 && (data[0] & 0x0f) == 0) {
    auto wire = sealer.Seal("fuzz", swarm::ByteSpan(data, size));
    if (!wire.ok()) __builtin_trap();
    auto opened = opener.Open(*wire);
    if (!opened.ok() || opened->payload != swarm::Bytes(data, data + size)) __builtin_trap();
  }
  return 0;
}
