#include "evo/checkpoint.h"


#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "evo/genome_codec.h"

namespace swarm::evo {
namespace {

using nlohmann::json;
constexpr const char* kFormat = "swarm.evo.checkpoint";

json ScoredJson(const std::optional<Scored>& s) {
  if (!s) return nullptr;
  return {{"genome", EncodeGenome(s->genome)}, {"fitness", s->fitness}};
}

json IslandJson(const IslandState& s) {
  json j = {{"generation", s.generation},
            {"evaluations", s.evaluations},
            {"failed", s.failed},
            {"threshold", s.threshold},
            {"best_ever", s.best_ever},
            {"best_ever_generation", s.best_ever_generation},
            {"next_species_id", s.next_species_id},
            {"champion", ScoredJson(s.champion)},
            {"solution", ScoredJson(s.solution)}};
  json genomes = json::array();
  for (const auto& g : s.genomes) genomes.push_back(EncodeGenome(g));
  j["genomes"] = std::move(genomes);
  json species = json::array();
  for (const auto& sp : s.species) {
    species.push_back({{"id", sp.id},
                       {"representative", EncodeGenome(sp.representative)},
                       {"best_fitness", sp.best_fitness},
                       {"last_improved", sp.last_improved}});
  }
  j["species"] = std::move(species);
  return j;
}

// Typed field access that reports the path of a missing or mistyped field.
class Reader {
 public:
  Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}
  StatusOr<const json*> Field(const std::string& key, json::value_t type) const {
    if (!j_.is_object() || !j_.contains(key)) return Bad(key, "is missing");
    const json& v = j_.at(key);
    const bool ok = type == json::value_t::number_float ? v.is_number()
                    : type == json::value_t::number_unsigned ? v.is_number_unsigned()
                                                             : v.type() == type;
    if (!ok) return Bad(key, absl::StrCat("has the wrong type (", v.type_name(), ")"));
    return &v;
  }
  StatusOr<uint64_t> U64(const std::string& key) const {
    SWARM_ASSIGN_OR_RETURN(const json* v, Field(key, json::value_t::number_unsigned));
    return v->get<uint64_t>();
  }
  StatusOr<double> F64(const std::string& key) const {
    SWARM_ASSIGN_OR_RETURN(const json* v, Field(key, json::value_t::number_float));
    return v->get<double>();
  }
  StatusOr<std::string> Str(const std::string& key) const {
    SWARM_ASSIGN_OR_RETURN(const json* v, Field(key, json::value_t::string));
    return v->get<std::string>();
  }
  StatusOr<Genome> GenomeField(const std::string& key) const {
    SWARM_ASSIGN_OR_RETURN(std::string text, Str(key));
    auto g = DecodeGenome(text);
    if (!g.ok()) return Bad(key, std::string(g.status().message()));
    return g;
  }
  StatusOr<std::optional<Scored>> OptScored(const std::string& key) const {
    if (!j_.contains(key) || j_.at(key).is_null()) return std::optional<Scored>();
    Reader r(j_.at(key), absl::StrCat(path_, ".", key));
    Scored s;
    SWARM_ASSIGN_OR_RETURN(s.genome, r.GenomeField("genome"));
    SWARM_ASSIGN_OR_RETURN(s.fitness, r.F64("fitness"));
    return std::optional<Scored>(std::move(s));
  }
  absl::Status Bad(const std::string& key, const std::string& why) const {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint field '", path_, ".", key, "' ", why));
  }
  const std::string& path() const { return path_; }

 private:
  const json& j_;
  std::string path_;
};

StatusOr<IslandState> ParseIsland(const json& j, const std::string& path) {
  Reader r(j, path);
  IslandState s;
  SWARM_ASSIGN_OR_RETURN(s.generation, r.U64("generation"));
  SWARM_ASSIGN_OR_RETURN(s.evaluations, r.U64("evaluations"));
  SWARM_ASSIGN_OR_RETURN(s.failed, r.U64("failed"));
  SWARM_ASSIGN_OR_RETURN(s.threshold, r.F64("threshold"));
  SWARM_ASSIGN_OR_RETURN(s.best_ever, r.F64("best_ever"));
  SWARM_ASSIGN_OR_RETURN(s.best_ever_generation, r.U64("best_ever_generation"));
  SWARM_ASSIGN_OR_RETURN(s.next_species_id, r.U64("next_species_id"));
  SWARM_ASSIGN_OR_RETURN(s.champion, r.OptScored("champion"));
  SWARM_ASSIGN_OR_RETURN(s.solution, r.OptScored("solution"));
  SWARM_ASSIGN_OR_RETURN(const json* genomes, r.Field("genomes", json::value_t::array));
  for (size_t i = 0; i < genomes->size(); ++i) {
    const json& g = (*genomes)[i];
    if (!g.is_string()) return r.Bad(absl::StrCat("genomes[", i, "]"), "is not a string");
    auto d = DecodeGenome(g.get<std::string>());
    if (!d.ok()) return r.Bad(absl::StrCat("genomes[", i, "]"), std::string(d.status().message()));
    s.genomes.push_back(std::move(*d));
  }
  SWARM_ASSIGN_OR_RETURN(const json* species, r.Field("species", json::value_t::array));
  for (size_t i = 0; i < species->size(); ++i) {
    Reader sr((*species)[i], absl::StrCat(path, ".species[", i, "]"));
    IslandState::SpeciesState sp;
    SWARM_ASSIGN_OR_RETURN(sp.id, sr.U64("id"));
    SWARM_ASSIGN_OR_RETURN(sp.representative, sr.GenomeField("representative"));
    SWARM_ASSIGN_OR_RETURN(sp.best_fitness, sr.F64("best_fitness"));
    SWARM_ASSIGN_OR_RETURN(sp.last_improved, sr.U64("last_improved"));
    s.species.push_back(std::move(sp));
  }
  return s;
}

std::string BodyDigestHex(const std::string& body) { return ToHex(crypto::Sha3_256(AsBytes(body))); }

}  // namespace

std::string EncodeCheckpoint(const EvolveCheckpoint& c) {
  json body = {{"task", c.task},
               {"seed", c.seed},
               {"islands_count", c.state.islands.size()},
               {"generation", c.state.generation},
               {"migrations", c.state.migrations}};
  json islands = json::array();
  for (const auto& i : c.state.islands) islands.push_back(IslandJson(i));
  body["islands"] = std::move(islands);
  const std::string body_text = body.dump();
  // The body is embedded as text so the checksum covers exactly these bytes.
  json top = {{"format", kFormat},
              {"version", kCheckpointVersion},
              {"sha3_256", BodyDigestHex(body_text)},
              {"body", body_text}};
  return top.dump() + "\n";
}

StatusOr<EvolveCheckpoint> DecodeCheckpoint(std::string_view text) {
  if (text.size() > kCheckpointBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint is ", text.size(), " bytes, limit ", kCheckpointBytesMax));
  }
  json top = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (top.is_discarded() || !top.is_object()) {
    return absl::InvalidArgumentError("checkpoint is not a JSON object");
  }
  Reader r(top, "");
  SWARM_ASSIGN_OR_RETURN(std::string format, r.Str("format"));
  if (format != kFormat) return r.Bad("format", absl::StrCat("= '", format, "', expected '", kFormat, "'"));
  SWARM_ASSIGN_OR_RETURN(uint64_t version, r.U64("version"));
  if (version != kCheckpointVersion) {
    return r.Bad("version", absl::StrCat("= ", version, ", this build reads version ", kCheckpointVersion));
  }
  SWARM_ASSIGN_OR_RETURN(std::string digest, r.Str("sha3_256"));
  SWARM_ASSIGN_OR_RETURN(std::string body_text, r.Str("body"));
  if (BodyDigestHex(body_text) != digest) {
    return r.Bad("sha3_256", "does not match the body (the file is corrupt or was edited)");
  }
  json body = json::parse(body_text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return r.Bad("body", "is not a JSON object");
  Reader b(body, "body");
  EvolveCheckpoint c;
  SWARM_ASSIGN_OR_RETURN(c.task, b.Str("task"));
  SWARM_ASSIGN_OR_RETURN(c.seed, b.U64("seed"));
  SWARM_ASSIGN_OR_RETURN(c.state.generation, b.U64("generation"));
  SWARM_ASSIGN_OR_RETURN(c.state.migrations, b.U64("migrations"));
  SWARM_ASSIGN_OR_RETURN(uint64_t count, b.U64("islands_count"));
  SWARM_ASSIGN_OR_RETURN(const json* islands, b.Field("islands", json::value_t::array));
  if (islands->size() != count) {
    return b.Bad("islands", absl::StrCat("has ", islands->size(), " entries, islands_count is ", count));
  }
  for (size_t i = 0; i < islands->size(); ++i) {
    SWARM_ASSIGN_OR_RETURN(IslandState s, ParseIsland((*islands)[i], absl::StrCat("body.islands[", i, "]")));
    c.state.islands.push_back(std::move(s));
  }
  return c;
}

}  // namespace swarm::evo
