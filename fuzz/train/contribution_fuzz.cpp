// Fuzz target: the averaging contribution decoder (peer input).
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "train/contribution_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  swarm::train::ContributionLimits limits;
  limits.dim_max = 1 << 16;
  auto d = swarm::train::DecodeContribution(swarm::ByteSpan(data, size), limits);
  if (d.ok()) {
    // Postcondition: a decoded contribution is dense with dim elements.
    if (d->values.empty() || d->values.size() > limits.dim_max) __builtin_trap();
    // Re-encoding as f32 and decoding again is the identity on the values.
    auto again = swarm::train::DecodeContribution(
        swarm::train::EncodeContributionF32(d->header, d->values), limits);
    if (!again.ok() || again->values.size() != d->values.size()) __builtin_trap();
  }
  return 0;
}
