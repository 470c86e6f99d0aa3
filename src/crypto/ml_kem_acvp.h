// Answers NIST ACVP prompts for ML-KEM (revision FIPS203): mode "keyGen"
// (tests {tcId, d, z} -> {tcId, ek, dk}) and mode "encapDecap" (group
// `function` encapsulation {ek, m} -> {c, k}; decapsulation {dk, c} -> {k};
// encapsulationKeyCheck {ek} -> {testPassed}; decapsulationKeyCheck {dk} ->
// {testPassed}). The answer has the structure of ACVP's expectedResults.json:
// {vsId, algorithm, mode, revision, isSample, testGroups: [{tgId, tests:
// [{tcId, ...}]}]}, hex in upper case.
//
// Errors: a missing or mistyped field, bad hex, an unknown parameter set or
// function → InvalidArgumentError naming the group/test (tgId, tcId) and field.
// Thread-safety: pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace swarm::crypto {

StatusOr<nlohmann::json> AnswerMlKemPrompt(const nlohmann::json& prompt);

}  // namespace swarm::crypto
