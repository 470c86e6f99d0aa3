// One entry point for NIST ACVP prompt files (the `swarm crypto acvp` command).
//
// AnswerAcvpPrompt reads prompt["algorithm"] and prompt["mode"] and answers
// with a JSON document of the structure of ACVP's expectedResults.json (same
// vsId, testGroups[].tests[] by tcId):
//   ML-KEM keyGen, encapDecap   → crypto/ml_kem_acvp.h
//   ML-DSA keyGen, sigGen, sigVer → crypto/ml_dsa_acvp.h (AnswerMlDsaPrompt)
// Errors: a prompt that is not an object or lacks algorithm/mode, or an
// unknown algorithm/mode → InvalidArgumentError naming it and listing the
// supported ones; errors inside a test name its tgId/tcId and field.
// Thread-safety: pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace swarm::crypto {

StatusOr<nlohmann::json> AnswerAcvpPrompt(const nlohmann::json& prompt);

// "ML-KEM keyGen, ML-KEM encapDecap, ML-DSA keyGen, ..." for help texts.
std::string SupportedAcvpModes();

}  // namespace swarm::crypto
