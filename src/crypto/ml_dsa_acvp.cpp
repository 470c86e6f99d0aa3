#include "crypto/ml_dsa_acvp.h"

#include <openssl/rand.h>

#include <cctype>
#include <string>

#include "common/bytes.h"
#include "crypto/ml_dsa.h"

namespace swarm::crypto {
namespace {

using nlohmann::json;

std::string UpperHex(ByteSpan b) {
  std::string s = ToHex(b);
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Where an error happened, for messages: "tgId 3 tcId 41".
struct Where {
  int64_t tg = -1;
  int64_t tc = -1;
  std::string Str() const {
    std::string s = absl::StrCat("tgId ", tg);
    if (tc >= 0) absl::StrAppend(&s, " tcId ", tc);
    return s;
  }
};

Status FieldError(const Where& w, std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("ML-DSA ACVP prompt ", w.Str(), ": field '",
                                                 std::string(field), "' ",
                                                 std::string(problem)));
}

StatusOr<std::string> GetString(const json& obj, const char* field, const Where& w) {
  auto it = obj.find(field);
  if (it == obj.end()) return FieldError(w, field, "is missing");
  if (!it->is_string()) return FieldError(w, field, "is not a string");
  return it->get<std::string>();
}

StatusOr<bool> GetBool(const json& obj, const char* field, const Where& w) {
  auto it = obj.find(field);
  if (it == obj.end()) return FieldError(w, field, "is missing");
  if (!it->is_boolean()) return FieldError(w, field, "is not a boolean");
  return it->get<bool>();
}

StatusOr<Bytes> GetHex(const json& obj, const char* field, const Where& w) {
  SWARM_ASSIGN_OR_RETURN(std::string s, GetString(obj, field, w));
  auto b = FromHex(s);
  if (!b.ok()) return FieldError(w, field, absl::StrCat("is not hex: ", b.status().message()));
  return std::move(b).value();
}

// A hex field of the test, or of the group when the test lacks it.
StatusOr<Bytes> GetHexTestOrGroup(const json& test, const json& group, const char* field,
                                  const Where& w) {
  if (test.contains(field)) return GetHex(test, field, w);
  if (group.contains(field)) return GetHex(group, field, w);
  return FieldError(w, field, "is missing (neither on the test nor on the group)");
}

StatusOr<Bytes> OptionalHex(const json& obj, const char* field, const Where& w) {
  if (!obj.contains(field)) return Bytes{};
  return GetHex(obj, field, w);
}

Status Annotate(const Status& s, const Where& w) {
  return absl::Status(s.code(), absl::StrCat("ML-DSA ACVP prompt ", w.Str(), ": ",
                                             std::string(s.message())));
}

// How a group's message reaches Sign_internal / Verify_internal.
struct Interface {
  bool internal = false;
  bool external_mu = false;
  bool pre_hash = false;
};

StatusOr<Interface> ParseInterface(const json& group, const Where& w) {
  Interface in;
  SWARM_ASSIGN_OR_RETURN(std::string si, GetString(group, "signatureInterface", w));
  if (si == "internal") {
    in.internal = true;
    if (group.contains("externalMu")) {
      SWARM_ASSIGN_OR_RETURN(in.external_mu, GetBool(group, "externalMu", w));
    }
  } else if (si == "external") {
    SWARM_ASSIGN_OR_RETURN(std::string ph, GetString(group, "preHash", w));
    if (ph == "preHash") {
      in.pre_hash = true;
    } else if (ph != "pure") {
      return FieldError(w, "preHash", absl::StrCat("has unknown value '", ph,
                                                   "' (expected pure or preHash)"));
    }
  } else {
    return FieldError(w, "signatureInterface",
                      absl::StrCat("has unknown value '", si, "' (expected internal or external)"));
  }
  return in;
}

// For external/internal-without-mu groups: M' (formatted message); for
// external-mu groups: the 64-byte mu (returned with is_mu = true).
struct SignedInput {
  Bytes bytes;
  bool is_mu = false;
};

StatusOr<SignedInput> MessageInput(const json& test, const Interface& in, const Where& w) {
  SignedInput out;
  if (in.internal && in.external_mu) {
    SWARM_ASSIGN_OR_RETURN(out.bytes, GetHex(test, "mu", w));
    out.is_mu = true;
    return out;
  }
  SWARM_ASSIGN_OR_RETURN(Bytes message, GetHex(test, "message", w));
  if (in.internal) {
    out.bytes = std::move(message);
    return out;
  }
  SWARM_ASSIGN_OR_RETURN(Bytes ctx, OptionalHex(test, "context", w));
  StatusOr<Bytes> m_prime;
  if (in.pre_hash) {
    SWARM_ASSIGN_OR_RETURN(std::string hash_name, GetString(test, "hashAlg", w));
    auto hash = MlDsaHashFromName(hash_name);
    if (!hash.ok()) return Annotate(hash.status(), w);
    m_prime = MlDsaFormatPreHashMessage(message, ctx, *hash);
  } else {
    m_prime = MlDsaFormatMessage(message, ctx);
  }
  if (!m_prime.ok()) return Annotate(m_prime.status(), w);
  out.bytes = std::move(m_prime).value();
  return out;
}

StatusOr<json> KeyGenTest(MlDsaLevel level, const json& test, const Where& w) {
  SWARM_ASSIGN_OR_RETURN(Bytes seed, GetHex(test, "seed", w));
  auto kp = MlDsaKeyGenFromSeed(level, seed);
  if (!kp.ok()) return Annotate(kp.status(), w);
  return json{{"tcId", w.tc}, {"pk", UpperHex(kp->public_key)}, {"sk", UpperHex(kp->secret_key)}};
}

StatusOr<json> SigGenTest(MlDsaLevel level, const json& group, const json& test,
                          const Interface& in, bool deterministic, const Where& w) {
  SWARM_ASSIGN_OR_RETURN(Bytes sk, GetHexTestOrGroup(test, group, "sk", w));
  Bytes rnd(kMlDsaRndBytes, 0);
  if (!deterministic) {
    if (test.contains("rnd")) {
      SWARM_ASSIGN_OR_RETURN(rnd, GetHex(test, "rnd", w));
    } else if (RAND_bytes(rnd.data(), static_cast<int>(rnd.size())) != 1) {
      return absl::InternalError("OpenSSL RAND_bytes failed");
    }
  }
  SWARM_ASSIGN_OR_RETURN(SignedInput input, MessageInput(test, in, w));
  auto sig = input.is_mu ? MlDsaSignMu(level, sk, input.bytes, rnd)
                         : MlDsaSignInternal(level, sk, input.bytes, rnd);
  SecureZero(sk.data(), sk.size());
  if (!sig.ok()) return Annotate(sig.status(), w);
  return json{{"tcId", w.tc}, {"signature", UpperHex(*sig)}};
}

StatusOr<json> SigVerTest(MlDsaLevel level, const json& group, const json& test,
                          const Interface& in, const Where& w) {
  SWARM_ASSIGN_OR_RETURN(Bytes pk, GetHexTestOrGroup(test, group, "pk", w));
  SWARM_ASSIGN_OR_RETURN(Bytes sig, GetHex(test, "signature", w));
  SWARM_ASSIGN_OR_RETURN(SignedInput input, MessageInput(test, in, w));
  auto ok = input.is_mu ? MlDsaVerifyMu(level, pk, input.bytes, sig)
                        : MlDsaVerifyInternal(level, pk, input.bytes, sig);
  if (!ok.ok()) {
    // A signature of the wrong length is a failed verification for ACVP.
    const size_t want = MlDsaSizesOf(level).signature;
    if (sig.size() != want) return json{{"tcId", w.tc}, {"testPassed", false}};
    return Annotate(ok.status(), w);
  }
  return json{{"tcId", w.tc}, {"testPassed", *ok}};
}

}  // namespace

StatusOr<json> AnswerMlDsaPrompt(const json& prompt) {
  const Where top;
  if (!prompt.is_object()) return absl::InvalidArgumentError("ML-DSA ACVP prompt is not a JSON object");
  SWARM_ASSIGN_OR_RETURN(std::string algorithm, GetString(prompt, "algorithm", top));
  if (algorithm != "ML-DSA") {
    return FieldError(top, "algorithm", absl::StrCat("is '", algorithm, "', expected ML-DSA"));
  }
  SWARM_ASSIGN_OR_RETURN(std::string mode, GetString(prompt, "mode", top));
  if (mode != "keyGen" && mode != "sigGen" && mode != "sigVer") {
    return FieldError(top, "mode",
                      absl::StrCat("is '", mode, "', expected keyGen, sigGen or sigVer"));
  }
  auto groups = prompt.find("testGroups");
  if (groups == prompt.end() || !groups->is_array()) {
    return FieldError(top, "testGroups", "is missing or not an array");
  }
  json out = {{"vsId", prompt.value("vsId", json())},
              {"algorithm", algorithm},
              {"mode", mode},
              {"revision", prompt.value("revision", json("FIPS204"))},
              {"isSample", prompt.value("isSample", json(false))},
              {"testGroups", json::array()}};
  for (const json& group : *groups) {
    Where w;
    if (!group.is_object() || !group.contains("tgId") || !group["tgId"].is_number_integer()) {
      return FieldError(w, "tgId", "is missing or not an integer in a test group");
    }
    w.tg = group["tgId"].get<int64_t>();
    SWARM_ASSIGN_OR_RETURN(std::string pset, GetString(group, "parameterSet", w));
    auto level = MlDsaLevelFromName(pset);
    if (!level.ok()) return Annotate(level.status(), w);
    Interface in;
    bool deterministic = false;
    if (mode != "keyGen") {
      SWARM_ASSIGN_OR_RETURN(in, ParseInterface(group, w));
    }
    if (mode == "sigGen") {
      SWARM_ASSIGN_OR_RETURN(deterministic, GetBool(group, "deterministic", w));
    }
    auto tests = group.find("tests");
    if (tests == group.end() || !tests->is_array()) {
      return FieldError(w, "tests", "is missing or not an array");
    }
    json out_tests = json::array();
    for (const json& test : *tests) {
      if (!test.is_object() || !test.contains("tcId") || !test["tcId"].is_number_integer()) {
        return FieldError(w, "tcId", "is missing or not an integer in a test");
      }
      w.tc = test["tcId"].get<int64_t>();
      StatusOr<json> answer;
      if (mode == "keyGen") {
        answer = KeyGenTest(*level, test, w);
      } else if (mode == "sigGen") {
        answer = SigGenTest(*level, group, test, in, deterministic, w);
      } else {
        answer = SigVerTest(*level, group, test, in, w);
      }
      if (!answer.ok()) return answer.status();
      out_tests.push_back(std::move(answer).value());
    }
    out["testGroups"].push_back({{"tgId", w.tg}, {"tests", std::move(out_tests)}});
  }
  return out;
}

}  // namespace swarm::crypto
