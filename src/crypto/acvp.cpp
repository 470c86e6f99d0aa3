#include "crypto/acvp.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "crypto/ml_dsa_acvp.h"
#include "crypto/ml_kem_acvp.h"

namespace swarm::crypto {
namespace {

const std::vector<std::pair<std::string, std::string>>& Supported() {
  static const auto* kSupported = new std::vector<std::pair<std::string, std::string>>{
      {"ML-KEM", "keyGen"}, {"ML-KEM", "encapDecap"}, {"ML-DSA", "keyGen"},
      {"ML-DSA", "sigGen"}, {"ML-DSA", "sigVer"}};
  return *kSupported;
}

}  // namespace

std::string SupportedAcvpModes() {
  std::vector<std::string> names;
  for (const auto& [alg, mode] : Supported()) names.push_back(alg + " " + mode);
  return absl::StrJoin(names, ", ");
}

StatusOr<nlohmann::json> AnswerAcvpPrompt(const nlohmann::json& prompt) {
  if (!prompt.is_object()) {
    return absl::InvalidArgumentError("ACVP prompt must be a JSON object");
  }
  for (const char* key : {"algorithm", "mode"}) {
    if (!prompt.contains(key) || !prompt[key].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ACVP prompt lacks a string field '", key, "' (supported: ", SupportedAcvpModes(), ")"));
    }
  }
  const std::string algorithm = prompt["algorithm"].get<std::string>();
  const std::string mode = prompt["mode"].get<std::string>();
  bool known = false;
  for (const auto& [alg, m] : Supported()) known = known || (alg == algorithm && m == mode);
  if (!known) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported ACVP algorithm/mode '", algorithm,
                                                   " ", mode, "' (supported: ",
                                                   SupportedAcvpModes(), ")"));
  }
  if (algorithm == "ML-KEM") return AnswerMlKemPrompt(prompt);
  return AnswerMlDsaPrompt(prompt);
}

}  // namespace swarm::crypto
