// Stored/received chunk decoding on arbitrary bytes: never crashes, never
// allocates past the expected size, and only returns bytes that hash to the
// id and have the expected size.
#include <cstddef>
#include <cstdint>

#include "chunks/chunk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::chunks;
  const swarm::ByteSpan in(data, size);
  const uint32_t expected = size < 4 ? 1 : (static_cast<uint32_t>(data[0]) << 8 | data[1]) + 1;
  // As a frame with some id: must be refused unless it is a real frame of the
  // claimed id (not reachable by chance), never crash.
  const ChunkId id = ChunkIdOf(in.subspan(0, size / 2));
  auto r = OpenChunk(id, expected, in);
  if (r.ok()) SWARM_ASSERT(r->size() == expected && ChunkIdOf(*r) == id);
  // A real frame of the input, then damaged by the input: either the exact
  // bytes come back or a refusal.
  const swarm::Bytes stored = CompressChunk(in.empty() ? swarm::AsBytes("x") : in, 1);
  const swarm::Bytes raw = in.empty() ? swarm::Bytes{'x'} : swarm::Bytes(in.begin(), in.end());
  const ChunkId real = ChunkIdOf(raw);
  SWARM_ASSERT(OpenChunk(real, static_cast<uint32_t>(raw.size()), stored).ok());
  swarm::Bytes damaged = stored;
  if (size >= 2) damaged[data[0] % damaged.size()] ^= static_cast<uint8_t>(data[1] | 1);
  auto d = OpenChunk(real, static_cast<uint32_t>(raw.size()), damaged);
  if (d.ok()) SWARM_ASSERT(*d == raw);
  return 0;
}
