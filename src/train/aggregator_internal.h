// Shared between aggregator.cpp and robust_aggregators.cpp; not a public API.
#pragma once

#include <span>
#include <vector>

#include "train/aggregator.h"

namespace swarm::train {

// Coordinates per parallel task; reductions are summed per chunk of this many
// coordinates and then in chunk order, so results do not depend on threads.
inline constexpr size_t kAggregatorChunk = 64 * 1024;

// Coordinate-wise median of the (validated, finite) inputs into `v`, and for
// chunk c (kAggregatorChunk coordinates) and input i,
// partial[c * n + i] = sum over the chunk of (x_i - v)^2 — in one pass over
// the inputs (CenteredClip's start). parallel_for may be empty.
void MedianAndChunkDistances(std::span<const Contribution> in, std::span<float> v,
                             std::vector<double>& partial, const ParallelFor& parallel_for);

}  // namespace swarm::train
