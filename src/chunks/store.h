// CheckpointDir: a peer's checkpoints on disk — the I/O adapter around the
// pure chunker, manifest codec and chunk codec.
//
// Layout of a directory D:
//   D/chunks/ab/abcd…(64 hex).zst   one file per distinct chunk (a zstd frame,
//                                   chunks/chunk.h), kept once whatever number
//                                   of checkpoints, blobs or replicas use it
//   D/manifests/<label>.swck        one encoded manifest per checkpoint
//   D/LOCK                          flock: writers share it, gc/remove take it
//                                   alone (never held across calls)
//
// Write order (crash safety): every chunk file is written to a temporary name
// and renamed; then every chunk file the checkpoint uses (new or found) and
// their directories are fsynced; only then is the manifest written with
// common/file.h WriteFileAtomic (temp + fsync + link + directory fsync). A
// writer killed at any moment leaves either no manifest or a complete one
// whose chunks are all on disk, so List() never shows a half-written
// checkpoint. Leftover temporary files and chunks of unfinished writes are
// removed by Gc().
//
// A chunk file that already exists is trusted to hold its chunk (it is not
// re-read on write); Verify() re-reads and re-hashes everything.
//
// Errors (absl::Status, every message names the path or label): NotFound
// (no such checkpoint / chunk file), AlreadyExists (a checkpoint with that
// label, an existing restore target), DataLoss (a manifest or chunk that
// fails to decode or hash), InvalidArgument (bad names, limits),
// Unavailable (the lock is busy past lock_wait_ms), Internal (other I/O).
// Thread-safety: one CheckpointDir may be used from several threads; several
// processes may write to one directory at once (shared lock); Gc and Remove
// exclude writers of every process.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chunks/fastcdc.h"
#include "chunks/manifest.h"
#include "chunks/plan.h"
#include "common/status.h"

namespace swarm::chunks {

struct CheckpointDirOptions {
  ChunkerParams chunker;
  int compression_level = 3;  // zstd level for new chunks
  // false: no fsync at all (simulations and benchmarks that leave the disk
  // out); crash safety then only holds against process death.
  bool sync = true;
  int64_t lock_wait_ms = 30000;
};

// What one Write did. new + dedup = the checkpoint's raw bytes.
struct WriteStats {
  uint64_t blobs = 0;
  uint64_t chunk_refs = 0;      // chunks of all blobs, with repeats
  uint64_t chunks_unique = 0;   // distinct chunks the checkpoint uses
  uint64_t chunks_new = 0;      // of those, not on disk before
  uint64_t bytes_raw = 0;       // all blobs' bytes
  uint64_t bytes_new = 0;       // raw bytes of the new chunks
  uint64_t bytes_dedup = 0;     // raw bytes not written: found on disk or repeated
  uint64_t bytes_stored = 0;    // compressed bytes written for new chunks
  double seconds = 0;           // wall time of the whole write
};

struct WriteResult {
  Manifest manifest;
  crypto::MerkleHash root{};
  WriteStats stats;
};

struct ListedCheckpoint {
  std::string label;              // from the file name
  std::string path;
  std::optional<Manifest> manifest;  // empty if the file does not decode
  std::string error;                 // why it does not
  uint64_t file_bytes = 0;
};

struct BadChunk {
  std::string blob;         // first blob that uses it
  size_t index_in_blob = 0;
  ChunkId id{};
  std::string path;
  std::string reason;
};

struct VerifyReport {
  bool ok = false;
  std::string manifest_error;     // the manifest itself is bad (then no chunk was read)
  std::optional<BadChunk> first_bad;
  uint64_t chunks_checked = 0;    // distinct chunks read and hashed
  uint64_t bytes_checked = 0;     // their raw bytes
  std::string ToString() const;
};

struct GcReport {
  uint64_t manifests = 0;         // checkpoints whose chunks were kept
  uint64_t chunks_kept = 0;
  uint64_t chunks_removed = 0;
  uint64_t bytes_removed = 0;     // on-disk (compressed) bytes
  uint64_t temp_files_removed = 0;
};

class CheckpointDir {
 public:
  // Opens (creating D, D/chunks, D/manifests if missing) a checkpoint dir.
  static StatusOr<std::unique_ptr<CheckpointDir>> Open(const std::string& dir,
                                                       const CheckpointDirOptions& options = {});
  // Opens an existing directory without creating anything (tools that only
  // read or clean: NotFound if D/manifests is missing).
  static StatusOr<std::unique_ptr<CheckpointDir>> OpenExisting(const std::string& dir,
                                                               const CheckpointDirOptions& options = {});

  const std::string& dir() const { return dir_; }

  // Writes a checkpoint of `blobs` under header.label (AlreadyExists if that
  // label is taken).
  StatusOr<WriteResult> Write(const CheckpointHeader& header, std::span<const BlobInput> blobs);

  // Every *.swck file in D/manifests, sorted by step then label; files that do
  // not decode are listed with their error (temporary files are not listed).
  StatusOr<std::vector<ListedCheckpoint>> List() const;
  // The newest decodable checkpoint (highest step, then label), NotFound if none.
  StatusOr<Manifest> Latest() const;
  // Where a run of `job` resumes from: the newest checkpoint, provided every
  // manifest in the directory decodes (an unknown version or damaged file is
  // FailedPrecondition naming the file and why: a resume must not silently
  // skip a newer checkpoint) and belongs to `job` (FailedPrecondition naming
  // both jobs). NotFound if the directory holds no checkpoint.
  StatusOr<Manifest> LatestForJob(const std::string& job) const;

  StatusOr<Manifest> ReadManifest(const std::string& label) const;
  // The bytes of one blob, every chunk checked against its id and the blob's
  // root (DataLoss naming the chunk otherwise).
  StatusOr<Bytes> ReadBlob(const Manifest& m, const std::string& blob_name) const;

  // Reads and checks every chunk of the checkpoint; stops at the first bad one.
  StatusOr<VerifyReport> Verify(const std::string& label) const;

  // Restores every blob of checkpoint `label` as a file <out_dir>/<blob name>.
  // out_dir must not exist; the files are assembled and checked in a sibling
  // temporary directory that is renamed to out_dir only when all are good
  // (never replacing anything); on failure nothing is left behind.
  Status Restore(const std::string& label, const std::string& out_dir) const;

  // Removes checkpoint `label`'s manifest (its chunks go at the next Gc).
  Status Remove(const std::string& label);

  // Removes chunk files no decodable manifest references and leftover
  // temporary files. Refuses (FailedPrecondition, naming the file) while a
  // manifest file does not decode: its chunks would look unreferenced.
  // keep_latest > 0 first removes all but the newest keep_latest checkpoints.
  StatusOr<GcReport> Gc(size_t keep_latest = 0);

  // Receiving a checkpoint from peers (with chunks/fetch.h):
  //   need = MissingChunks(m)  → ChunkFetcher(need, donors) → ImportChunk(e, stored)
  //   for each verified chunk → ImportManifest(m) once all are in.
  // The chunks `m` needs that are not on disk.
  std::vector<ChunkEntry> MissingChunks(const Manifest& m) const;
  // The stored (zstd) form of a chunk, read for serving to a peer; checked
  // like any read (DataLoss if the file does not hold `entry`).
  StatusOr<Bytes> ReadStoredChunk(const ChunkEntry& entry) const;
  // Stores one chunk received from a peer; checks it (OpenChunk) first, so a
  // chunk file always holds its chunk. Not durable until ImportManifest.
  Status ImportChunk(const ChunkEntry& entry, ByteSpan stored);
  // Writes `m` as a checkpoint once every chunk it names is on disk
  // (FailedPrecondition naming the first missing one otherwise); fsyncs the
  // chunks first, as Write does. AlreadyExists if the label is taken.
  Status ImportManifest(const Manifest& m);

  std::string ChunkPath(const ChunkId& id) const;
  std::string ManifestPath(const std::string& label) const;

 private:
  CheckpointDir(std::string dir, const CheckpointDirOptions& options, Chunker chunker);
  // Errors without the path (callers name it).
  StatusOr<Bytes> ReadChunk(const ChunkEntry& c) const;
  Status SyncChunks(const std::vector<ChunkId>& ids, bool new_fanout) const;
  std::string dir_;
  CheckpointDirOptions options_;
  Chunker chunker_;
};

}  // namespace swarm::chunks
