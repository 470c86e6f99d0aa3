// Fuzz target: fhe deserializer for secret key (DeserializeX must return a
// Status on any input, and re-serialize an accepted blob to the same bytes).
#include "fuzz_util.h"

using namespace swarm;
using namespace swarm::fhe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fuzz::Corpus& c = fuzz::Get();
  const Bytes b = fuzz::Mutate(data, size, c.sk);
  auto a = DeserializeSecretKey(*c.ckks, b);
  if (a.ok()) SWARM_ASSERT(Serialize(*c.ckks, *a) == b);
  return 0;
}
