#include "jobs/circuit.h"

#include <cmath>
#include <functional>
#include <map>
#include <set>

#include <toml++/toml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace swarm::jobs {
namespace {

struct OpInfo {
  OpKind kind;
  const char* name;
  size_t arity;
  bool bfv;
};

constexpr OpInfo kOps[] = {
    {OpKind::kAdd, "add", 2, true},           {OpKind::kSub, "sub", 2, true},
    {OpKind::kNegate, "negate", 1, true},     {OpKind::kMul, "mul", 2, true},
    {OpKind::kMulPlain, "mul_plain", 1, true}, {OpKind::kMulScalar, "mul_scalar", 1, true},
    {OpKind::kAddScalar, "add_scalar", 1, false}, {OpKind::kRelinearize, "relinearize", 1, true},
    {OpKind::kRescale, "rescale", 1, false},  {OpKind::kRotate, "rotate", 1, true},
    {OpKind::kConjugate, "conjugate", 1, false}, {OpKind::kSum, "sum", 1, false},
    {OpKind::kDot, "dot", 2, false},          {OpKind::kMatmul, "matmul", 1, false},
    {OpKind::kPolyval, "polyval", 1, false},  {OpKind::kBootstrap, "bootstrap", 1, false},
};

const OpInfo& Info(OpKind k) {
  for (const auto& i : kOps) {
    if (i.kind == k) return i;
  }
  SWARM_ASSERT(false);
  return kOps[0];
}

Status Bad(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("circuit: ", where, ": ", what));
}

Status CheckName(const std::string& where, const std::string& name) {
  if (name.empty() || name.size() > kCircuitIdBytesMax) {
    return Bad(where, absl::StrCat("name '", name.substr(0, kCircuitIdBytesMax), "' must have 1..",
                                   kCircuitIdBytesMax, " bytes"));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return Bad(where, absl::StrCat("name '", name, "' may only use [A-Za-z0-9_.-]"));
  }
  return absl::OkStatus();
}

StatusOr<std::vector<std::string>> StringList(const toml::table& t, const char* key,
                                              const std::string& where, size_t max) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (n == nullptr) return out;
  const toml::array* arr = n->as_array();
  if (arr == nullptr) return Bad(where, absl::StrCat("'", key, "' must be an array of strings"));
  if (arr->size() > max) {
    return Bad(where, absl::StrCat("'", key, "' has ", arr->size(), " entries, the limit is ", max));
  }
  for (const auto& e : *arr) {
    const auto* s = e.as_string();
    if (s == nullptr) return Bad(where, absl::StrCat("'", key, "' must be an array of strings"));
    out.push_back(s->get());
  }
  return out;
}

StatusOr<double> Number(const toml::node& n, const std::string& where, const char* key) {
  double v;
  if (const auto* i = n.as_integer()) {
    v = static_cast<double>(i->get());
  } else if (const auto* f = n.as_floating_point()) {
    v = f->get();
  } else {
    return Bad(where, absl::StrCat("'", key, "' must be a number"));
  }
  if (!std::isfinite(v)) return Bad(where, absl::StrCat("'", key, "' is not finite"));
  return v;
}

StatusOr<std::vector<double>> NumberList(const toml::node& n, const std::string& where, const char* key) {
  const toml::array* arr = n.as_array();
  if (arr == nullptr) return Bad(where, absl::StrCat("'", key, "' must be an array of numbers"));
  if (arr->size() > kCircuitVectorEntriesMax) {
    return Bad(where, absl::StrCat("'", key, "' has ", arr->size(), " entries, the limit is ",
                                   kCircuitVectorEntriesMax));
  }
  std::vector<double> out;
  out.reserve(arr->size());
  for (const auto& e : *arr) {
    SWARM_ASSIGN_OR_RETURN(double v, Number(e, where, key));
    out.push_back(v);
  }
  return out;
}

Status ParseFields(const toml::table& t, Op& op, const std::string& where) {
  const auto need = [&](const char* key) -> StatusOr<const toml::node*> {
    const toml::node* n = t.get(key);
    if (n == nullptr) return Bad(where, absl::StrCat("op '", OpName(op.kind), "' needs '", key, "'"));
    return n;
  };
  switch (op.kind) {
    case OpKind::kRotate: {
      SWARM_ASSIGN_OR_RETURN(const toml::node* n, need("steps"));
      const auto* i = n->as_integer();
      if (i == nullptr || i->get() == 0 || i->get() > kCircuitRotationStepsMax ||
          i->get() < -kCircuitRotationStepsMax) {
        return Bad(where, absl::StrCat("'steps' must be a nonzero integer in [-", kCircuitRotationStepsMax,
                                       ", ", kCircuitRotationStepsMax, "]"));
      }
      op.steps = static_cast<int>(i->get());
      break;
    }
    case OpKind::kMulScalar:
    case OpKind::kAddScalar: {
      SWARM_ASSIGN_OR_RETURN(const toml::node* n, need("value"));
      SWARM_ASSIGN_OR_RETURN(op.value, Number(*n, where, "value"));
      break;
    }
    case OpKind::kMulPlain: {
      SWARM_ASSIGN_OR_RETURN(const toml::node* n, need("values"));
      SWARM_ASSIGN_OR_RETURN(op.values, NumberList(*n, where, "values"));
      if (op.values.empty()) return Bad(where, "'values' is empty");
      break;
    }
    case OpKind::kPolyval: {
      SWARM_ASSIGN_OR_RETURN(const toml::node* n, need("coeffs"));
      SWARM_ASSIGN_OR_RETURN(op.coeffs, NumberList(*n, where, "coeffs"));
      if (op.coeffs.size() < 2) return Bad(where, "'coeffs' needs at least c0 and c1");
      break;
    }
    case OpKind::kMatmul: {
      SWARM_ASSIGN_OR_RETURN(const toml::node* n, need("matrix"));
      const toml::array* rows = n->as_array();
      if (rows == nullptr || rows->empty()) return Bad(where, "'matrix' must be a non-empty array of rows");
      for (const auto& r : *rows) {
        SWARM_ASSIGN_OR_RETURN(std::vector<double> row, NumberList(r, where, "matrix"));
        if (row.empty()) return Bad(where, "'matrix' has an empty row");
        if (op.cols == 0) op.cols = row.size();
        if (row.size() != op.cols) {
          return Bad(where, absl::StrCat("'matrix' row ", op.rows, " has ", row.size(), " entries, row 0 has ",
                                         op.cols));
        }
        if (op.matrix.size() + row.size() > kCircuitVectorEntriesMax) {
          return Bad(where, absl::StrCat("'matrix' exceeds ", kCircuitVectorEntriesMax, " entries"));
        }
        op.matrix.insert(op.matrix.end(), row.begin(), row.end());
        ++op.rows;
      }
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

}  // namespace

const char* OpName(OpKind kind) { return Info(kind).name; }
size_t OpArity(OpKind kind) { return Info(kind).arity; }
bool OpSupports(OpKind kind, fhe::Scheme scheme) {
  return scheme == fhe::Scheme::kCkks || Info(kind).bfv;
}

StatusOr<Circuit> ParseCircuit(std::string_view text) {
  if (text.size() > kCircuitTextBytesMax) {
    return Bad("text", absl::StrCat(text.size(), " bytes exceeds circuit_text_bytes_max ", kCircuitTextBytesMax));
  }
  toml::table root;
  try {
    root = toml::parse(text, std::string("circuit.toml"));
  } catch (const toml::parse_error& e) {
    return Bad(absl::StrCat("line ", e.source().begin.line),
               absl::StrCat("TOML syntax: ", std::string(e.description())));
  }
  for (const auto& [k, v] : root) {
    const std::string key(k.str());
    if (key != "scheme" && key != "inputs" && key != "outputs" && key != "op") {
      return Bad("circuit", absl::StrCat("unknown key '", key, "' (expected scheme, inputs, outputs, op)"));
    }
  }
  Circuit c;
  const auto* scheme = root.get_as<std::string>("scheme");
  if (scheme == nullptr) return Bad("circuit", "missing 'scheme' (\"ckks\" or \"bfv\")");
  if (scheme->get() == "ckks") {
    c.scheme = fhe::Scheme::kCkks;
  } else if (scheme->get() == "bfv") {
    c.scheme = fhe::Scheme::kBfv;
  } else {
    return Bad("circuit", absl::StrCat("scheme '", scheme->get(), "' is not \"ckks\" or \"bfv\""));
  }
  SWARM_ASSIGN_OR_RETURN(c.inputs, StringList(root, "inputs", "inputs", kCircuitInputsMax));
  SWARM_ASSIGN_OR_RETURN(c.outputs, StringList(root, "outputs", "outputs", kCircuitOutputsMax));
  if (c.inputs.empty()) return Bad("inputs", "the circuit has no inputs");
  if (c.outputs.empty()) return Bad("outputs", "the circuit has no outputs");

  std::map<std::string, size_t> defined;  // name -> op index + 1 (0 = input)
  for (const auto& in : c.inputs) {
    SWARM_RETURN_IF_ERROR(CheckName("inputs", in));
    if (!defined.emplace(in, 0).second) return Bad("inputs", absl::StrCat("input '", in, "' is listed twice"));
  }

  std::vector<Op> ops;
  if (const toml::node* n = root.get("op")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return Bad("op", "'op' must be an array of tables ([[op]])");
    if (arr->size() > kCircuitOpsMax) {
      return Bad("op", absl::StrCat(arr->size(), " ops exceeds circuit_ops_max ", kCircuitOpsMax));
    }
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table* t = (*arr)[i].as_table();
      std::string where = absl::StrCat("op #", i);
      if (t == nullptr) return Bad(where, "must be a table");
      Op op;
      const auto* id = t->get_as<std::string>("id");
      if (id == nullptr) return Bad(where, "missing 'id'");
      op.id = id->get();
      SWARM_RETURN_IF_ERROR(CheckName(where, op.id));
      where = absl::StrCat("op '", op.id, "'");
      const auto* kind = t->get_as<std::string>("op");
      if (kind == nullptr) return Bad(where, "missing 'op'");
      bool found = false;
      for (const auto& info : kOps) {
        if (kind->get() == info.name) {
          op.kind = info.kind;
          found = true;
        }
      }
      if (!found) {
        std::vector<std::string> names;
        for (const auto& info : kOps) names.push_back(info.name);
        return Bad(where, absl::StrCat("unknown op '", kind->get(), "' (known: ", absl::StrJoin(names, ", "), ")"));
      }
      if (!OpSupports(op.kind, c.scheme)) {
        return Bad(where, absl::StrCat("op '", OpName(op.kind), "' does not exist for scheme ",
                                       fhe::SchemeName(c.scheme)));
      }
      SWARM_ASSIGN_OR_RETURN(op.args, StringList(*t, "args", where, 4));
      if (op.args.size() != OpArity(op.kind)) {
        return Bad(where, absl::StrCat("op '", OpName(op.kind), "' takes ", OpArity(op.kind), " argument(s), got ",
                                       op.args.size()));
      }
      for (const auto& [k, v] : *t) {
        const std::string key(k.str());
        static const std::set<std::string> known = {"id", "op", "args", "steps", "value", "values", "matrix", "coeffs"};
        if (!known.count(key)) return Bad(where, absl::StrCat("unknown key '", key, "'"));
      }
      SWARM_RETURN_IF_ERROR(ParseFields(*t, op, where));
      if (!defined.emplace(op.id, ops.size() + 1).second) {
        return Bad(where, absl::StrCat("id '", op.id, "' is already an input or another op"));
      }
      ops.push_back(std::move(op));
    }
  }
  for (const auto& op : ops) {
    for (const auto& a : op.args) {
      if (!defined.count(a)) {
        return Bad(absl::StrCat("op '", op.id, "'"), absl::StrCat("argument '", a, "' is neither an input nor an op"));
      }
    }
  }
  for (const auto& o : c.outputs) {
    if (!defined.count(o)) return Bad("outputs", absl::StrCat("output '", o, "' is neither an input nor an op"));
  }

  // Topological order by depth-first search; a back edge is a cycle.
  std::vector<int> state(ops.size(), 0);  // 0 new, 1 on stack, 2 done
  std::vector<size_t> stack;
  Status cycle = absl::OkStatus();
  std::function<bool(size_t)> visit = [&](size_t i) -> bool {
    if (state[i] == 2) return true;
    if (state[i] == 1) {
      std::vector<std::string> path;
      bool on = false;
      for (size_t s : stack) {
        if (s == i) on = true;
        if (on) path.push_back(ops[s].id);
      }
      path.push_back(ops[i].id);
      cycle = Bad("circuit", absl::StrCat("cycle through ops ", absl::StrJoin(path, " -> ")));
      return false;
    }
    state[i] = 1;
    stack.push_back(i);
    for (const auto& a : ops[i].args) {
      const size_t d = defined.at(a);
      if (d > 0 && !visit(d - 1)) return false;
    }
    stack.pop_back();
    state[i] = 2;
    c.ops.push_back(ops[i]);
    return true;
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!visit(i)) return cycle;
  }
  return c;
}

}  // namespace swarm::jobs
