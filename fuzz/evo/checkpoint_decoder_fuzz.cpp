// Checkpoint decoder (evo/checkpoint.h): any input is either rejected with a
// status or decodes into a state that Archipelago::Load accepts or rejects
// with a status; an accepted state re-encodes canonically. Never crashes,
// throws or hangs.
//
// Odd first byte: start from a real checkpoint, edit its body with the rest
// of the input as (position, byte) edits and re-seal it with a correct
// SHA3-256, so inputs get past the checksum to the field and genome checks.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "evo/checkpoint.h"
#include "evo/presets.h"
#include "evo/tasks.h"

namespace {

using namespace swarm::evo;

NeatConfig SmallConfig() {
  NeatConfig cfg = *PresetConfig("xor");
  cfg.population_size = 6;
  return cfg;
}

const XorTask& TheTask() {
  static const XorTask* t = new XorTask();
  return *t;
}

const std::string& Body() {
  static const std::string* body = [] {
    TaskEvaluator eval(&TheTask());
    Archipelago a(SmallConfig(), &TheTask(), Topology::Ring(2), {}, 3);
    for (int g = 0; g < 3; ++g) (void)a.Step(eval);
    auto top = nlohmann::json::parse(EncodeCheckpoint({"xor", 3, a.Save()}));
    return new std::string(top["body"].get<std::string>());
  }();
  return *body;
}

std::string Reseal(const std::string& body) {
  nlohmann::json top = {{"format", "swarm.evo.checkpoint"},
                        {"version", kCheckpointVersion},
                        {"sha3_256", swarm::ToHex(swarm::crypto::Sha3_256(swarm::AsBytes(body)))},
                        {"body", body}};
  return top.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text;
  if (size > 0 && (data[0] & 1)) {
    std::string body = Body();
    for (size_t i = 1; i + 1 < size && !body.empty(); i += 2) {
      const size_t pos = (static_cast<size_t>(data[i]) * 257 + i * 31) % body.size();
      const uint8_t b = data[i + 1];
      if (b < 8) body.erase(pos, 1 + b);
      else if (b < 16) body.insert(pos, body.substr(pos / 2, 1 + b));
      else body[pos] = static_cast<char>(b & 0x7f);  // keep the body valid UTF-8
    }
    text = Reseal(body);
  } else {
    text.assign(reinterpret_cast<const char*>(data), size);
  }
  auto c = DecodeCheckpoint(text);
  if (!c.ok()) {
    if (c.status().message().empty()) std::abort();
    return 0;
  }
  if (EncodeCheckpoint(*c) != EncodeCheckpoint(*DecodeCheckpoint(EncodeCheckpoint(*c)))) std::abort();
  Archipelago a(SmallConfig(), &TheTask(), Topology::Ring(2), {}, 3);
  swarm::Status s = a.Load(c->state);
  if (s.ok()) {
    TaskEvaluator eval(&TheTask());
    (void)a.Step(eval);  // a loaded state must be runnable
  } else if (s.message().empty()) {
    std::abort();
  }
  return 0;
}
