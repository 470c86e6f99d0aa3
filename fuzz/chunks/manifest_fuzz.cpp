// Manifest decoding on arbitrary bytes: never crashes, hangs or reads past
// the buffer; whatever decodes is valid and canonical (re-encodes to the same
// bytes). Manifests come from disk and, for joining peers, from donors.
#include <cstddef>
#include <cstdint>

#include "chunks/chunk.h"
#include "chunks/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::chunks;
  const swarm::ByteSpan in(data, size);
  auto m = DecodeManifest(in);
  if (m.ok()) {
    SWARM_ASSERT(ValidateManifest(*m).ok());
    auto again = EncodeManifest(*m);
    SWARM_ASSERT(again.ok() && again->size() == size && std::equal(again->begin(), again->end(), data));
  } else {
    SWARM_ASSERT(!m.status().message().empty());
  }
  // Reach the deeper fields: a valid manifest's prefix with the input as tail,
  // and the valid manifest with input bytes written over it.
  const swarm::Bytes a(3, 1), b(5, 2);
  auto base = BuildManifest("job", "label", 1, 2,
                            {{"w", {{ChunkIdOf(a), 3}, {ChunkIdOf(b), 5}, {ChunkIdOf(a), 3}}}, {"z", {}}});
  SWARM_ASSERT(base.ok());
  swarm::Bytes enc = *EncodeManifest(*base);
  const size_t keep = size == 0 ? enc.size() : data[0] % enc.size();
  swarm::Bytes spliced(enc.begin(), enc.begin() + static_cast<ptrdiff_t>(keep));
  spliced.insert(spliced.end(), data, data + size);
  auto r2 = DecodeManifest(spliced);
  if (r2.ok()) SWARM_ASSERT(*EncodeManifest(*r2) == spliced);
  for (size_t i = 1; i + 1 < size; i += 2) enc[data[i] % enc.size()] = data[i + 1];
  auto r3 = DecodeManifest(enc);
  if (r3.ok()) SWARM_ASSERT(*EncodeManifest(*r3) == enc);
  return 0;
}
