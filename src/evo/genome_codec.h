// Genome wire/text format (JSON) and its validating decoder.
//
//   {"format":"swarm.neat.genome","version":1,"inputs":2,"outputs":1,
//    "feed_forward":true,"hidden":[9223372036854775809, ...],
//    "connections":[{"innov":N,"in":0,"out":3,"weight":0.5,"enabled":true}, ...]}
//
// Bias/input/output nodes are implied by "inputs"/"outputs" (genome.h ids);
// "hidden" lists hidden node ids. EncodeGenome is canonical: the same genome
// always gives the same bytes (sorted keys, shortest round-trip doubles), so
// a hash of the encoding identifies a genome across peers.
//
// DecodeGenome never throws or aborts on any input: it returns
// InvalidArgument naming the field and value for malformed JSON, wrong types,
// unknown format/version, sizes above the limits, dangling node references,
// duplicate hidden ids or innovations, innovations that break the swarm-wide
// rule, NaN/Inf or out-of-range weights, and cycles in a feed-forward genome.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "evo/genome.h"

namespace swarm::evo {

struct GenomeLimits {
  size_t genome_bytes_max = 4 << 20;
  uint32_t inputs_max = 4096;
  uint32_t outputs_max = 4096;
  uint32_t hidden_max = 100'000;
  uint32_t connections_max = 1'000'000;
  double weight_abs_max = 1e6;
  uint32_t json_depth_max = 8;
};

std::string EncodeGenome(const Genome& g);
StatusOr<Genome> DecodeGenome(std::string_view text, const GenomeLimits& limits = {});

}  // namespace swarm::evo
