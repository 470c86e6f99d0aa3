// One chunk: its name, and its stored form (a zstd frame of the raw bytes).
//
// A chunk's id is SHA3-256 of its raw (uncompressed) bytes, so whoever holds
// the id can check the bytes, whoever sent them. Stored and sent chunks are
// single zstd frames that declare their content size.
//
// OpenChunk is the one decoder for a stored or received chunk: it refuses a
// frame that is not zstd, declares a size other than the expected one (or over
// kChunkBytesMax), does not decompress, or whose bytes hash to another id —
// each with the reason and the values. It allocates at most the expected size.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "chunks/manifest.h"
#include "common/bytes.h"
#include "common/status.h"

namespace swarm::chunks {

constexpr int kCompressionLevelDefault = 3;

ChunkId ChunkIdOf(ByteSpan raw);

// A zstd frame of `raw` at `level` (zstd's levels; 1 is fastest).
Bytes CompressChunk(ByteSpan raw, int level = kCompressionLevelDefault);

// Why OpenChunk refused (for counting by reason, e.g. the label of
// swarm_sync_rejected_chunks_total{reason}).
enum class ChunkReject { kNone, kNotZstd, kSizeMismatch, kCorrupt, kHashMismatch };
const char* ChunkRejectName(ChunkReject r);  // "none", "not_zstd", "size_mismatch", "corrupt", "hash_mismatch"

// The raw bytes of `stored`, checked against `id` and `expected_raw_bytes`;
// on refusal `*why` (if given) says which check failed.
StatusOr<Bytes> OpenChunk(const ChunkId& id, uint32_t expected_raw_bytes, ByteSpan stored,
                          ChunkReject* why = nullptr);

}  // namespace swarm::chunks
