// Checkpoint file of an evolution run (`swarm evolve --checkpoint F --resume`).
//
//   {"format":"swarm.evo.checkpoint","version":1,
//    "sha3_256":"<hex of SHA3-256 over the body's JSON text>",
//    "body":{"task":"xor","seed":1,"islands_count":2,"generation":..,
//            "migrations":..,"islands":[{...IslandState, genomes as
//            canonical genome JSON strings...}]}}
//
// DecodeCheckpoint checks the format name, the version, the checksum, every
// field's type and every genome (validating decoder); errors name the field.
// It never throws or aborts. Whether the state fits the run (task, island
// count, population size, shapes) is checked by the caller and by
// Archipelago::Load. Pure: the file I/O is evo_runtime/checkpoint_file.h.
#pragma once

#include <string>
#include <string_view>

#include "evo/archipelago.h"

namespace swarm::evo {

constexpr int kCheckpointVersion = 1;
constexpr size_t kCheckpointBytesMax = 1ull << 30;

struct EvolveCheckpoint {
  std::string task;
  uint64_t seed = 0;
  ArchipelagoState state;
};

std::string EncodeCheckpoint(const EvolveCheckpoint& c);
StatusOr<EvolveCheckpoint> DecodeCheckpoint(std::string_view text);

}  // namespace swarm::evo
