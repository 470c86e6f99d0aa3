// NEAT overrides ("key=value" strings a peer's IslandStep carries): any input
// is either applied, leaving a config that passes Validate, or rejected with a
// status and the config unchanged. Never crashes (no out-of-range casts of
// NaN, Inf or huge values).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "evo/presets.h"

namespace {

// The keys, so random inputs reach the value checks.
constexpr const char* kKeys[] = {"population_size", "feed_forward", "target_species", "add_node_prob",
                                 "stagnation_generations", "weight_abs_max", "check_species_in_turn"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string kv(reinterpret_cast<const char*>(data), size);
  if (size > 0 && (data[0] & 1) != 0) {
    kv = std::string(kKeys[(data[0] >> 1) % (sizeof(kKeys) / sizeof(kKeys[0]))]) + "=" + kv.substr(1);
  }
  swarm::evo::NeatConfig c;
  const uint32_t before = c.population_size;
  const auto s = swarm::evo::ApplyNeatOverride(c, kv);
  if (s.ok()) {
    if (!c.Validate().ok()) std::abort();
  } else if (c.population_size != before) {
    std::abort();
  }
  return 0;
}
