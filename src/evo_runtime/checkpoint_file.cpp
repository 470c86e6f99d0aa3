#include "evo_runtime/checkpoint_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/file.h"

namespace swarm::evo {

Status WriteCheckpointFile(const std::string& path, const EvolveCheckpoint& c) {
  const Status s = WriteFileAtomic(path, EncodeCheckpoint(c), {.mode = 0644});
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("checkpoint ", s.message()));
}

StatusOr<EvolveCheckpoint> ReadCheckpointFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("checkpoint '", path, "': cannot open"));
  std::ostringstream ss;
  ss << in.rdbuf();
  auto c = DecodeCheckpoint(ss.str());
  if (!c.ok()) return absl::Status(c.status().code(), absl::StrCat(path, ": ", c.status().message()));
  return c;
}

}  // namespace swarm::evo
