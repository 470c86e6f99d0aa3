// Small RNS helpers shared by the CKKS encoder and evaluator (internal).
#pragma once

#include <vector>

#include "fhe/rns.h"

namespace swarm::fhe {

// x (an integer-valued finite double of any size) reduced mod m.
uint64_t ReduceIntegralDouble(double x, const Modulus& m);
// Coefficient form rows q_0..q_level -> centered integers as doubles (CRT).
std::vector<double> CenteredToDouble(const Context& ctx, const RnsPoly& p, size_t level);

}  // namespace swarm::fhe
