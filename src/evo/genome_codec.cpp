#include "evo/genome_codec.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace swarm::evo {
namespace {

using nlohmann::json;

constexpr char kFormat[] = "swarm.neat.genome";
constexpr int kVersion = 1;

// Nesting depth outside strings, so a deeply nested input is rejected before
// the parser builds (and later recursively destroys) it.
uint32_t NestingDepth(std::string_view s) {
  uint32_t depth = 0, max_depth = 0;
  bool in_string = false, escape = false;
  for (char c : s) {
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    else if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return max_depth;
}

Status Bad(const std::string& what) { return absl::InvalidArgumentError("genome: " + what); }

StatusOr<uint64_t> GetU64(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) return Bad(absl::StrCat(where, ".", key, " is missing"));
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    return Bad(absl::StrCat(where, ".", key, " = ", it->dump(), " is not a non-negative integer"));
  }
  return it->get<uint64_t>();
}

}  // namespace

std::string EncodeGenome(const Genome& g) {
  json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["inputs"] = g.inputs;
  j["outputs"] = g.outputs;
  j["feed_forward"] = g.feed_forward;
  json hidden = json::array();
  for (const auto& n : g.nodes)
    if (n.kind == NodeKind::kHidden) hidden.push_back(n.id);
  j["hidden"] = std::move(hidden);
  json conns = json::array();
  for (const auto& c : g.connections) {
    conns.push_back({{"innov", c.innovation},
                     {"in", c.in},
                     {"out", c.out},
                     {"weight", c.weight},
                     {"enabled", c.enabled}});
  }
  j["connections"] = std::move(conns);
  return j.dump();
}

StatusOr<Genome> DecodeGenome(std::string_view text, const GenomeLimits& lim) {
  if (text.size() > lim.genome_bytes_max) {
    return Bad(absl::StrCat("encoding is ", text.size(), " bytes, over genome_bytes_max ",
                            lim.genome_bytes_max));
  }
  if (const uint32_t d = NestingDepth(text); d > lim.json_depth_max) {
    return Bad(absl::StrCat("JSON nesting depth ", d, " exceeds ", lim.json_depth_max));
  }
  const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("not valid JSON");
  if (!j.is_object()) return Bad(absl::StrCat("top level is ", j.type_name(), ", not an object"));
  auto fmt = j.find("format");
  if (fmt == j.end() || !fmt->is_string() || fmt->get<std::string>() != kFormat) {
    return Bad(absl::StrCat("format = ", fmt == j.end() ? "(missing)" : fmt->dump(),
                            ", expected \"", kFormat, "\""));
  }
  SWARM_ASSIGN_OR_RETURN(uint64_t version, GetU64(j, "version", "genome"));
  if (version != kVersion) return Bad(absl::StrCat("version = ", version, " is not supported"));
  SWARM_ASSIGN_OR_RETURN(uint64_t inputs, GetU64(j, "inputs", "genome"));
  SWARM_ASSIGN_OR_RETURN(uint64_t outputs, GetU64(j, "outputs", "genome"));
  if (inputs > lim.inputs_max) return Bad(absl::StrCat("inputs = ", inputs, " exceeds ", lim.inputs_max));
  if (outputs == 0 || outputs > lim.outputs_max) {
    return Bad(absl::StrCat("outputs = ", outputs, " is not in [1, ", lim.outputs_max, "]"));
  }
  auto ff = j.find("feed_forward");
  if (ff == j.end() || !ff->is_boolean()) return Bad("feed_forward is missing or not a boolean");
  auto hidden = j.find("hidden");
  if (hidden == j.end() || !hidden->is_array()) return Bad("hidden is missing or not an array");
  if (hidden->size() > lim.hidden_max) {
    return Bad(absl::StrCat("hidden has ", hidden->size(), " nodes, over ", lim.hidden_max));
  }
  auto conns = j.find("connections");
  if (conns == j.end() || !conns->is_array()) return Bad("connections is missing or not an array");
  if (conns->size() > lim.connections_max) {
    return Bad(absl::StrCat("connections has ", conns->size(), " entries, over ",
                            lim.connections_max));
  }

  Genome g = MinimalGenome(static_cast<uint32_t>(inputs), static_cast<uint32_t>(outputs),
                           ff->get<bool>(), /*connect=*/false);
  for (size_t i = 0; i < hidden->size(); ++i) {
    const json& h = (*hidden)[i];
    if (!h.is_number_unsigned()) {
      return Bad(absl::StrCat("hidden[", i, "] = ", h.dump(), " is not a node id"));
    }
    g.nodes.push_back({h.get<uint64_t>(), NodeKind::kHidden});
  }
  std::sort(g.nodes.begin(), g.nodes.end(),
            [](const NodeGene& a, const NodeGene& b) { return a.id < b.id; });
  for (size_t i = 0; i < conns->size(); ++i) {
    const json& c = (*conns)[i];
    const std::string where = absl::StrCat("connections[", i, "]");
    if (!c.is_object()) return Bad(absl::StrCat(where, " is not an object"));
    ConnGene gene;
    SWARM_ASSIGN_OR_RETURN(gene.innovation, GetU64(c, "innov", where));
    SWARM_ASSIGN_OR_RETURN(gene.in, GetU64(c, "in", where));
    SWARM_ASSIGN_OR_RETURN(gene.out, GetU64(c, "out", where));
    auto w = c.find("weight");
    if (w == c.end() || !w->is_number()) return Bad(absl::StrCat(where, ".weight is missing or not a number"));
    gene.weight = w->get<double>();
    auto en = c.find("enabled");
    if (en == c.end() || !en->is_boolean()) return Bad(absl::StrCat(where, ".enabled is missing or not a boolean"));
    gene.enabled = en->get<bool>();
    g.connections.push_back(gene);
  }
  std::sort(g.connections.begin(), g.connections.end(),
            [](const ConnGene& a, const ConnGene& b) { return a.innovation < b.innovation; });
  Status v = ValidateGenome(g, lim.weight_abs_max);
  if (!v.ok()) return Bad(std::string(v.message()));
  return g;
}

}  // namespace swarm::evo
