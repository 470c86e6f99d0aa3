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
// members), e.g. "add_node_prob=0.05"; unknown keys and unparsable values are
// InvalidArgument naming them. The result is validated.
Status ApplyNeatOverride(NeatConfig& cfg, const std::string& key_value);
}  // namespace swarm::evo
