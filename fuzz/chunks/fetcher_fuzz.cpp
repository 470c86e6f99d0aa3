// ChunkFetcher driven by arbitrary event sequences (answers with arbitrary
// bytes, unknown/late/duplicate request ids, errors, ticks): never aborts,
// never exceeds its per-donor bound, and only hands out chunks that verify.
#include <cstddef>
#include <cstdint>

#include "chunks/chunk.h"
#include "chunks/fetch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::chunks;
  std::vector<swarm::Bytes> raws;
  std::vector<ChunkEntry> need;
  for (uint8_t i = 0; i < 5; ++i) {
    raws.push_back(swarm::Bytes(100 + i, i));
    need.push_back({ChunkIdOf(raws.back()), static_cast<uint32_t>(raws.back().size())});
  }
  ChunkFetcher f(need, {"a", "b", "c"}, {.in_flight_per_donor_max = 2, .request_timeout_ms = 50,
                                         .failures_per_donor_max = 3, .attempts_per_chunk_max = 6});
  std::vector<ChunkRequest> sent;
  int64_t now = 0;
  size_t i = 0;
  while (i < size) {
    const uint8_t op = data[i++];
    now += op & 0x0f;
    switch (op >> 6) {
      case 0:
        f.OnTick(now);
        for (auto& r : f.TakeOutbox()) sent.push_back(r);
        break;
      case 1: {  // a correct answer to some request (or an unknown id)
        if (sent.empty() || i >= size) break;
        const ChunkRequest& r = sent[data[i++] % sent.size()];
        for (size_t k = 0; k < need.size(); ++k) {
          if (need[k].id == r.id) f.OnChunk(r.request_id, CompressChunk(raws[k], 1), now);
        }
        break;
      }
      case 2: {  // arbitrary bytes as an answer
        if (i >= size) break;
        const uint64_t rid = sent.empty() ? data[i] : sent[data[i] % sent.size()].request_id + (data[i] & 1);
        ++i;
        const size_t n = std::min<size_t>(size - i, 64);
        f.OnChunk(rid, swarm::ByteSpan(data + i, n), now);
        i += n;
        break;
      }
      default:
        if (!sent.empty() && i < size) f.OnError(sent[data[i++] % sent.size()].request_id, "refused", now);
        break;
    }
    for (const char* d : {"a", "b", "c"}) SWARM_ASSERT(f.InFlight(d) <= 2);
    for (auto& [entry, stored] : f.TakeVerified()) SWARM_ASSERT(OpenChunk(entry.id, entry.raw_bytes, stored).ok());
    const auto p = f.progress(now);
    SWARM_ASSERT(p.chunks_done <= p.chunks_total && p.bytes_done <= p.bytes_total);
  }
  return 0;
}
