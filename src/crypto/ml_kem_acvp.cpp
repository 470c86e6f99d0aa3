#include "crypto/ml_kem_acvp.h"

#include <algorithm>
#include <cctype>

#include "crypto/ml_kem.h"

namespace swarm::crypto {
namespace {

using nlohmann::json;

std::string UpperHex(ByteSpan b) {
  std::string s = ToHex(b);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// Where a field lives, for error messages: "tgId 4 tcId 77".
struct Where {
  std::string text;
};

StatusOr<const json*> Field(const json& obj, const char* name, const Where& w) {
  if (!obj.is_object() || !obj.contains(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ML-KEM ACVP prompt: ", w.text, ": missing field '", name, "'"));
  }
  return &obj.at(name);
}

StatusOr<std::string> StringField(const json& obj, const char* name, const Where& w) {
  SWARM_ASSIGN_OR_RETURN(const json* v, Field(obj, name, w));
  if (!v->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("ML-KEM ACVP prompt: ", w.text, ": field '",
                                                   name, "' must be a string, got ",
                                                   v->dump()));
  }
  return v->get<std::string>();
}

StatusOr<Bytes> HexField(const json& obj, const char* name, const Where& w) {
  SWARM_ASSIGN_OR_RETURN(std::string s, StringField(obj, name, w));
  auto b = FromHex(s);
  if (!b.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("ML-KEM ACVP prompt: ", w.text, ": field '",
                                                   name, "': ", b.status().message()));
  }
  return std::move(b).value();
}

StatusOr<json> IdField(const json& obj, const char* name, const Where& w) {
  SWARM_ASSIGN_OR_RETURN(const json* v, Field(obj, name, w));
  if (!v->is_number_integer()) {
    return absl::InvalidArgumentError(absl::StrCat("ML-KEM ACVP prompt: ", w.text, ": field '",
                                                   name, "' must be an integer, got ",
                                                   v->dump()));
  }
  return *v;
}

Status WithWhere(const Status& s, const Where& w) {
  return absl::Status(s.code(), absl::StrCat("ML-KEM ACVP: ", w.text, ": ", s.message()));
}

StatusOr<json> AnswerKeyGen(MlKemParameterSet set, const json& t, const Where& w) {
  SWARM_ASSIGN_OR_RETURN(Bytes d, HexField(t, "d", w));
  SWARM_ASSIGN_OR_RETURN(Bytes z, HexField(t, "z", w));
  auto kp = MlKemKeyGen(set, d, z);
  SecureZero(d.data(), d.size());
  SecureZero(z.data(), z.size());
  if (!kp.ok()) return WithWhere(kp.status(), w);
  return json{{"ek", UpperHex(kp->encaps_key)}, {"dk", UpperHex(kp->decaps_key.span())}};
}

StatusOr<json> AnswerEncapDecap(MlKemParameterSet set, const std::string& function,
                                const json& t, const Where& w) {
  if (function == "encapsulation") {
    SWARM_ASSIGN_OR_RETURN(Bytes ek, HexField(t, "ek", w));
    SWARM_ASSIGN_OR_RETURN(Bytes m, HexField(t, "m", w));
    auto enc = MlKemEncaps(set, ek, m);
    if (!enc.ok()) return WithWhere(enc.status(), w);
    return json{{"c", UpperHex(enc->ciphertext)}, {"k", UpperHex(enc->shared_secret.span())}};
  }
  if (function == "decapsulation") {
    SWARM_ASSIGN_OR_RETURN(Bytes dk, HexField(t, "dk", w));
    SWARM_ASSIGN_OR_RETURN(Bytes c, HexField(t, "c", w));
    auto k = MlKemDecaps(set, dk, c);
    SecureZero(dk.data(), dk.size());
    if (!k.ok()) return WithWhere(k.status(), w);
    return json{{"k", UpperHex(k->span())}};
  }
  if (function == "encapsulationKeyCheck") {
    SWARM_ASSIGN_OR_RETURN(Bytes ek, HexField(t, "ek", w));
    return json{{"testPassed", MlKemCheckEncapsKey(set, ek).ok()}};
  }
  if (function == "decapsulationKeyCheck") {
    SWARM_ASSIGN_OR_RETURN(Bytes dk, HexField(t, "dk", w));
    const bool passed = MlKemCheckDecapsKey(set, dk).ok();
    SecureZero(dk.data(), dk.size());
    return json{{"testPassed", passed}};
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "ML-KEM ACVP prompt: ", w.text, ": unknown function '", function,
      "' (supported: encapsulation, decapsulation, encapsulationKeyCheck, "
      "decapsulationKeyCheck)"));
}

}  // namespace

StatusOr<json> AnswerMlKemPrompt(const json& prompt) {
  const Where top{"top level"};
  SWARM_ASSIGN_OR_RETURN(std::string mode, StringField(prompt, "mode", top));
  if (mode != "keyGen" && mode != "encapDecap") {
    return absl::InvalidArgumentError(absl::StrCat("ML-KEM ACVP prompt: unsupported mode '", mode,
                                                   "' (supported: keyGen, encapDecap)"));
  }
  SWARM_ASSIGN_OR_RETURN(const json* groups, Field(prompt, "testGroups", top));
  if (!groups->is_array()) {
    return absl::InvalidArgumentError("ML-KEM ACVP prompt: 'testGroups' must be an array");
  }
  json out = json::object();
  for (const char* key : {"vsId", "algorithm", "mode", "revision", "isSample"}) {
    if (prompt.contains(key)) out[key] = prompt[key];
  }
  out["testGroups"] = json::array();
  for (size_t gi = 0; gi < groups->size(); ++gi) {
    const json& g = (*groups)[gi];
    Where gw{absl::StrCat("testGroups[", gi, "]")};
    SWARM_ASSIGN_OR_RETURN(json tg_id, IdField(g, "tgId", gw));
    gw.text = absl::StrCat("tgId ", tg_id.dump());
    SWARM_ASSIGN_OR_RETURN(std::string set_name, StringField(g, "parameterSet", gw));
    auto set = ParseMlKemParameterSet(set_name);
    if (!set.ok()) return WithWhere(set.status(), gw);
    std::string function;
    if (mode == "encapDecap") {
      SWARM_ASSIGN_OR_RETURN(function, StringField(g, "function", gw));
    }
    SWARM_ASSIGN_OR_RETURN(const json* tests, Field(g, "tests", gw));
    if (!tests->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ML-KEM ACVP prompt: ", gw.text, ": 'tests' must be an array"));
    }
    json out_tests = json::array();
    for (size_t ti = 0; ti < tests->size(); ++ti) {
      const json& t = (*tests)[ti];
      Where tw{absl::StrCat(gw.text, " tests[", ti, "]")};
      SWARM_ASSIGN_OR_RETURN(json tc_id, IdField(t, "tcId", tw));
      tw.text = absl::StrCat(gw.text, " tcId ", tc_id.dump());
      StatusOr<json> answer = mode == "keyGen" ? AnswerKeyGen(*set, t, tw)
                                               : AnswerEncapDecap(*set, function, t, tw);
      if (!answer.ok()) return answer.status();
      json result = {{"tcId", tc_id}};
      result.update(*answer);
      out_tests.push_back(std::move(result));
    }
    out["testGroups"].push_back(json{{"tgId", tg_id}, {"tests", std::move(out_tests)}});
  }
  return out;
}

}  // namespace swarm::crypto
