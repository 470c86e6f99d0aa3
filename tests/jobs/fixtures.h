// Circuit texts (jobs/circuit.h TOML) shared by tests/jobs/* and the
// end-to-end tests in tests/e2e/*. Header-only and free of fhe/ and jobs/
// includes, so the e2e binaries (which link neither) can use it too. The key
// set-up that goes with them is in fhe_fixture.h (unit tests) and
// e2e/fhe_fixtures.h (the `swarm fhe` CLI).
#pragma once

#include <string>
#include <vector>

namespace swarm::jobs::testing {

// One [[op]] table: `extra` holds the op's own fields as TOML lines, e.g.
// "steps = 1" or "value = 2.0".
struct OpText {
  std::string id, op;
  std::vector<std::string> args;
  std::string extra;
};

inline std::string TomlList(const std::vector<std::string>& names) {
  std::string s = "[";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", \"" : "\"") + names[i] + "\"";
  return s + "]";
}

inline std::string CircuitToml(const std::string& scheme, const std::vector<std::string>& inputs,
                               const std::vector<std::string>& outputs, const std::vector<OpText>& ops) {
  std::string s = "scheme = \"" + scheme + "\"\ninputs = " + TomlList(inputs) + "\noutputs = " + TomlList(outputs) + "\n";
  for (const auto& op : ops) {
    s += "[[op]]\nid = \"" + op.id + "\"\nop = \"" + op.op + "\"\nargs = " + TomlList(op.args) + "\n";
    if (!op.extra.empty()) s += op.extra + "\n";
  }
  return s;
}

// CKKS: q = rescale(2 * rescale(relinearize(x * y))); outputs "rot" =
// rotate(q, 1) (slot i holds 2 x[i+1] y[i+1]) and "s" = sum(q) (every slot
// holds sum_i 2 x[i] y[i]). Needs relin and Galois keys for 1 and the powers
// of two; uses levels 2 -> 0 (N = 8192 presets).
inline std::string TwoXYRotateSum() {
  return CircuitToml("ckks", {"x", "y"}, {"rot", "s"},
                     {{"xy", "mul", {"x", "y"}, ""},
                      {"xyr", "relinearize", {"xy"}, ""},
                      {"p", "rescale", {"xyr"}, ""},
                      {"p2", "mul_scalar", {"p"}, "value = 2.0"},
                      {"q", "rescale", {"p2"}, ""},
                      {"rot", "rotate", {"q"}, "steps = 1"},
                      {"s", "sum", {"q"}, ""}});
}

// r = rotate(scalar * relinearize(x * y), 1): slot i holds scalar x[i+1]
// y[i+1] (scalar 1 = no mul_scalar op). Works for "ckks" and "bfv" (BFV needs
// an integer scalar).
inline std::string MulRelinRotate(const std::string& scheme, int scalar = 1) {
  std::vector<OpText> ops = {{"m", "mul", {"x", "y"}, ""}, {"mr", "relinearize", {"m"}, ""}};
  std::string last = "mr";
  if (scalar != 1) {
    ops.push_back({"t", "mul_scalar", {"mr"}, "value = " + std::to_string(scalar)});
    last = "t";
  }
  ops.push_back({"r", "rotate", {last}, "steps = 1"});
  return CircuitToml(scheme, {"x", "y"}, {"r"}, ops);
}

// y = x + x: the smallest task (no keys needed beyond the parameters).
inline std::string AddXX(const std::string& scheme = "ckks") {
  return CircuitToml(scheme, {"x"}, {"y"}, {{"y", "add", {"x", "x"}, ""}});
}

// CKKS: p = rescale(relinearize(x * y)), then `rounds` times a rotation by 1
// followed by a rotation by -1, so output "r" holds x[i] y[i] in slot i again.
// Each rotation is a key switch: the task's cost grows with `rounds` (a slow
// task made of real work). rounds >= 1. Needs relin and Galois keys for 1 and -1.
inline std::string MulThenRotationChain(int rounds) {
  std::vector<OpText> ops = {{"m", "mul", {"x", "y"}, ""},
                             {"mr", "relinearize", {"m"}, ""},
                             {"p", "rescale", {"mr"}, ""}};
  std::string last = "p";
  for (int i = 0; i < rounds; ++i) {
    const std::string a = "a" + std::to_string(i), b = i + 1 == rounds ? "r" : "b" + std::to_string(i);
    ops.push_back({a, "rotate", {last}, "steps = 1"});
    ops.push_back({b, "rotate", {a}, "steps = -1"});
    last = b;
  }
  return CircuitToml("ckks", {"x", "y"}, {"r"}, ops);
}

}  // namespace swarm::jobs::testing
