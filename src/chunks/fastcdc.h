// Content-defined chunking with FastCDC (Xia et al., "FastCDC: a Fast and
// Efficient Content-Defined Chunking Approach for Data Deduplication", USENIX
// ATC 2016), written here from the paper.
//
// A rolling "gear" hash h = (h << 1) + kGear[byte] runs over the data; a chunk
// ends after the byte where the masked hash is zero. Because the hash depends
// only on the last 64 bytes, a boundary is a property of the content around
// it, not of its offset: an insertion or deletion moves the boundaries near it
// and leaves the others where they were (in content terms), so the chunks
// away from the edit keep their names and deduplicate.
//
// The paper's three ideas, all used here:
//   - cut-point skipping: no boundary is looked for in the first `min_bytes`
//     of a chunk (hashing starts there);
//   - normalized chunking: before `avg_bytes` the mask has
//     log2(avg_bytes) + normalization_level one-bits (a boundary is rarer),
//     after it log2(avg_bytes) - normalization_level (more likely), which
//     narrows the size distribution around avg_bytes;
//   - a chunk never exceeds `max_bytes` (a forced cut).
// Mask bits sit at the top of the 64-bit hash, where each bit depends on the
// widest window of input bytes (the left shift moves older bytes up).
//
// The gear table is fixed (generated from a constant seed): changing it, or
// the parameters, moves every boundary, so stores written with other settings
// stop deduplicating against new data (they stay readable: chunks are named
// by their content, not by how they were cut).
//
// Usage:
//   auto chunker = Chunker::Create({.min_bytes = 16 << 10, .avg_bytes = 64 << 10,
//                                   .max_bytes = 256 << 10});
//   for (uint32_t len : chunker->Split(data)) { ... }
//
// Errors: Create refuses parameters out of range (InvalidArgument naming the
// field and value). Split/NextChunkBytes never fail: every input, including
// the empty one, has a chunking.
// Thread-safety: a Chunker is immutable after Create; share it freely.
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace swarm::chunks {

// Hard ceiling on any chunk's size, whatever the parameters (decoders of
// stored and received chunks use it as their bound).
constexpr uint32_t kChunkBytesMax = 16u << 20;
// Floor on min_bytes: below the gear hash's 64-byte window boundaries stop
// being content-defined.
constexpr uint32_t kChunkMinBytesFloor = 64;
constexpr uint32_t kNormalizationLevelMax = 3;

struct ChunkerParams {
  uint32_t min_bytes = 16u << 10;
  uint32_t avg_bytes = 64u << 10;  // a power of two
  uint32_t max_bytes = 256u << 10;
  uint32_t normalization_level = 2;  // 0 (plain gear CDC) .. kNormalizationLevelMax
};

// OK iff kChunkMinBytesFloor <= min < avg < max <= kChunkBytesMax, avg is a
// power of two, level <= kNormalizationLevelMax and leaves the easy mask at
// least one bit.
Status ValidateChunkerParams(const ChunkerParams& p);

class Chunker {
 public:
  static StatusOr<Chunker> Create(const ChunkerParams& params);

  const ChunkerParams& params() const { return params_; }

  // Length of the chunk that starts at data[0], where `data` is everything
  // left of the stream (its end ends the last chunk). 0 only for empty data.
  size_t NextChunkBytes(ByteSpan data) const;

  // The lengths of all chunks of `data`, in order; they sum to data.size().
  std::vector<uint32_t> Split(ByteSpan data) const;

 private:
  explicit Chunker(const ChunkerParams& p);
  ChunkerParams params_;
  uint64_t mask_hard_;  // before avg_bytes
  uint64_t mask_easy_;  // from avg_bytes on
};

}  // namespace swarm::chunks
