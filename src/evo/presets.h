// NEAT parameter sets per built-in task (docs/neat.md explains each choice).
#pragma once

#include <string>

#include "evo/neat_config.h"
#include "evo/task.h"

namespace swarm::evo {

// "xor", "single-pole", "double-pole", "double-pole-nv". Unknown names are
// an InvalidArgument listing the known ones.
StatusOr<NeatConfig> PresetConfig(const std::string& task);
// A new built-in task by name (same names).
StatusOr<std::unique_ptr<Task>> MakeBuiltinTask(const std::string& task);

}  // namespace swarm::evo

namespace swarm::evo {
// Applies "key=value" to a NeatConfig field (same names as the struct
// members), e.g. "add_node_prob=0.05". The value may come from a peer
// (IslandStep.neat_overrides). InvalidArgument naming the field and the value
// for: an unknown key, a value that is not a number, NaN or infinite,
// negative, not a whole number in [0, 2^32-1] for a count field, not 0 or 1
// for a flag, or a result that fails NeatConfig::Validate. On error `cfg` is
// left unchanged.
Status ApplyNeatOverride(NeatConfig& cfg, const std::string& key_value);
}  // namespace swarm::evo
