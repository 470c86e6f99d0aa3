// A checkpoint manifest: what a checkpoint holds, by content.
//
// A checkpoint is a set of named blobs (a tensor's bytes, optimizer state,
// trainer momenta, data-loader position, RNG state...). Each blob is cut into
// content-defined chunks (chunks/fastcdc.h); a chunk is named by the SHA3-256
// of its raw bytes. The manifest lists
//   - a header: job, label, step, creation time;
//   - a chunk table: every distinct chunk id the checkpoint needs, with its
//     raw size, sorted by id (a chunk named twice is refused);
//   - the blobs, sorted by name: size, the chunk table indices that make it
//     up in order (a blob may use the same chunk several times), and its
//     Merkle root over those chunk ids;
//   - the manifest root.
//
// Roots (crypto/merkle.h, RFC 6962 shape with SHA3-256):
//   BlobRoot     = MerkleRoot(MerkleLeafHash(chunk id) for each chunk, in order)
//   ManifestRoot = MerkleRoot([MerkleLeafHash(header bytes),
//                              MerkleLeafHash(name, size, BlobRoot) per blob])
// The manifest root binds job, label, step and every byte of every blob: it is
// the value a swarm agrees on (issue 17: committed to the ledger), and a peer
// that fetches chunks from untrusted donors checks each chunk against it.
//
// Encoding (canonical: exactly one byte string per manifest; big-endian):
//   "SWCK" u32 version
//   u16 len, job | u16 len, label | u64 step | u64 created_unix_ms
//   u32 n_chunks, n_chunks x (32-byte id, u32 raw_bytes)      ids ascending
//   u32 n_blobs, n_blobs x (u16 len, name, u64 size, u32 n_refs,
//                           n_refs x u32 chunk index, 32-byte blob root)
//   32-byte manifest root
// DecodeManifest refuses, naming the field (and offset or value): a wrong
// magic, an unknown version, truncation, trailing bytes, a size over
// kManifestBytesMax or any count over its limit, chunk ids not strictly
// ascending (a chunk named twice), an unused chunk-table entry, blob names not
// strictly ascending or outside the allowed characters, an index out of range,
// a blob size that is not the sum of its chunks, a root that does not match.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "chunks/fastcdc.h"
#include "common/bytes.h"
#include "common/status.h"
#include "crypto/merkle.h"

namespace swarm::chunks {

using ChunkId = crypto::Digest256;

constexpr uint32_t kManifestVersion = 1;
constexpr size_t kManifestBytesMax = 64u << 20;
constexpr size_t kManifestChunksMax = 1u << 20;
constexpr size_t kManifestBlobsMax = 1u << 16;
// All blobs' chunk references together.
constexpr size_t kManifestRefsMax = 4u << 20;
constexpr size_t kBlobNameBytesMax = 200;
constexpr size_t kLabelBytesMax = 128;
constexpr size_t kJobBytesMax = 128;

struct ChunkEntry {
  ChunkId id{};
  uint32_t raw_bytes = 0;  // 1..kChunkBytesMax
  bool operator==(const ChunkEntry&) const = default;
};

struct BlobEntry {
  // [A-Za-z0-9._:@+-], 1..kBlobNameBytesMax bytes, not starting with '.'
  // (a restore writes it as a file name).
  std::string name;
  uint64_t size = 0;            // sum of its chunks' raw_bytes
  std::vector<uint32_t> refs;   // indices into Manifest::chunks, in blob order
  crypto::MerkleHash root{};    // BlobRoot of the referenced ids
  bool operator==(const BlobEntry&) const = default;
};

struct Manifest {
  std::string job;              // printable ASCII, 0..kJobBytesMax bytes
  std::string label;            // [A-Za-z0-9._-], 1..kLabelBytesMax, not starting with '.'
  uint64_t step = 0;            // training round / step the checkpoint was taken at
  uint64_t created_unix_ms = 0;
  std::vector<ChunkEntry> chunks;  // ascending by id, each used by some blob
  std::vector<BlobEntry> blobs;    // ascending by name
  bool operator==(const Manifest&) const = default;
};

// Checks for one name of each kind (the error names the field and value).
Status ValidateLabel(const std::string& label);
Status ValidateBlobName(const std::string& name);
Status ValidateJob(const std::string& job);

crypto::MerkleHash BlobRoot(std::span<const ChunkId> ids_in_order);
crypto::MerkleHash ManifestRoot(const Manifest& m);

// Every rule DecodeManifest enforces, on a value.
Status ValidateManifest(const Manifest& m);

// One blob's chunks, in order, as (id, raw size); ids may repeat.
struct BlobChunks {
  std::string name;
  std::vector<ChunkEntry> chunks;
};
// Builds the chunk table, indices, sizes and roots from the blobs' chunk
// lists (any order of blobs; names must be distinct). InvalidArgument when a
// name or limit is violated, or one id is given with two sizes.
StatusOr<Manifest> BuildManifest(std::string job, std::string label, uint64_t step,
                                 uint64_t created_unix_ms, std::vector<BlobChunks> blobs);

// Validates, then encodes (see the layout above).
StatusOr<Bytes> EncodeManifest(const Manifest& m);
StatusOr<Manifest> DecodeManifest(ByteSpan bytes);

// The chunk ids of `blob` in order.
std::vector<ChunkId> BlobChunkIds(const Manifest& m, const BlobEntry& blob);

}  // namespace swarm::chunks
