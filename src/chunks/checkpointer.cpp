#include "chunks/checkpointer.h"

#include <cstdio>

namespace swarm::chunks {

StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Open(const CheckpointerOptions& options) {
  if (options.every_rounds == 0) return absl::InvalidArgumentError("checkpointer: every_rounds must be >= 1");
  if (options.dir.empty()) return absl::InvalidArgumentError("checkpointer: empty dir");
  SWARM_RETURN_IF_ERROR(ValidateJob(options.job));
  SWARM_ASSIGN_OR_RETURN(auto dir, CheckpointDir::Open(options.dir, options.store));
  return std::unique_ptr<Checkpointer>(new Checkpointer(options, std::move(dir)));
}

std::string Checkpointer::LabelFor(uint64_t round) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "step-%020llu", static_cast<unsigned long long>(round));
  return buf;
}

StatusOr<std::optional<WriteResult>> Checkpointer::MaybeWrite(
    uint64_t round, const std::vector<std::pair<std::string, ByteSpan>>& blobs) {
  if (round == 0 || round % options_.every_rounds != 0) return std::optional<WriteResult>();
  std::vector<BlobInput> in;
  in.reserve(blobs.size());
  for (const auto& [name, data] : blobs) in.push_back({name, data});
  SWARM_ASSIGN_OR_RETURN(WriteResult r, dir_->Write({.job = options_.job, .label = LabelFor(round), .step = round}, in));
  if (options_.keep_latest > 0) SWARM_RETURN_IF_ERROR(dir_->Gc(options_.keep_latest).status());
  return std::optional<WriteResult>(std::move(r));
}

StatusOr<ResumePoint> Checkpointer::Resume() const {
  ResumePoint p;
  SWARM_ASSIGN_OR_RETURN(p.manifest, dir_->LatestForJob(options_.job));
  p.step = p.manifest.step;
  p.root = ManifestRoot(p.manifest);
  for (const BlobEntry& b : p.manifest.blobs) {
    SWARM_ASSIGN_OR_RETURN(Bytes bytes, dir_->ReadBlob(p.manifest, b.name));
    p.blobs.emplace(b.name, std::move(bytes));
  }
  return p;
}

}  // namespace swarm::chunks
