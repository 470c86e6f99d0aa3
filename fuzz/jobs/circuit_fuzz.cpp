// Fuzz target: jobs::ParseCircuit on client TOML. Any input gives a circuit or
// an error with a reason; a parsed circuit is topologically sorted (every
// argument defined before use), has known ops of the right arity and every
// output defined. Inputs whose first byte is even mutate a valid circuit at
// input-chosen bytes so the checks past the TOML parser are exercised.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "jobs/circuit.h"

using namespace swarm;

namespace {

const char* kValid = R"(scheme = "ckks"
inputs = ["x", "y"]
outputs = ["s", "m"]
[[op]]
id = "xy"
op = "mul"
args = ["x", "y"]
[[op]]
id = "r"
op = "relinearize"
args = ["xy"]
[[op]]
id = "s"
op = "sum"
args = ["r"]
[[op]]
id = "m"
op = "matmul"
args = ["x"]
matrix = [[1, 2], [3, 4]]
[[op]]
id = "p"
op = "polyval"
args = ["m"]
coeffs = [1, 2, 3]
)";

uint64_t parsed = 0, refused = 0;
struct Report {
  ~Report() { std::printf("parsed %llu, refused %llu\n", (unsigned long long)parsed, (unsigned long long)refused); }
} report;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "circuit invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text;
  if (size > 0 && data[0] % 2 == 0) {
    text = kValid;
    for (size_t i = 1; i + 1 < size && i < 33; i += 2) {
      text[data[i] * 7919u % text.size()] = static_cast<char>(data[i + 1]);
    }
  } else {
    text.assign(reinterpret_cast<const char*>(data), size);
  }
  auto c = jobs::ParseCircuit(text);
  if (!c.ok()) {
    Check(!c.status().message().empty(), "an error without a reason");
    ++refused;
    return 0;
  }
  ++parsed;
  std::set<std::string> defined(c->inputs.begin(), c->inputs.end());
  for (const auto& op : c->ops) {
    Check(op.args.size() == jobs::OpArity(op.kind), "arity");
    Check(jobs::OpSupports(op.kind, c->scheme), "op for the scheme");
    for (const auto& a : op.args) Check(defined.count(a) == 1, "argument used before it is defined");
    Check(defined.insert(op.id).second, "duplicate id");
    if (op.kind == jobs::OpKind::kMatmul) Check(op.matrix.size() == op.rows * op.cols && op.rows > 0, "matrix shape");
  }
  for (const auto& o : c->outputs) Check(defined.count(o) == 1, "undefined output");
  return 0;
}
