// Cutting a checkpoint into chunks, without I/O: the pure half of a write.
//
// PlanCheckpoint chunks every blob (chunks/fastcdc.h), names every chunk
// (SHA3-256) and builds the manifest (chunks/manifest.h). The plan's
// `unique_chunks` are the distinct chunks in manifest-table order, each a view
// into the caller's blob bytes: the store adapter (chunks/store.h) writes the
// ones it does not hold yet, then the manifest.
//
// Errors: InvalidArgument for a bad label, job or blob name, two blobs with
// one name, or a checkpoint over the manifest limits.
// Lifetime: the spans in the plan point into `blobs`' data.
// Thread-safety: pure.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "chunks/fastcdc.h"
#include "chunks/manifest.h"

namespace swarm::chunks {

struct CheckpointHeader {
  std::string job;
  std::string label;
  uint64_t step = 0;
  uint64_t created_unix_ms = 0;
};

struct BlobInput {
  std::string name;
  ByteSpan data;
};

struct PlannedChunk {
  ChunkId id{};
  ByteSpan raw;  // one occurrence of the chunk in the caller's blobs
};

struct CheckpointPlan {
  Manifest manifest;
  std::vector<PlannedChunk> unique_chunks;  // parallel to manifest.chunks
  uint64_t raw_bytes_total = 0;             // all blobs' bytes
};

StatusOr<CheckpointPlan> PlanCheckpoint(const Chunker& chunker, const CheckpointHeader& header,
                                        std::span<const BlobInput> blobs);

}  // namespace swarm::chunks
