// A phenotype: the neural network a Genome encodes, ready to activate.
//
// Nodes: bias (constant 1), inputs (copied), hidden and outputs
// (steepened sigmoid 1 / (1 + exp(-4.9 x)), as in the NEAT paper).
// Feed-forward genome: nodes are computed in a topological order of the
// enabled links, so one Activate call computes the network's function.
// Recurrent genome: synchronous update, as in the original NEAT code: the
// inputs are loaded, then every hidden/output node is computed from the
// values all nodes had before this call (so each link is a one-step delay,
// except that inputs are current). State is carried across calls until
// Reset(); this is what lets a network estimate velocities from positions.
//
// Thread-safety: a Network holds activation state; one per thread.
#pragma once

#include <cmath>
#include <span>
#include <vector>

#include "evo/genome.h"

namespace swarm::evo {

class Network {
 public:
  // The genome must be valid (ValidateGenome); disabled links are ignored.
  explicit Network(const Genome& g);

  // Sets the inputs (size == genome inputs), runs one pass, returns outputs.
  std::span<const double> Activate(std::span<const double> inputs);
  // Zeroes every node's state (recurrent networks between episodes).
  void Reset();

  size_t input_count() const { return inputs_; }
  size_t output_count() const { return outputs_; }

 private:
  struct Step {
    uint32_t node;        // dense index to compute
    uint32_t begin, end;  // range in src_/w_
  };
  size_t inputs_, outputs_;
  bool recurrent_;
  std::vector<double> value_;   // dense, index = position in genome.nodes
  std::vector<double> next_;    // recurrent: values being computed
  std::vector<Step> steps_;
  std::vector<uint32_t> src_;
  std::vector<double> w_;
  std::vector<uint32_t> output_index_;
  std::vector<double> out_;
};

inline double NeatSigmoid(double x) { return 1.0 / (1.0 + std::exp(-4.9 * x)); }

}  // namespace swarm::evo
