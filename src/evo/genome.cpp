#include "evo/genome.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace swarm::evo {
namespace {

uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t kHiddenBit = 1ULL << 63;

}  // namespace

const char* NodeKindName(NodeKind k) {
  switch (k) {
    case NodeKind::kBias: return "bias";
    case NodeKind::kInput: return "input";
    case NodeKind::kOutput: return "output";
    case NodeKind::kHidden: return "hidden";
  }
  return "?";
}

Innovation ConnectionInnovation(NodeId in, NodeId out) {
  return Mix64(Mix64(in ^ 0x5851f42d4c957f2dULL) + out * 0x9e3779b97f4a7c15ULL + 1);
}

NodeId SplitNodeId(Innovation split, uint32_t k) {
  return Mix64(split ^ (0xd1b54a32d192ed03ULL * (k + 1))) | kHiddenBit;
}

const NodeGene* Genome::FindNode(NodeId id) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), id,
                             [](const NodeGene& n, NodeId v) { return n.id < v; });
  return (it != nodes.end() && it->id == id) ? &*it : nullptr;
}

bool Genome::HasNode(NodeId id) const { return FindNode(id) != nullptr; }

const ConnGene* Genome::FindConnection(Innovation innov) const {
  auto it = std::lower_bound(connections.begin(), connections.end(), innov,
                             [](const ConnGene& c, Innovation v) { return c.innovation < v; });
  return (it != connections.end() && it->innovation == innov) ? &*it : nullptr;
}

ConnGene* Genome::FindConnection(Innovation innov) {
  return const_cast<ConnGene*>(static_cast<const Genome*>(this)->FindConnection(innov));
}

size_t Genome::EnabledCount() const {
  return static_cast<size_t>(std::count_if(connections.begin(), connections.end(),
                                           [](const ConnGene& c) { return c.enabled; }));
}

void Genome::InsertNode(NodeGene n) {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), n.id,
                             [](const NodeGene& a, NodeId v) { return a.id < v; });
  nodes.insert(it, n);
}

void Genome::InsertConnection(ConnGene c) {
  auto it = std::lower_bound(connections.begin(), connections.end(), c.innovation,
                             [](const ConnGene& a, Innovation v) { return a.innovation < v; });
  connections.insert(it, c);
}

bool Genome::HasPath(NodeId from, NodeId to) const {
  // Over all links, enabled or not: a disabled link may be re-enabled later.
  if (from == to) return true;
  std::unordered_map<NodeId, std::vector<NodeId>> adj;
  for (const auto& c : connections) adj[c.in].push_back(c.out);
  std::vector<NodeId> stack{from};
  std::unordered_set<NodeId> seen{from};
  while (!stack.empty()) {
    NodeId n = stack.back();
    stack.pop_back();
    auto it = adj.find(n);
    if (it == adj.end()) continue;
    for (NodeId m : it->second) {
      if (m == to) return true;
      if (seen.insert(m).second) stack.push_back(m);
    }
  }
  return false;
}

Genome MinimalGenome(uint32_t inputs, uint32_t outputs, bool feed_forward, bool connect) {
  Genome g;
  g.inputs = inputs;
  g.outputs = outputs;
  g.feed_forward = feed_forward;
  g.nodes.push_back({0, NodeKind::kBias});
  for (uint32_t i = 0; i < inputs; ++i) g.nodes.push_back({g.InputId(i), NodeKind::kInput});
  for (uint32_t o = 0; o < outputs; ++o) g.nodes.push_back({g.OutputId(o), NodeKind::kOutput});
  if (connect) {
    for (uint32_t o = 0; o < outputs; ++o) {
      for (uint32_t i = 0; i <= inputs; ++i) {
        const NodeId in = i == 0 ? 0 : g.InputId(i - 1);
        const NodeId out = g.OutputId(o);
        g.connections.push_back({ConnectionInnovation(in, out), in, out, 0.0, true});
      }
    }
    std::sort(g.connections.begin(), g.connections.end(),
              [](const ConnGene& a, const ConnGene& b) { return a.innovation < b.innovation; });
  }
  return g;
}

Status ValidateGenome(const Genome& g, double weight_abs_max) {
  const uint64_t fixed = 1ULL + g.inputs + g.outputs;
  if (g.nodes.size() < fixed) {
    return absl::InvalidArgumentError(absl::StrCat("genome has ", g.nodes.size(),
                                                   " nodes, fewer than the ", fixed,
                                                   " fixed bias/input/output nodes"));
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const NodeGene& n = g.nodes[i];
    if (i > 0 && g.nodes[i - 1].id >= n.id) {
      return absl::InvalidArgumentError(
          absl::StrCat("nodes[", i, "].id = ", n.id, " is duplicate or out of order"));
    }
    NodeKind want = NodeKind::kHidden;
    if (i == 0) want = NodeKind::kBias;
    else if (i <= g.inputs) want = NodeKind::kInput;
    else if (i < fixed) want = NodeKind::kOutput;
    if (i < fixed && n.id != i) {
      return absl::InvalidArgumentError(
          absl::StrCat("nodes[", i, "].id = ", n.id, ", expected fixed node id ", i));
    }
    if (n.kind != want) {
      return absl::InvalidArgumentError(absl::StrCat("nodes[", i, "] (id ", n.id, ") has kind '",
                                                     NodeKindName(n.kind), "', expected '",
                                                     NodeKindName(want), "'"));
    }
    if (want == NodeKind::kHidden && (n.id & kHiddenBit) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("nodes[", i, "].id = ", n.id, " is not a valid hidden node id (top bit clear)"));
    }
  }
  for (size_t i = 0; i < g.connections.size(); ++i) {
    const ConnGene& c = g.connections[i];
    if (i > 0 && g.connections[i - 1].innovation >= c.innovation) {
      return absl::InvalidArgumentError(absl::StrCat(
          "connections[", i, "].innovation = ", c.innovation, " is duplicate or out of order"));
    }
    const NodeGene* in = g.FindNode(c.in);
    const NodeGene* out = g.FindNode(c.out);
    if (in == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("connections[", i, "].in = ", c.in, " refers to no node (dangling)"));
    }
    if (out == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("connections[", i, "].out = ", c.out, " refers to no node (dangling)"));
    }
    if (out->kind == NodeKind::kBias || out->kind == NodeKind::kInput) {
      return absl::InvalidArgumentError(absl::StrCat("connections[", i, "].out = ", c.out,
                                                     " is a ", NodeKindName(out->kind),
                                                     " node; links may not enter it"));
    }
    if (c.innovation != ConnectionInnovation(c.in, c.out)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "connections[", i, "].innovation = ", c.innovation,
          " does not match the swarm-wide rule for (", c.in, " -> ", c.out, ")"));
    }
    if (!std::isfinite(c.weight) || std::fabs(c.weight) > weight_abs_max) {
      return absl::InvalidArgumentError(absl::StrCat("connections[", i, "].weight = ", c.weight,
                                                     " is not finite or exceeds ",
                                                     weight_abs_max));
    }
  }
  if (g.feed_forward) {
    // Kahn's algorithm over all links; leftover nodes lie on a cycle.
    std::unordered_map<NodeId, int> indeg;
    std::unordered_map<NodeId, std::vector<NodeId>> adj;
    for (const auto& n : g.nodes) indeg[n.id] = 0;
    for (const auto& c : g.connections) {
      adj[c.in].push_back(c.out);
      ++indeg[c.out];
    }
    std::vector<NodeId> ready;
    for (const auto& [id, d] : indeg)
      if (d == 0) ready.push_back(id);
    size_t done = 0;
    while (!ready.empty()) {
      NodeId n = ready.back();
      ready.pop_back();
      ++done;
      for (NodeId m : adj[n])
        if (--indeg[m] == 0) ready.push_back(m);
    }
    if (done != g.nodes.size()) {
      NodeId on_cycle = 0;
      for (const auto& n : g.nodes)
        if (indeg[n.id] > 0) { on_cycle = n.id; break; }
      return absl::InvalidArgumentError(absl::StrCat(
          "feed-forward genome contains a cycle (through node ", on_cycle, ")"));
    }
  }
  return absl::OkStatus();
}

uint64_t GenomeHash64(const Genome& g) {
  uint64_t h = Mix64(g.inputs * 0x100000001b3ULL + g.outputs + (g.feed_forward ? 7 : 0));
  for (const auto& n : g.nodes) h = Mix64(h ^ n.id ^ (static_cast<uint64_t>(n.kind) << 56));
  for (const auto& c : g.connections) {
    uint64_t w;
    std::memcpy(&w, &c.weight, sizeof w);
    h = Mix64(h ^ c.innovation);
    h = Mix64(h ^ w ^ (c.enabled ? 1 : 0));
  }
  return h;
}

}  // namespace swarm::evo
