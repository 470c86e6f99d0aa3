#include "chunks/chunk.h"

#include <zstd.h>

#include "crypto/hash.h"

namespace swarm::chunks {

ChunkId ChunkIdOf(ByteSpan raw) { return crypto::Sha3_256(raw); }

Bytes CompressChunk(ByteSpan raw, int level) {
  Bytes out(ZSTD_compressBound(raw.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
  SWARM_ASSERT(!ZSTD_isError(n));  // the bound is always enough
  out.resize(n);
  return out;
}

const char* ChunkRejectName(ChunkReject r) {
  switch (r) {
    case ChunkReject::kNone: return "none";
    case ChunkReject::kNotZstd: return "not_zstd";
    case ChunkReject::kSizeMismatch: return "size_mismatch";
    case ChunkReject::kCorrupt: return "corrupt";
    case ChunkReject::kHashMismatch: return "hash_mismatch";
  }
  return "unknown";
}

StatusOr<Bytes> OpenChunk(const ChunkId& id, uint32_t expected_raw_bytes, ByteSpan stored, ChunkReject* why) {
  ChunkReject ignored;
  ChunkReject& reject = why != nullptr ? *why : ignored;
  reject = ChunkReject::kSizeMismatch;
  const std::string name = ToHex(ByteSpan(id.data(), 8));
  if (expected_raw_bytes == 0 || expected_raw_bytes > kChunkBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("chunk ", name, ": expected size ", expected_raw_bytes,
                                                   " outside 1..", kChunkBytesMax));
  }
  const unsigned long long declared = ZSTD_getFrameContentSize(stored.data(), stored.size());
  reject = ChunkReject::kNotZstd;
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    return absl::DataLossError(absl::StrCat("chunk ", name, ": not a zstd frame (", stored.size(),
                                            " bytes)"));
  }
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN) {
    return absl::DataLossError(absl::StrCat("chunk ", name, ": zstd frame does not declare its size"));
  }
  reject = ChunkReject::kSizeMismatch;
  if (declared != expected_raw_bytes) {
    return absl::DataLossError(absl::StrCat("chunk ", name, ": frame declares ", declared,
                                            " bytes, the manifest says ", expected_raw_bytes));
  }
  reject = ChunkReject::kCorrupt;
  Bytes raw(expected_raw_bytes);
  const size_t n = ZSTD_decompress(raw.data(), raw.size(), stored.data(), stored.size());
  if (ZSTD_isError(n)) {
    return absl::DataLossError(absl::StrCat("chunk ", name, ": zstd: ", ZSTD_getErrorName(n)));
  }
  if (n != expected_raw_bytes) {
    return absl::DataLossError(absl::StrCat("chunk ", name, ": decompressed to ", n, " bytes, expected ",
                                            expected_raw_bytes));
  }
  reject = ChunkReject::kHashMismatch;
  const ChunkId got = ChunkIdOf(raw);
  if (got != id) {
    return absl::DataLossError(absl::StrCat("chunk ", name, ": content hashes to ",
                                            ToHex(ByteSpan(got.data(), 8)), "..., not its name"));
  }
  reject = ChunkReject::kNone;
  return raw;
}

}  // namespace swarm::chunks
