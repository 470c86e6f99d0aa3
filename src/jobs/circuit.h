// A circuit: the small DAG of homomorphic operations a client asks the swarm
// to evaluate on its ciphertexts, written in TOML:
//
//   scheme  = "ckks"            # or "bfv"
//   inputs  = ["x", "y"]        # ciphertexts the client uploads, by name
//   outputs = ["r"]             # values returned (names of inputs or ops)
//   [[op]]
//   id = "xy"                   # unique; not an input name
//   op = "mul"                  # see OpKind
//   args = ["x", "y"]           # ids of inputs or other ops (any order: the
//                               # DAG is sorted, a cycle is refused)
//   [[op]]  id = "r1"  op = "rotate"  args = ["xy"]  steps = 1
//   [[op]]  id = "m"   op = "matmul"  args = ["x"]   matrix = [[1.0, 2.0], [3.0, 4.0]]
//
// Ops and their fields (CKKS unless noted; "both" = CKKS and BFV):
//   add, sub (2 args, both) · negate (1, both) · mul (2, both; ct x ct gives 3
//   parts: relinearize afterwards) · mul_plain (1, `values` = plain vector,
//   both; CKKS encodes at scale q_level so a rescale restores the scale) ·
//   mul_scalar (1, `value`, both; BFV needs an integer) · add_scalar (1,
//   `value`) · relinearize (1, both) · rescale (1) · rotate (1, `steps`, both;
//   BFV rotates rows) · conjugate (1) · sum (1: every slot = sum of slots) ·
//   dot (2: every slot = <a, b>) · matmul (1, `matrix` = rows of a plain
//   matrix, diagonal method) · polyval (1, `coeffs` = c0, c1, ... of
//   sum c_i x^i) · bootstrap (1: CKKS bootstrapping, fhe/bootstrap.h; the
//   result is at the bootstrapping output level with the default scale; only
//   with EvalKeys::bootstrapper, otherwise refused before any work).
//
// ParseCircuit checks the text only (syntax, names, arities, field types,
// cycles, named limits) and returns the ops in a topological order.
// Everything that depends on keys and ciphertexts is checked by
// CheckCircuit in evaluate.h, before any work starts.
//
// Thread-safety: pure functions; a Circuit is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "fhe/params.h"

namespace swarm::jobs {

inline constexpr size_t kCircuitTextBytesMax = size_t{1} << 20;
inline constexpr size_t kCircuitOpsMax = 1024;
inline constexpr size_t kCircuitInputsMax = 64;
inline constexpr size_t kCircuitOutputsMax = 64;
inline constexpr size_t kCircuitIdBytesMax = 64;
inline constexpr size_t kCircuitVectorEntriesMax = size_t{1} << 16;  // values, matrix, coeffs
inline constexpr int kCircuitRotationStepsMax = 1 << 16;

enum class OpKind : uint8_t {
  kAdd,
  kSub,
  kNegate,
  kMul,
  kMulPlain,
  kMulScalar,
  kAddScalar,
  kRelinearize,
  kRescale,
  kRotate,
  kConjugate,
  kSum,
  kDot,
  kMatmul,
  kPolyval,
  kBootstrap,
};

// "add", "mul_plain", ... (the TOML spelling).
const char* OpName(OpKind kind);
// Number of ciphertext arguments the op takes.
size_t OpArity(OpKind kind);
// True when the op exists for the scheme.
bool OpSupports(OpKind kind, fhe::Scheme scheme);

struct Op {
  std::string id;
  OpKind kind = OpKind::kAdd;
  std::vector<std::string> args;
  int steps = 0;               // rotate
  double value = 0;            // mul_scalar, add_scalar
  std::vector<double> values;  // mul_plain
  std::vector<double> matrix;  // matmul, row-major
  size_t rows = 0, cols = 0;   // matmul
  std::vector<double> coeffs;  // polyval
};

struct Circuit {
  fhe::Scheme scheme = fhe::Scheme::kCkks;
  std::vector<std::string> inputs;
  std::vector<Op> ops;  // topologically sorted: every arg is defined earlier
  std::vector<std::string> outputs;
};

// Parses and checks a circuit. Errors are InvalidArgument naming the op id
// (or "circuit"), the field and the value: an unknown op, a missing input
// ("op 'r': argument 'z' is neither an input nor an op"), a cycle ("cycle
// through ops a -> b -> a"), a wrong arity or a missing field.
StatusOr<Circuit> ParseCircuit(std::string_view toml_text);

}  // namespace swarm::jobs
