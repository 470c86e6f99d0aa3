// Every test case of the NIST ACVP ML-KEM vectors (keyGen, encapDecap) in
// $SWARM_VECTORS_DIR/ml-kem, checked three ways: our answer against
// expectedResults.json, prompt inputs against internalProjection.json, and
// internalProjection's extra fields (dk of encapsulation tests, the reason of
// decapsulation and key-check tests) against our implementation.
#include <gtest/gtest.h>

#include "vector_files.h"
#include "support/test_inputs.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "crypto/ml_kem.h"

namespace swarm::crypto {
namespace {

using nlohmann::json;

std::string Dir(const std::string& name) {
  return std::string(SWARM_VECTORS_DIR) + "/ml-kem/ML-KEM-" + name + "-FIPS203";
}

json Load(const std::filesystem::path& p) { return testing::LoadJson(p); }
Bytes Hex(const json& j) { return testing::HexBytes(j); }

Bytes Of(const MlKemSecret& s) { return Bytes(s.span().begin(), s.span().end()); }

// tcId -> test object of a file.
std::map<int, json> ByTcId(const json& file) {
  std::map<int, json> m;
  for (const auto& g : file["testGroups"])
    for (const auto& t : g["tests"]) m[t["tcId"].get<int>()] = t;
  return m;
}

struct Files {
  json prompt, expected, internal;
  std::map<int, json> exp_by_tc, int_by_tc;
};

void LoadFiles(const std::string& name, Files& f) {
  const std::string dir = Dir(name);
  f.prompt = Load(dir + "/prompt.json");
  f.expected = Load(dir + "/expectedResults.json");
  f.internal = Load(dir + "/internalProjection.json");
  f.exp_by_tc = ByTcId(f.expected);
  f.int_by_tc = ByTcId(f.internal);
}

#define LOAD_OR_SKIP(name, f)                                                          \
  SWARM_REQUIRE_INPUT(Dir(name) + "/prompt.json",                                      \
                      "NIST ACVP ML-KEM vectors; SWARM_VECTORS_DIR=" SWARM_VECTORS_DIR); \
  Files f;                                                                             \
  LoadFiles(name, f)

TEST(MlKemAcvp, KeyGenEveryVector) {
  LOAD_OR_SKIP("keyGen", f);
  int n = 0;
  for (const auto& g : f.prompt["testGroups"]) {
    auto set = ParseMlKemParameterSet(g["parameterSet"].get<std::string>());
    ASSERT_TRUE(set.ok());
    for (const auto& t : g["tests"]) {
      const int tc = t["tcId"];
      const json& exp = f.exp_by_tc.at(tc);
      const json& in = f.int_by_tc.at(tc);
      ASSERT_EQ(t["d"], in["d"]) << tc;
      ASSERT_EQ(t["z"], in["z"]) << tc;
      ASSERT_EQ(exp["ek"], in["ek"]) << tc;
      ASSERT_EQ(exp["dk"], in["dk"]) << tc;
      auto kp = MlKemKeyGen(*set, Hex(t["d"]), Hex(t["z"]));
      ASSERT_TRUE(kp.ok()) << kp.status();
      EXPECT_EQ(kp->encaps_key, Hex(exp["ek"])) << "tcId " << tc;
      EXPECT_EQ(Of(kp->decaps_key), Hex(exp["dk"])) << "tcId " << tc;
      ++n;
    }
  }
  EXPECT_EQ(n, 75);
}

TEST(MlKemAcvp, EncapDecapEveryVector) {
  LOAD_OR_SKIP("encapDecap", f);
  std::map<std::string, int> counts;
  for (const auto& g : f.prompt["testGroups"]) {
    auto set = ParseMlKemParameterSet(g["parameterSet"].get<std::string>());
    ASSERT_TRUE(set.ok());
    const std::string fn = g["function"];
    for (const auto& t : g["tests"]) {
      const int tc = t["tcId"];
      const json& exp = f.exp_by_tc.at(tc);
      const json& in = f.int_by_tc.at(tc);
      SCOPED_TRACE(::testing::Message() << fn << " tcId " << tc);
      for (const auto& [key, value] : t.items()) ASSERT_EQ(value, in[key]) << key;
      for (const auto& [key, value] : exp.items()) ASSERT_EQ(value, in[key]) << key;
      if (fn == "encapsulation") {
        auto enc = MlKemEncaps(*set, Hex(t["ek"]), Hex(t["m"]));
        ASSERT_TRUE(enc.ok()) << enc.status();
        EXPECT_EQ(enc->ciphertext, Hex(exp["c"]));
        EXPECT_EQ(Of(enc->shared_secret), Hex(exp["k"]));
        // The projection also holds the matching dk: Decaps must agree.
        auto k = MlKemDecaps(*set, Hex(in["dk"]), Hex(exp["c"]));
        ASSERT_TRUE(k.ok()) << k.status();
        EXPECT_EQ(Of(*k), Hex(exp["k"]));
      } else if (fn == "decapsulation") {
        const Bytes dk = Hex(t["dk"]), c = Hex(t["c"]);
        auto k = MlKemDecaps(*set, dk, c);
        ASSERT_TRUE(k.ok()) << k.status();
        EXPECT_EQ(Of(*k), Hex(exp["k"]));
        // Implicit rejection happened exactly for the modified ciphertexts.
        Bytes zc(dk.end() - 32, dk.end());
        zc.insert(zc.end(), c.begin(), c.end());
        const bool rejected = Of(*k) == Xof::Shake256(zc, 32);
        const std::string reason = in["reason"];
        EXPECT_EQ(rejected, reason == "modified ciphertext") << reason;
      } else if (fn == "encapsulationKeyCheck") {
        const bool ok = MlKemCheckEncapsKey(*set, Hex(t["ek"])).ok();
        EXPECT_EQ(ok, exp["testPassed"].get<bool>()) << in["reason"];
        EXPECT_EQ(MlKemEncaps(*set, Hex(t["ek"])).ok(), ok);
      } else if (fn == "decapsulationKeyCheck") {
        const bool ok = MlKemCheckDecapsKey(*set, Hex(t["dk"])).ok();
        EXPECT_EQ(ok, exp["testPassed"].get<bool>()) << in["reason"];
      } else {
        FAIL() << "unknown function " << fn;
      }
      ++counts[fn];
    }
  }
  EXPECT_EQ(counts["encapsulation"], 75);
  EXPECT_EQ(counts["decapsulation"], 30);
  EXPECT_EQ(counts["encapsulationKeyCheck"], 30);
  EXPECT_EQ(counts["decapsulationKeyCheck"], 30);
}

}  // namespace
}  // namespace swarm::crypto
