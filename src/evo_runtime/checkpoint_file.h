// The checkpoint file of `swarm evolve --checkpoint F --resume`: the bytes are
// evo/checkpoint.h's (EncodeCheckpoint / DecodeCheckpoint); this is the file.
//
// WriteCheckpointFile replaces F durably and atomically (common/file.h: a
// temporary beside F, fsync, rename, fsync of the folder; mode 0644).
// ReadCheckpointFile reads F and decodes it (the decoder refuses more than
// kCheckpointBytesMax bytes);
// errors name the path (NotFound when F cannot be opened, the decoder's error
// otherwise). Thread-safe: no shared state.
#pragma once

#include <string>

#include "evo/checkpoint.h"

namespace swarm::evo {

Status WriteCheckpointFile(const std::string& path, const EvolveCheckpoint& c);
StatusOr<EvolveCheckpoint> ReadCheckpointFile(const std::string& path);

}  // namespace swarm::evo
