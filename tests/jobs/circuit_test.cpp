// Parser checks of jobs/circuit.h: every refusal names its reason.
#include "jobs/circuit.h"

#include <gtest/gtest.h>

namespace swarm::jobs {
namespace {

std::string Err(const std::string& text) {
  auto c = ParseCircuit(text);
  EXPECT_FALSE(c.ok()) << text;
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(Circuit, ParsesAndSortsTopologically) {
  auto c = ParseCircuit(R"(
scheme = "ckks"
inputs = ["x", "y"]
outputs = ["s"]
[[op]]
id = "s"
op = "sum"
args = ["r"]
[[op]]
id = "r"
op = "rotate"
args = ["xy"]
steps = 1
[[op]]
id = "xy"
op = "mul"
args = ["x", "y"]
[[op]]
id = "m"
op = "matmul"
args = ["x"]
matrix = [[1, 2.5], [3, 4], [5, 6]]
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->ops.size(), 4u);
  std::vector<std::string> order;
  for (const auto& op : c->ops) order.push_back(op.id);
  auto pos = [&](const std::string& id) { return std::find(order.begin(), order.end(), id) - order.begin(); };
  EXPECT_LT(pos("xy"), pos("r"));
  EXPECT_LT(pos("r"), pos("s"));
  const Op& m = c->ops[pos("m")];
  EXPECT_EQ(m.rows, 3u);
  EXPECT_EQ(m.cols, 2u);
  EXPECT_DOUBLE_EQ(m.matrix[1], 2.5);
  EXPECT_EQ(c->ops[pos("r")].steps, 1);
}

const char* kHead = "scheme = \"ckks\"\ninputs = [\"x\"]\noutputs = [\"a\"]\n";

TEST(Circuit, RefusesMissingInput) {
  const std::string e = Err(std::string(kHead) + "[[op]]\nid = \"a\"\nop = \"add\"\nargs = [\"x\", \"z\"]\n");
  EXPECT_NE(e.find("argument 'z' is neither an input nor an op"), std::string::npos) << e;
  EXPECT_NE(e.find("op 'a'"), std::string::npos) << e;
}

TEST(Circuit, RefusesUnknownOp) {
  const std::string e = Err(std::string(kHead) + "[[op]]\nid = \"a\"\nop = \"relu\"\nargs = [\"x\"]\n");
  EXPECT_NE(e.find("unknown op 'relu'"), std::string::npos) << e;
}

TEST(Circuit, RefusesCycle) {
  const std::string e = Err(std::string(kHead) +
                            "[[op]]\nid = \"a\"\nop = \"add\"\nargs = [\"x\", \"b\"]\n"
                            "[[op]]\nid = \"b\"\nop = \"negate\"\nargs = [\"a\"]\n");
  EXPECT_NE(e.find("cycle through ops a -> b -> a"), std::string::npos) << e;
}

TEST(Circuit, RefusesSelfLoop) {
  const std::string e = Err(std::string(kHead) + "[[op]]\nid = \"a\"\nop = \"negate\"\nargs = [\"a\"]\n");
  EXPECT_NE(e.find("cycle"), std::string::npos) << e;
}

TEST(Circuit, RefusesWrongSchemeForOp) {
  const std::string e = Err("scheme = \"bfv\"\ninputs = [\"x\"]\noutputs = [\"a\"]\n"
                            "[[op]]\nid = \"a\"\nop = \"rescale\"\nargs = [\"x\"]\n");
  EXPECT_NE(e.find("does not exist for scheme BFV"), std::string::npos) << e;
}

TEST(Circuit, RefusesBadFieldsAndArity) {
  EXPECT_NE(Err(std::string(kHead) + "[[op]]\nid = \"a\"\nop = \"add\"\nargs = [\"x\"]\n").find("takes 2 argument(s), got 1"),
            std::string::npos);
  EXPECT_NE(Err(std::string(kHead) + "[[op]]\nid = \"a\"\nop = \"rotate\"\nargs = [\"x\"]\n").find("needs 'steps'"),
            std::string::npos);
  EXPECT_NE(Err(std::string(kHead) + "[[op]]\nid = \"a\"\nop = \"rotate\"\nargs = [\"x\"]\nsteps = 0\n").find("'steps'"),
            std::string::npos);
  EXPECT_NE(Err(std::string(kHead) + "[[op]]\nid = \"a\"\nop = \"matmul\"\nargs = [\"x\"]\nmatrix = [[1, 2], [3]]\n")
                .find("row 1 has 1 entries"),
            std::string::npos);
  EXPECT_NE(Err(std::string(kHead) + "[[op]]\nid = \"x\"\nop = \"negate\"\nargs = [\"x\"]\n").find("already an input"),
            std::string::npos);
  EXPECT_NE(Err(std::string(kHead)).find("output 'a' is neither"), std::string::npos);
  EXPECT_NE(Err("scheme = \"rsa\"\n").find("scheme 'rsa'"), std::string::npos);
  EXPECT_NE(Err("scheme = \"ckks\"\ninputs = [\"x\"]\noutputs = [\"x\"]\nextra = 1\n").find("unknown key 'extra'"),
            std::string::npos);
  EXPECT_NE(Err("scheme = \"ckks\"\ninputs = [\"x y\"]\noutputs = [\"x\"]\n").find("may only use"), std::string::npos);
  EXPECT_NE(Err("scheme = [").find("TOML syntax"), std::string::npos);
}

TEST(Circuit, RefusesOversizedText) {
  std::string big(kCircuitTextBytesMax + 1, ' ');
  EXPECT_NE(Err(big).find("circuit_text_bytes_max"), std::string::npos);
}

}  // namespace
}  // namespace swarm::jobs
