// AnswerAcvpPrompt on the shared ML-KEM prompts must equal expectedResults.json
// exactly; unknown algorithms/modes and malformed prompts are clear errors.
#include "crypto/acvp.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/test_inputs.h"

namespace swarm::crypto {
namespace {

using nlohmann::json;

std::string Dir(const std::string& name) {
  return std::string(SWARM_VECTORS_DIR) + "/ml-kem/ML-KEM-" + name + "-FIPS203";
}

void CheckAnswersEqualExpected(const std::string& dir) {
  SWARM_REQUIRE_INPUT(dir + "/prompt.json", "NIST ACVP vectors; tests/data/README.md");
  std::ifstream p(dir + "/prompt.json"), e(dir + "/expectedResults.json");
  const json prompt = json::parse(p), expected = json::parse(e);
  auto answer = AnswerAcvpPrompt(prompt);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->size(), expected.size());
  ASSERT_EQ((*answer)["testGroups"].size(), expected["testGroups"].size());
  for (size_t g = 0; g < expected["testGroups"].size(); ++g) {
    const auto& eg = expected["testGroups"][g];
    const auto& ag = (*answer)["testGroups"][g];
    ASSERT_EQ(ag["tests"].size(), eg["tests"].size());
    for (size_t t = 0; t < eg["tests"].size(); ++t) {
      ASSERT_EQ(ag["tests"][t], eg["tests"][t]) << "tgId " << eg["tgId"] << " test " << t;
    }
  }
  EXPECT_EQ(*answer, expected);  // the whole document, top-level fields included
}

TEST(Acvp, MlKemKeyGenPromptAnswersEqualExpectedResults) {
  CheckAnswersEqualExpected(Dir("keyGen"));
}
TEST(Acvp, MlKemEncapDecapPromptAnswersEqualExpectedResults) {
  CheckAnswersEqualExpected(Dir("encapDecap"));
}
// The dispatcher reaches the ML-DSA engineer's AnswerMlDsaPrompt.
TEST(Acvp, MlDsaPromptsAreDispatched) {
  for (const std::string mode : {"keyGen", "sigVer"}) {
    SCOPED_TRACE(mode);
    CheckAnswersEqualExpected(std::string(SWARM_VECTORS_DIR) + "/ml-dsa/ML-DSA-" + mode +
                              "-FIPS204");
  }
}

TEST(Acvp, UnknownAlgorithmOrModeNamesItAndListsSupported) {
  auto r = AnswerAcvpPrompt(json{{"algorithm", "SLH-DSA"}, {"mode", "keyGen"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("SLH-DSA keyGen"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("ML-KEM encapDecap"), std::string::npos) << r.status();
  auto r2 = AnswerAcvpPrompt(json{{"algorithm", "ML-KEM"}, {"mode", "sigGen"}});
  EXPECT_NE(r2.status().message().find("ML-KEM sigGen"), std::string::npos) << r2.status();
  EXPECT_FALSE(AnswerAcvpPrompt(json::array()).ok());
  EXPECT_FALSE(AnswerAcvpPrompt(json{{"algorithm", "ML-KEM"}}).ok());
}

TEST(Acvp, MalformedMlKemTestsNameTheField) {
  json prompt = {{"vsId", 1}, {"algorithm", "ML-KEM"}, {"mode", "keyGen"},
                 {"testGroups", json::array({json{{"tgId", 3},
                                                  {"parameterSet", "ML-KEM-768"},
                                                  {"tests", json::array({json{{"tcId", 9},
                                                                              {"d", "00"}}})}}})}};
  auto r = AnswerAcvpPrompt(prompt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tcId 9"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("'z'"), std::string::npos) << r.status();
  prompt["testGroups"][0]["tests"][0]["z"] = "zz";
  r = AnswerAcvpPrompt(prompt);
  EXPECT_NE(r.status().message().find("'z'"), std::string::npos) << r.status();
  prompt["testGroups"][0]["tests"][0]["z"] = std::string(64, '0');
  r = AnswerAcvpPrompt(prompt);  // d is 1 byte
  EXPECT_NE(r.status().message().find("seed d must be 32 bytes, got 1"), std::string::npos)
      << r.status();
  prompt["testGroups"][0]["parameterSet"] = "ML-KEM-999";
  r = AnswerAcvpPrompt(prompt);
  EXPECT_NE(r.status().message().find("ML-KEM-999"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace swarm::crypto
