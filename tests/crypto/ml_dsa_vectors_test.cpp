// Every ML-DSA keyGen and sigVer test case of the NIST ACVP vectors in
// SWARM_VECTORS_DIR/ml-dsa (FIPS204 revision), run through the public API
// (not through the ACVP responder), compared with expectedResults.json.
#include <gtest/gtest.h>

#include "vector_files.h"
#include "support/test_inputs.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "crypto/ml_dsa.h"

namespace swarm::crypto {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

fs::path VectorsDir() { return fs::path(SWARM_VECTORS_DIR) / "ml-dsa"; }

json Load(const std::filesystem::path& p) { return testing::LoadJson(p); }
Bytes Hex(const json& j) { return testing::HexBytes(j); }

// expected[tgId][tcId] = test object.
std::map<int64_t, std::map<int64_t, json>> IndexExpected(const json& expected) {
  std::map<int64_t, std::map<int64_t, json>> idx;
  for (const auto& g : expected["testGroups"])
    for (const auto& t : g["tests"]) idx[g["tgId"].get<int64_t>()][t["tcId"].get<int64_t>()] = t;
  return idx;
}

#define SKIP_IF_NO_VECTORS(dir) \
  SWARM_REQUIRE_INPUT(dir, "ML-DSA ACVP vectors; SWARM_VECTORS_DIR=" SWARM_VECTORS_DIR)

TEST(MlDsaVectors, KeyGenEveryCase) {
  const fs::path dir = VectorsDir() / "ML-DSA-keyGen-FIPS204";
  SKIP_IF_NO_VECTORS(dir);
  const json prompt = Load(dir / "prompt.json");
  const auto expected = IndexExpected(Load(dir / "expectedResults.json"));
  int cases = 0;
  for (const auto& g : prompt["testGroups"]) {
    auto level = MlDsaLevelFromName(g["parameterSet"].get<std::string>());
    ASSERT_TRUE(level.ok()) << level.status();
    const int64_t tg = g["tgId"];
    for (const auto& t : g["tests"]) {
      const int64_t tc = t["tcId"];
      auto kp = MlDsaKeyGenFromSeed(*level, Hex(t["seed"]));
      ASSERT_TRUE(kp.ok()) << kp.status();
      const json& want = expected.at(tg).at(tc);
      EXPECT_EQ(kp->public_key, Hex(want["pk"])) << "tcId " << tc;
      EXPECT_EQ(kp->secret_key, Hex(want["sk"])) << "tcId " << tc;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 75);
}

TEST(MlDsaVectors, SigVerEveryCase) {
  const fs::path dir = VectorsDir() / "ML-DSA-sigVer-FIPS204";
  SKIP_IF_NO_VECTORS(dir);
  const json prompt = Load(dir / "prompt.json");
  const auto expected = IndexExpected(Load(dir / "expectedResults.json"));
  int cases = 0, passed_true = 0;
  for (const auto& g : prompt["testGroups"]) {
    auto level = MlDsaLevelFromName(g["parameterSet"].get<std::string>());
    ASSERT_TRUE(level.ok()) << level.status();
    const int64_t tg = g["tgId"];
    const bool internal = g["signatureInterface"] == "internal";
    const bool ext_mu = internal && g.value("externalMu", false);
    const bool pre_hash = !internal && g["preHash"] == "preHash";
    for (const auto& t : g["tests"]) {
      const int64_t tc = t["tcId"];
      const Bytes pk = Hex(t["pk"]);
      const Bytes sig = Hex(t["signature"]);
      StatusOr<bool> got;
      if (ext_mu) {
        got = MlDsaVerifyMu(*level, pk, Hex(t["mu"]), sig);
      } else if (internal) {
        got = MlDsaVerifyInternal(*level, pk, Hex(t["message"]), sig);
      } else {
        const Bytes ctx = t.contains("context") ? Hex(t["context"]) : Bytes{};
        if (pre_hash) {
          auto hash = MlDsaHashFromName(t["hashAlg"].get<std::string>());
          ASSERT_TRUE(hash.ok()) << hash.status();
          got = MlDsaVerifyPreHash(*level, pk, Hex(t["message"]), sig, ctx, *hash);
        } else {
          got = MlDsaVerify(*level, pk, Hex(t["message"]), sig, ctx);
        }
      }
      ASSERT_TRUE(got.ok()) << "tgId " << tg << " tcId " << tc << ": " << got.status();
      const bool want = expected.at(tg).at(tc)["testPassed"];
      EXPECT_EQ(*got, want) << "tgId " << tg << " tcId " << tc;

      // The same case through a prepared MlDsaVerifyingKey and mu.
      auto vk = MlDsaVerifyingKey::Create(*level, pk);
      ASSERT_TRUE(vk.ok()) << vk.status();
      Bytes mu;
      if (ext_mu) {
        mu = Hex(t["mu"]);
      } else {
        Bytes m_prime;
        if (internal) {
          m_prime = Hex(t["message"]);
        } else {
          const Bytes ctx = t.contains("context") ? Hex(t["context"]) : Bytes{};
          m_prime = pre_hash ? *MlDsaFormatPreHashMessage(
                                   Hex(t["message"]), ctx,
                                   *MlDsaHashFromName(t["hashAlg"].get<std::string>()))
                             : *MlDsaFormatMessage(Hex(t["message"]), ctx);
        }
        mu = *MlDsaComputeMu(*level, pk, m_prime);
      }
      auto prepared = vk->VerifyMu(mu, sig);
      ASSERT_TRUE(prepared.ok()) << prepared.status();
      EXPECT_EQ(*prepared, want) << "prepared key, tgId " << tg << " tcId " << tc;
      if (!internal && !pre_hash) {
        const Bytes ctx = t.contains("context") ? Hex(t["context"]) : Bytes{};
        EXPECT_EQ(*vk->Verify(Hex(t["message"]), sig, ctx), want) << "tcId " << tc;
      }
      passed_true += want;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 180);
  EXPECT_GT(passed_true, 0);  // the file has valid and invalid signatures
  EXPECT_LT(passed_true, cases);
}

}  // namespace
}  // namespace swarm::crypto
