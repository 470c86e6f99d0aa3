// Fuzz target: fhe deserializer for params (DeserializeX must return a
// Status on any input, and re-serialize an accepted blob to the same bytes).
#include "fuzz_util.h"

using namespace swarm;
using namespace swarm::fhe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::Corpus& c = fuzz::Get();
  const Bytes b = fuzz::Mutate(data, size, (size > 1 && (data[1] & 2)) ? c.params_bfv : c.params_ckks);
  auto a = DeserializeParams(b);
  if (a.ok()) SWARM_ASSERT(SerializeParams(**a) == b);
  (void)PeekKind(b);
  return 0;
}
