// Fuzz target: fhe deserializer for ciphertext (DeserializeX must return a
// Status on any input, and re-serialize an accepted blob to the same bytes).
#include "fuzz_util.h"

using namespace swarm;
using namespace swarm::fhe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::Corpus& c = fuzz::Get();
  const Bytes b = fuzz::Mutate(data, size, (size > 1 && (data[1] & 2)) ? c.ct_bfv : c.ct_ckks);
  auto a = DeserializeCiphertext(*c.ckks, b);
  auto z = DeserializeCiphertext(*c.bfv, b);
  if (a.ok()) SWARM_ASSERT(Serialize(*c.ckks, *a) == b);
  if (z.ok()) SWARM_ASSERT(Serialize(*c.bfv, *z) == b);
  return 0;
}
