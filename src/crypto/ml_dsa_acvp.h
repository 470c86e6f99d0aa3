// Answers NIST ACVP prompts for ML-DSA (revision FIPS204), producing the
// structure of ACVP's expectedResults.json: {vsId, algorithm, mode, revision,
// isSample, testGroups: [{tgId, tests: [{tcId, ...}]}]}, hex in upper case.
//
// Modes:
//   keyGen  test {seed}                        -> {pk, sk}   (KeyGen_internal)
//   sigGen  test {sk, message|mu, context, hashAlg, rnd} -> {signature}
//   sigVer  test {pk, message|mu, context, hashAlg, signature} -> {testPassed}
// Group fields select the interface: signatureInterface "external" (with
// preHash "pure" | "preHash") or "internal" (with externalMu true | false);
// sigGen's deterministic=true signs with rnd = 0^32, deterministic=false uses
// the test's rnd when present, else 32 fresh bytes from RAND_bytes.
// A sk/pk given on the group instead of the test is accepted too.
//
// Errors: a missing or mistyped field, bad hex, a wrong-length key, an unknown
// parameter set, interface or hash -> InvalidArgumentError naming the tgId,
// tcId and field. Thread-safety: pure function.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace swarm::crypto {

StatusOr<nlohmann::json> AnswerMlDsaPrompt(const nlohmann::json& prompt);

}  // namespace swarm::crypto
