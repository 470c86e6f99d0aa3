// NEAT genomes: node genes and connection genes with swarm-wide innovation ids.
//
// Innovation rule (no coordination between islands or peers is needed):
//   * Fixed nodes: the bias node has id 0, inputs 1..I, outputs I+1..I+O.
//   * A connection gene's innovation is ConnectionInnovation(in, out), a 64-bit
//     mix of the (in-node, out-node) pair. The same structural link therefore
//     has the same innovation in every island, run and peer.
//   * A hidden node created by splitting the connection with innovation c gets
//     id SplitNodeId(c, k) where k is the smallest k >= 0 such that the node is
//     not already in the genome (k > 0 only when a re-enabled link is split
//     again). Two genomes that split the same link get the same node id.
//   Because these ids carry no creation order, "excess" and "disjoint" genes
//   are not distinguished: every non-matching gene counts as disjoint.
//
// Genome is a plain value type: nodes sorted by id, connections sorted by
// innovation (kept so by the mutation operators and the decoder). Not
// thread-safe for concurrent mutation; const access may be shared.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace swarm::evo {

using NodeId = uint64_t;
using Innovation = uint64_t;

enum class NodeKind : uint8_t { kBias = 0, kInput = 1, kOutput = 2, kHidden = 3 };
const char* NodeKindName(NodeKind k);

struct NodeGene {
  NodeId id = 0;
  NodeKind kind = NodeKind::kHidden;
  bool operator==(const NodeGene&) const = default;
};

struct ConnGene {
  Innovation innovation = 0;
  NodeId in = 0;
  NodeId out = 0;
  double weight = 0;
  bool enabled = true;
  bool operator==(const ConnGene&) const = default;
};

Innovation ConnectionInnovation(NodeId in, NodeId out);
NodeId SplitNodeId(Innovation split, uint32_t k);

struct Genome {
  uint32_t inputs = 0;   // not counting the bias
  uint32_t outputs = 0;
  bool feed_forward = true;  // false: recurrent links (cycles, self-loops) allowed
  std::vector<NodeGene> nodes;        // sorted by id
  std::vector<ConnGene> connections;  // sorted by innovation

  bool operator==(const Genome&) const = default;

  NodeId BiasId() const { return 0; }
  NodeId InputId(uint32_t i) const { return 1 + i; }
  NodeId OutputId(uint32_t o) const { return 1 + inputs + o; }
  bool HasNode(NodeId id) const;
  const NodeGene* FindNode(NodeId id) const;
  const ConnGene* FindConnection(Innovation innov) const;
  ConnGene* FindConnection(Innovation innov);
  size_t HiddenCount() const { return nodes.size() - 1 - inputs - outputs; }
  size_t EnabledCount() const;

  // Inserts keeping sort order. The caller guarantees uniqueness.
  void InsertNode(NodeGene n);
  void InsertConnection(ConnGene c);

  // True when enabled links (plus the candidate in->out if given) contain a
  // directed path from `from` to `to`.
  bool HasPath(NodeId from, NodeId to) const;
};

// A genome with only the fixed nodes and, when `connect` is true, every
// bias/input node linked to every output with weight 0 (weights are set by
// the caller).
Genome MinimalGenome(uint32_t inputs, uint32_t outputs, bool feed_forward, bool connect);

// Checks every structural invariant (sorted unique ids, fixed nodes present
// with the right kinds, links refer to existing nodes, no link into a bias or
// input node, innovation == ConnectionInnovation(in, out), finite weights
// within |w| <= weight_abs_max, no cycle among enabled or disabled links of a
// feed-forward genome). Returns the first violation, naming it.
Status ValidateGenome(const Genome& g, double weight_abs_max);

// 64-bit content hash of the genome's structure and weights (for ties,
// dedup and logs; not cryptographic).
uint64_t GenomeHash64(const Genome& g);

}  // namespace swarm::evo
