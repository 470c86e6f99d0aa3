// Genome decoder: any input either decodes into a genome that passes
// ValidateGenome, re-encodes to the same value and runs as a network, or is
// rejected with a status. Never crashes, throws or hangs.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <cstring>
#include <string>

#include "common/rng.h"
#include "evo/genome_codec.h"
#include "evo/network.h"
#include "evo/operators.h"

namespace {

// Odd first byte: start from a valid encoded genome (seeded by the next 8
// bytes) and apply the rest of the input as (position, byte) edits, so even a
// random-bytes driver reaches the decoder's semantic checks.
std::string StructuredInput(const uint8_t* data, size_t size) {
  uint64_t seed = 0;
  std::memcpy(&seed, data + 1, std::min<size_t>(8, size - 1));
  swarm::Rng rng(seed);
  swarm::evo::NeatConfig cfg;
  cfg.feed_forward = (seed & 1) != 0;
  swarm::evo::Genome g = swarm::evo::RandomInitialGenome(1 + seed % 3, 1 + (seed >> 8) % 2, cfg, rng);
  for (int i = 0; i < static_cast<int>((seed >> 16) % 12); ++i) {
    swarm::evo::MutateAddNode(g, cfg, rng);
    swarm::evo::MutateAddConnection(g, cfg, rng);
  }
  std::string text = swarm::evo::EncodeGenome(g);
  for (size_t i = 9; i + 1 < size && !text.empty(); i += 2) {
    const size_t pos = (static_cast<size_t>(data[i]) * 131 + i) % text.size();
    const uint8_t b = data[i + 1];
    if (b < 8) text.erase(pos, 1 + b);
    else if (b < 16) text.insert(pos, text.substr(pos / 2, 1 + b));
    else text[pos] = static_cast<char>(b);
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::evo;
  GenomeLimits lim;
  lim.hidden_max = 2000;
  lim.connections_max = 20000;
  std::string structured;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size >= 2 && (data[0] & 1)) {
    structured = StructuredInput(data, size);
    text = structured;
  }
  auto g = DecodeGenome(text, lim);
  if (!g.ok()) {
    if (g.status().message().empty()) std::abort();  // every rejection has a reason
    return 0;
  }
  if (!ValidateGenome(*g, lim.weight_abs_max).ok()) std::abort();
  auto again = DecodeGenome(EncodeGenome(*g), lim);
  if (!again.ok() || !(*again == *g)) std::abort();
  if (g->inputs <= 64) {
    Network net(*g);
    std::vector<double> in(g->inputs, 0.5);
    for (int t = 0; t < 3; ++t)
      for (double o : net.Activate(in))
        if (std::isnan(o)) std::abort();
  }
  return 0;
}
