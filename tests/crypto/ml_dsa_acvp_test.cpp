// AnswerMlDsaPrompt on the shared NIST ACVP prompt files must reproduce
// expectedResults.json exactly; sigGen answers (no expected file is shared)
// are checked by verifying every produced signature.
#include "crypto/ml_dsa_acvp.h"

#include <gtest/gtest.h>

#include "vector_files.h"
#include "support/test_inputs.h"

#include <filesystem>
#include <fstream>

#include "crypto/ml_dsa.h"

namespace swarm::crypto {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

fs::path VectorsDir() { return fs::path(SWARM_VECTORS_DIR) / "ml-dsa"; }

json Load(const std::filesystem::path& p) { return testing::LoadJson(p); }
Bytes Hex(const json& j) { return testing::HexBytes(j); }

void ExpectReproduces(const std::string& mode) {
  const fs::path dir = VectorsDir() / ("ML-DSA-" + mode + "-FIPS204");
  SWARM_REQUIRE_INPUT(dir, "ML-DSA ACVP vectors; SWARM_VECTORS_DIR=" SWARM_VECTORS_DIR);
  auto answer = AnswerMlDsaPrompt(Load(dir / "prompt.json"));
  ASSERT_TRUE(answer.ok()) << answer.status();
  const json expected = Load(dir / "expectedResults.json");
  // Compare group by group first for a readable failure, then the whole.
  ASSERT_EQ((*answer)["testGroups"].size(), expected["testGroups"].size());
  for (size_t g = 0; g < expected["testGroups"].size(); ++g) {
    const auto& eg = expected["testGroups"][g];
    const auto& ag = (*answer)["testGroups"][g];
    ASSERT_EQ(ag["tests"].size(), eg["tests"].size()) << "tgId " << eg["tgId"];
    for (size_t t = 0; t < eg["tests"].size(); ++t)
      EXPECT_EQ(ag["tests"][t], eg["tests"][t]) << "tgId " << eg["tgId"];
  }
  EXPECT_EQ(*answer, expected);
}

TEST(MlDsaAcvp, KeyGenPromptReproducesExpectedResults) { ExpectReproduces("keyGen"); }
TEST(MlDsaAcvp, SigVerPromptReproducesExpectedResults) { ExpectReproduces("sigVer"); }

// A sigGen prompt in the ACVP format covering every interface, built here
// from a known key (no sigGen files are shared).
json MakeSigGenPrompt(const MlDsaKeyPair& kp, bool deterministic) {
  const std::string sk = ToHex(kp.secret_key);
  json groups = json::array();
  int tc = 1;
  auto group = [&](int tg, json fields, json tests) {
    fields["tgId"] = tg;
    fields["testType"] = "AFT";
    fields["parameterSet"] = "ML-DSA-65";
    fields["deterministic"] = deterministic;
    for (auto& t : tests) {
      t["tcId"] = tc++;
      t["sk"] = sk;
      if (!deterministic) t["rnd"] = std::string(64, 'A');
    }
    fields["tests"] = tests;
    groups.push_back(fields);
  };
  group(1, {{"signatureInterface", "external"}, {"preHash", "pure"}},
        json::array({{{"message", "00112233"}, {"context", "CAFE"}},
                     {{"message", ""}, {"context", ""}}}));
  group(2, {{"signatureInterface", "external"}, {"preHash", "preHash"}},
        json::array({{{"message", "0102"}, {"context", "AA"}, {"hashAlg", "SHA2-256"}},
                     {{"message", "0102"}, {"context", ""}, {"hashAlg", "SHAKE-256"}}}));
  group(3, {{"signatureInterface", "internal"}, {"externalMu", false}},
        json::array({{{"message", "DEADBEEF"}}}));
  group(4, {{"signatureInterface", "internal"}, {"externalMu", true}},
        json::array({{{"mu", std::string(128, '5')}}}));
  return {{"vsId", 7}, {"algorithm", "ML-DSA"}, {"mode", "sigGen"}, {"revision", "FIPS204"},
          {"isSample", false}, {"testGroups", groups}};
}

bool VerifyAnswer(const MlDsaKeyPair& kp, const json& prompt_test, const json& group,
                  const Bytes& sig) {
  const auto L = MlDsaLevel::k65;
  if (group["signatureInterface"] == "internal") {
    if (group["externalMu"]) return *MlDsaVerifyMu(L, kp.public_key, Hex(prompt_test["mu"]), sig);
    return *MlDsaVerifyInternal(L, kp.public_key, Hex(prompt_test["message"]), sig);
  }
  if (group["preHash"] == "preHash") {
    return *MlDsaVerifyPreHash(L, kp.public_key, Hex(prompt_test["message"]), sig,
                               Hex(prompt_test["context"]),
                               *MlDsaHashFromName(prompt_test["hashAlg"].get<std::string>()));
  }
  return *MlDsaVerify(L, kp.public_key, Hex(prompt_test["message"]), sig,
                      Hex(prompt_test["context"]));
}

TEST(MlDsaAcvp, SigGenAnswersVerifyAndAreReproducible) {
  const Bytes seed(32, 0x42);
  auto kp = MlDsaKeyGenFromSeed(MlDsaLevel::k65, seed);
  ASSERT_TRUE(kp.ok());
  for (bool deterministic : {true, false}) {
    const json prompt = MakeSigGenPrompt(*kp, deterministic);
    auto a1 = AnswerMlDsaPrompt(prompt);
    auto a2 = AnswerMlDsaPrompt(prompt);
    ASSERT_TRUE(a1.ok()) << a1.status();
    ASSERT_TRUE(a2.ok());
    EXPECT_EQ(*a1, *a2) << "deterministic or given rnd must reproduce signatures";
    EXPECT_EQ((*a1)["vsId"], 7);
    int checked = 0;
    for (size_t g = 0; g < prompt["testGroups"].size(); ++g) {
      const auto& pg = prompt["testGroups"][g];
      for (size_t t = 0; t < pg["tests"].size(); ++t) {
        const auto& at = (*a1)["testGroups"][g]["tests"][t];
        EXPECT_EQ(at["tcId"], pg["tests"][t]["tcId"]);
        EXPECT_TRUE(VerifyAnswer(*kp, pg["tests"][t], pg, Hex(at["signature"])))
            << "tcId " << at["tcId"];
        ++checked;
      }
    }
    EXPECT_EQ(checked, 6);
  }
}

TEST(MlDsaAcvp, HedgedSigGenAgreesWithSignInternal) {
  auto kp = MlDsaKeyGenFromSeed(MlDsaLevel::k65, Bytes(32, 1));
  ASSERT_TRUE(kp.ok());
  json prompt = MakeSigGenPrompt(*kp, false);
  auto a = AnswerMlDsaPrompt(prompt);
  ASSERT_TRUE(a.ok());
  const Bytes m_prime = *MlDsaFormatMessage(Bytes{0, 0x11, 0x22, 0x33}, Bytes{0xca, 0xfe});
  const Bytes rnd(32, 0xaa);
  auto sig = MlDsaSignInternal(MlDsaLevel::k65, kp->secret_key, m_prime, rnd);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(Hex((*a)["testGroups"][0]["tests"][0]["signature"]), *sig);
}

TEST(MlDsaAcvp, BadPromptsGiveErrorsNamingTheField) {
  auto kp = MlDsaKeyGenFromSeed(MlDsaLevel::k65, Bytes(32, 1));
  ASSERT_TRUE(kp.ok());
  json p = MakeSigGenPrompt(*kp, true);
  p["testGroups"][0]["tests"][1]["message"] = "XYZ";
  auto r = AnswerMlDsaPrompt(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tcId 2"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("message"), std::string::npos) << r.status();

  p = MakeSigGenPrompt(*kp, true);
  p["testGroups"][1]["tests"][0]["hashAlg"] = "MD5";
  r = AnswerMlDsaPrompt(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("MD5"), std::string::npos) << r.status();

  p = MakeSigGenPrompt(*kp, true);
  p["testGroups"][0]["tests"][0]["sk"] = "00";
  r = AnswerMlDsaPrompt(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("secret key"), std::string::npos) << r.status();

  p = MakeSigGenPrompt(*kp, true);
  p["testGroups"][0]["parameterSet"] = "ML-DSA-99";
  EXPECT_FALSE(AnswerMlDsaPrompt(p).ok());
  p = MakeSigGenPrompt(*kp, true);
  p["mode"] = "encapDecap";
  EXPECT_FALSE(AnswerMlDsaPrompt(p).ok());
  EXPECT_FALSE(AnswerMlDsaPrompt(json::array()).ok());
  EXPECT_FALSE(AnswerMlDsaPrompt(json{{"algorithm", "ML-DSA"}, {"mode", "keyGen"}}).ok());
}

}  // namespace
}  // namespace swarm::crypto
