#include "chunks/plan.h"

#include <map>

#include "chunks/chunk.h"

namespace swarm::chunks {

StatusOr<CheckpointPlan> PlanCheckpoint(const Chunker& chunker, const CheckpointHeader& header,
                                        std::span<const BlobInput> blobs) {
  SWARM_RETURN_IF_ERROR(ValidateLabel(header.label));
  SWARM_RETURN_IF_ERROR(ValidateJob(header.job));
  if (blobs.size() > kManifestBlobsMax) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint has ", blobs.size(), " blobs, limit ",
                                                   kManifestBlobsMax));
  }
  CheckpointPlan plan;
  std::vector<BlobChunks> lists;
  std::map<ChunkId, ByteSpan> first_seen;
  lists.reserve(blobs.size());
  size_t refs = 0;
  for (const BlobInput& b : blobs) {
    SWARM_RETURN_IF_ERROR(ValidateBlobName(b.name));
    BlobChunks list{b.name, {}};
    ByteSpan rest = b.data;
    while (!rest.empty()) {
      const size_t len = chunker.NextChunkBytes(rest);
      const ByteSpan raw = rest.first(len);
      const ChunkId id = ChunkIdOf(raw);
      list.chunks.push_back({id, static_cast<uint32_t>(len)});
      first_seen.emplace(id, raw);
      rest = rest.subspan(len);
      if (++refs > kManifestRefsMax) {
        return absl::InvalidArgumentError(absl::StrCat("checkpoint needs more than ", kManifestRefsMax,
                                                       " chunk references (blob '", b.name, "')"));
      }
    }
    plan.raw_bytes_total += b.data.size();
    lists.push_back(std::move(list));
  }
  SWARM_ASSIGN_OR_RETURN(plan.manifest, BuildManifest(header.job, header.label, header.step,
                                                      header.created_unix_ms, std::move(lists)));
  plan.unique_chunks.reserve(plan.manifest.chunks.size());
  for (const ChunkEntry& c : plan.manifest.chunks) plan.unique_chunks.push_back({c.id, first_seen.at(c.id)});
  return plan;
}

}  // namespace swarm::chunks
