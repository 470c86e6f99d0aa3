#include "evo/network.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace swarm::evo {

Network::Network(const Genome& g)
    : inputs_(g.inputs), outputs_(g.outputs), recurrent_(!g.feed_forward) {
  const size_t n = g.nodes.size();
  value_.assign(n, 0.0);
  next_.assign(n, 0.0);
  std::unordered_map<NodeId, uint32_t> index;
  index.reserve(n * 2);
  for (uint32_t i = 0; i < n; ++i) index[g.nodes[i].id] = i;
  std::vector<std::vector<std::pair<uint32_t, double>>> incoming(n);
  std::vector<std::vector<uint32_t>> outgoing(n);
  std::vector<int> indeg(n, 0);
  for (const auto& c : g.connections) {
    if (!c.enabled) continue;
    const uint32_t a = index.at(c.in), b = index.at(c.out);
    incoming[b].push_back({a, c.weight});
    outgoing[a].push_back(b);
    ++indeg[b];
  }
  // Kahn's algorithm, lowest dense index first for determinism.
  std::vector<uint32_t> order;
  std::vector<char> placed(n, 0);
  std::vector<uint32_t> ready;
  for (uint32_t i = 0; i < n; ++i)
    if (indeg[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    std::sort(ready.begin(), ready.end(), std::greater<>());
    const uint32_t v = ready.back();
    ready.pop_back();
    order.push_back(v);
    placed[v] = 1;
    for (uint32_t m : outgoing[v])
      if (--indeg[m] == 0) ready.push_back(m);
  }
  for (uint32_t i = 0; i < n; ++i)
    if (!placed[i]) order.push_back(i);  // on or behind a cycle (recurrent only)
  if (recurrent_) {
    // Synchronous update: the order does not matter; use node order.
    order.clear();
    for (uint32_t i = 0; i < n; ++i) order.push_back(i);
  }
  const uint32_t fixed_inputs = 1 + g.inputs;
  for (uint32_t v : order) {
    if (v < fixed_inputs) continue;  // bias and inputs are set, not computed
    Step s{v, static_cast<uint32_t>(src_.size()), 0};
    for (const auto& [a, w] : incoming[v]) {
      src_.push_back(a);
      w_.push_back(w);
    }
    s.end = static_cast<uint32_t>(src_.size());
    steps_.push_back(s);
  }
  for (uint32_t o = 0; o < g.outputs; ++o) output_index_.push_back(index.at(g.OutputId(o)));
  out_.assign(g.outputs, 0.0);
  value_[0] = 1.0;
}

std::span<const double> Network::Activate(std::span<const double> inputs) {
  const size_t k = std::min(inputs.size(), inputs_);
  value_[0] = 1.0;
  for (size_t i = 0; i < k; ++i) value_[1 + i] = inputs[i];
  if (recurrent_) {
    for (const Step& s : steps_) {
      double sum = 0;
      for (uint32_t j = s.begin; j < s.end; ++j) sum += value_[src_[j]] * w_[j];
      next_[s.node] = NeatSigmoid(sum);
    }
    for (const Step& s : steps_) value_[s.node] = next_[s.node];
  } else {
    for (const Step& s : steps_) {
      double sum = 0;
      for (uint32_t j = s.begin; j < s.end; ++j) sum += value_[src_[j]] * w_[j];
      value_[s.node] = NeatSigmoid(sum);
    }
  }
  for (size_t o = 0; o < outputs_; ++o) out_[o] = value_[output_index_[o]];
  return out_;
}

void Network::Reset() {
  std::fill(value_.begin(), value_.end(), 0.0);
  value_[0] = 1.0;
}

}  // namespace swarm::evo
