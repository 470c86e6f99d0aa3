// Checkpointer: what a trainer or expert host calls to checkpoint its state
// every K rounds and to resume from the newest checkpoint of its job — a thin
// policy over CheckpointDir (chunks/store.h).
//
//   auto cp = Checkpointer::Open({.dir = data_dir + "/checkpoints", .job = job_id,
//                                 .every_rounds = 10, .keep_latest = 3});
//   if (auto r = (*cp)->Resume(); r.ok()) { ...restore from r->blobs, start at r->step + 1 }
//   else if (!absl::IsNotFound(r.status())) fail(r.status());   // another job, unknown version
//   ...each round:
//   auto w = (*cp)->MaybeWrite(round, {{"params", bytes}, {"adam.m", m}, {"rng", rng}});
//   if (w.ok() && *w) metrics.Record((*w)->stats);              // node/checkpoint_metrics.h
//
// Labels are "step-<20-digit round>" so they sort by round. MaybeWrite writes
// when round % every_rounds == 0 (and round > 0), then removes all but the
// newest keep_latest checkpoints (keep_latest 0 keeps all) and their chunks.
// Errors: those of CheckpointDir (Write — AlreadyExists if that round was
// written before —, LatestForJob, ReadBlob, Gc); InvalidArgument for
// every_rounds == 0, an empty dir or a bad job name.
// Thread-safety: like CheckpointDir (one Checkpointer per writer is simplest).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chunks/store.h"

namespace swarm::chunks {

struct CheckpointerOptions {
  std::string dir;
  std::string job;
  uint64_t every_rounds = 10;
  size_t keep_latest = 3;
  CheckpointDirOptions store;
};

struct ResumePoint {
  Manifest manifest;
  uint64_t step = 0;
  crypto::MerkleHash root{};
  std::map<std::string, Bytes> blobs;  // every blob, checked against its chunks and root
};

class Checkpointer {
 public:
  static StatusOr<std::unique_ptr<Checkpointer>> Open(const CheckpointerOptions& options);

  static std::string LabelFor(uint64_t round);

  // Writes a checkpoint of `blobs` at `round` if it is due; nullopt if not.
  StatusOr<std::optional<WriteResult>> MaybeWrite(uint64_t round,
                                                  const std::vector<std::pair<std::string, ByteSpan>>& blobs);
  // The newest checkpoint of this job with all its blobs read and checked;
  // NotFound if there is none, FailedPrecondition for another job's directory
  // or an unreadable manifest (both named).
  StatusOr<ResumePoint> Resume() const;

  CheckpointDir& dir() { return *dir_; }

 private:
  Checkpointer(const CheckpointerOptions& o, std::unique_ptr<CheckpointDir> d) : options_(o), dir_(std::move(d)) {}
  CheckpointerOptions options_;
  std::unique_ptr<CheckpointDir> dir_;
};

}  // namespace swarm::chunks
