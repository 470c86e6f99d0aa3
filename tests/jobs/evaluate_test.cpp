// Evaluation of circuits on real ciphertexts: results match plain arithmetic,
// evaluation is byte-deterministic, and every refusal happens before work.
#include "jobs/evaluate.h"

#include <gtest/gtest.h>

#include "fhe_fixture.h"
#include "fixtures.h"

namespace swarm::jobs {
namespace {

using testing::CircuitToml;
using testing::FheFixture;

FheFixture& Ckks() {
  static FheFixture f = FheFixture::Make(fhe::Scheme::kCkks, 8192, {1, 2, 3, -4}, /*sum_keys=*/true);
  return f;
}

Circuit Parse(const std::string& text) {
  auto c = ParseCircuit(text);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(Evaluate, TwoXYRotateSumMatchesPlain) {
  auto& f = Ckks();
  const std::vector<double> x = {1.5, -2, 3, 0.25}, y = {2, 4, -1, 8};
  Values in = {{"x", f.EncryptCkks(x)}, {"y", f.EncryptCkks(y)}};
  auto out = Evaluate(Parse(testing::TwoXYRotateSum()), f.keys, in);
  ASSERT_TRUE(out.ok()) << out.status();
  const auto r = f.DecryptCkks(out->at("rot"));
  const auto s = f.DecryptCkks(out->at("s"));
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += 2 * x[i] * y[i];
  for (size_t i = 0; i + 1 < x.size(); ++i) EXPECT_NEAR(r[i], 2 * x[i + 1] * y[i + 1], 1e-3) << i;
  EXPECT_NEAR(s[0], sum, 1e-3);
  EXPECT_NEAR(s[100], sum, 1e-3);
}

TEST(Evaluate, ByteIdenticalAcrossRuns) {
  auto& f = Ckks();
  Values in = {{"x", f.EncryptCkks({1, 2, 3})}, {"y", f.EncryptCkks({4, 5, 6})}};
  const Circuit c = Parse(testing::TwoXYRotateSum());
  auto a = Evaluate(c, f.keys, in);
  auto b = Evaluate(c, f.keys, in);
  ASSERT_TRUE(a.ok() && b.ok());
  const auto sa = SerializeOutputs(c, f.keys, *a), sb = SerializeOutputs(c, f.keys, *b);
  EXPECT_EQ(sa, sb);
  EXPECT_EQ(ResultDigest(sa), ResultDigest(sb));
  // A different input gives a different digest.
  Values in2 = {{"x", f.EncryptCkks({1, 2, 4})}, {"y", f.EncryptCkks({4, 5, 6})}};
  auto c2 = Evaluate(c, f.keys, in2);
  ASSERT_TRUE(c2.ok());
  EXPECT_NE(ResultDigest(SerializeOutputs(c, f.keys, *c2)), ResultDigest(sa));
}

TEST(Evaluate, MatmulDotPolyvalMatchPlain) {
  auto& f = Ckks();
  const std::vector<double> x = {1, 2, -1, 0.5};
  Values in = {{"x", f.EncryptCkks(x)}};
  auto out = Evaluate(Parse(CircuitToml("ckks", {"x"}, {"m", "d", "p", "n"},
                                        {{"m", "matmul", {"x"}, "matrix = [[1, 0, 2, 0], [0, 1, 0, -1], [1, 1, 1, 1]]"},
                                         {"d", "dot", {"x", "x"}, ""},
                                         {"p", "polyval", {"x"}, "coeffs = [1, -2, 0.5]"},
                                         {"n", "negate", {"x"}, ""}})),
                      f.keys, in);
  ASSERT_TRUE(out.ok()) << out.status();
  const auto m = f.DecryptCkks(out->at("m"));
  EXPECT_NEAR(m[0], 1 - 2, 1e-3);
  EXPECT_NEAR(m[1], 2 - 0.5, 1e-3);
  EXPECT_NEAR(m[2], 2.5, 1e-3);
  EXPECT_NEAR(f.DecryptCkks(out->at("d"))[0], 1 + 4 + 1 + 0.25, 1e-3);
  const auto p = f.DecryptCkks(out->at("p"));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(p[i], 1 - 2 * x[i] + 0.5 * x[i] * x[i], 1e-3) << i;
  EXPECT_NEAR(f.DecryptCkks(out->at("n"))[1], -2, 1e-3);
}

std::string CheckError(const std::string& text, const Values& in, const EvalKeys& keys) {
  auto c = ParseCircuit(text);
  EXPECT_TRUE(c.ok()) << c.status();
  Status s = CheckCircuit(*c, keys, in);
  EXPECT_FALSE(s.ok());
  return std::string(s.message());
}

TEST(Evaluate, RefusesRotationWithoutGaloisKey) {
  auto& f = Ckks();
  Values in = {{"x", f.EncryptCkks({1})}};
  const std::string e = CheckError(CircuitToml("ckks", {"x"}, {"r"}, {{"r", "rotate", {"x"}, "steps = 5"}}), in, f.keys);
  EXPECT_NE(e.find("op 'r' (rotate): needs the Galois key for a rotation by 5"), std::string::npos) << e;
  EvalKeys no_galois = f.keys;
  no_galois.galois = nullptr;
  const std::string e2 = CheckError(CircuitToml("ckks", {"x"}, {"s"}, {{"s", "sum", {"x"}, ""}}), in, no_galois);
  EXPECT_NE(e2.find("Galois key"), std::string::npos) << e2;
}

TEST(Evaluate, RefusesExceedingDepth) {
  auto& f = Ckks();
  Values in = {{"x", f.EncryptCkks({1})}};
  // Three rescales on a chain with levels 2, 1, 0.
  const std::string e = CheckError(
      CircuitToml("ckks", {"x"}, {"c"},
                  {{"a", "rescale", {"x"}, ""}, {"b", "rescale", {"a"}, ""}, {"c", "rescale", {"b"}, ""}}),
      in, f.keys);
  EXPECT_NE(e.find("op 'c' (rescale)"), std::string::npos) << e;
  EXPECT_NE(e.find("depth budget"), std::string::npos) << e;
  const std::string e2 =
      CheckError(CircuitToml("ckks", {"x"}, {"p"}, {{"p", "polyval", {"x"}, "coeffs = [0, 0, 0, 0, 1]"}}), in, f.keys);
  EXPECT_NE(e2.find("needs 3 level(s) but its argument is at level 2"), std::string::npos) << e2;
}

TEST(Evaluate, RefusesMissingInputsKeysAndParts) {
  auto& f = Ckks();
  Values in = {{"x", f.EncryptCkks({1})}};
  const std::string mul =
      CircuitToml("ckks", {"x", "y"}, {"r"}, {{"m", "mul", {"x", "y"}, ""}, {"r", "rotate", {"m"}, "steps = 1"}});
  EXPECT_NE(CheckError(mul, in, f.keys).find("input 'y' was not given"), std::string::npos);
  in["y"] = f.EncryptCkks({2});
  EXPECT_NE(CheckError(mul, in, f.keys).find("op 'r' (rotate): argument has 3 parts; relinearize first"),
            std::string::npos);
  in["z"] = f.EncryptCkks({2});
  EXPECT_NE(CheckError(mul, in, f.keys).find("input 'z' is not declared"), std::string::npos);
  EvalKeys no_relin = f.keys;
  no_relin.relin = nullptr;
  Values in2 = {{"x", f.EncryptCkks({1})}};
  EXPECT_NE(CheckError(CircuitToml("ckks", {"x"}, {"d"}, {{"d", "dot", {"x", "x"}, ""}}), in2, no_relin)
                .find("relinearization key"),
            std::string::npos);
  // Scheme mismatch between circuit and keys.
  EXPECT_NE(CheckError(CircuitToml("bfv", {"x"}, {"x"}, {}), in2, f.keys).find("scheme BFV"),
            std::string::npos);
}

TEST(Evaluate, BfvExactAndNoiseBudget) {
  static FheFixture f = FheFixture::Make(fhe::Scheme::kBfv, 8192, {1}, false);
  const std::vector<int64_t> x = {1, -2, 3, 40}, y = {5, 6, -7, 8};
  Values in = {{"x", f.EncryptBfv(x)}, {"y", f.EncryptBfv(y)}};
  auto c = ParseCircuit(testing::MulRelinRotate("bfv", 3));
  ASSERT_TRUE(c.ok()) << c.status();
  auto out = Evaluate(*c, f.keys, in);
  ASSERT_TRUE(out.ok()) << out.status();
  const auto r = f.DecryptBfv(out->at("r"));
  for (size_t i = 0; i + 1 < x.size(); ++i) EXPECT_EQ(r[i], 3 * x[i + 1] * y[i + 1]) << i;
  // A chain of multiplies exhausts the estimated budget: refused before work.
  std::vector<testing::OpText> chain;
  std::string prev = "x";
  for (int i = 0; i < 10; ++i) {
    const std::string id = "m" + std::to_string(i);
    chain.push_back({id, "mul", {prev, prev}, ""});
    chain.push_back({id + "r", "relinearize", {id}, ""});
    prev = id + "r";
  }
  Values in1 = {{"x", f.EncryptBfv(x)}};
  const std::string e = CheckError(CircuitToml("bfv", {"x"}, {"m9"}, chain), in1, f.keys);
  EXPECT_NE(e.find("noise budget"), std::string::npos) << e;
}

}  // namespace
}  // namespace swarm::jobs
