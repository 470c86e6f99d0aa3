#include "jobs/evaluate.h"

#include <cmath>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fhe/bfv.h"
#include "fhe/ckks.h"
#include "fhe/keys.h"
#include "fhe/serialize.h"

namespace swarm::jobs {
namespace {

// What CheckCircuit knows about a value without computing it.
struct Shape {
  size_t level = 0;
  size_t parts = 2;
  double budget_bits = 0;  // BFV estimate
};

Status OpError(const Op& op, const std::string& why) {
  return absl::FailedPreconditionError(absl::StrCat("circuit op '", op.id, "' (", OpName(op.kind), "): ", why));
}

Status NeedRotation(const Op& op, const EvalKeys& k, int steps) {
  const uint32_t g = fhe::GaloisElementForRotation(k.ctx->n(), steps);
  if (g == 1 || (k.galois && k.galois->Has(g))) return absl::OkStatus();
  return OpError(op, absl::StrCat("needs the Galois key for a rotation by ", steps, " (element ", g,
                                  "), which the job's keys do not include"));
}

Status NeedTwoParts(const Op& op, const Shape& s) {
  if (s.parts == 2) return absl::OkStatus();
  return OpError(op, absl::StrCat("argument has ", s.parts, " parts; relinearize first"));
}

Status NeedRelin(const Op& op, const EvalKeys& k) {
  if (k.relin) return absl::OkStatus();
  return OpError(op, "needs the relinearization key, which the job's keys do not include");
}

Status NeedLevels(const Op& op, const Shape& s, size_t levels) {
  if (s.level >= levels) return absl::OkStatus();
  return OpError(op, absl::StrCat("needs ", levels, " level(s) but its argument is at level ", s.level,
                                  ": the circuit exceeds the depth budget of these parameters"));
}

size_t PolyDepth(const std::vector<double>& coeffs0) {
  std::vector<double> c = coeffs0;
  while (!c.empty() && c.back() == 0.0) c.pop_back();
  const size_t deg = c.size() < 2 ? 1 : c.size() - 1;
  size_t depth = 1;
  while ((size_t{1} << (depth - 1)) < deg) ++depth;
  return depth;
}

size_t NextPow2(size_t x) {
  size_t d = 1;
  while (d < x) d <<= 1;
  return d;
}

StatusOr<Shape> CheckCkksOp(const Op& op, const EvalKeys& k, const std::vector<Shape>& a) {
  Shape r = a[0];
  const size_t slots = k.ctx->slot_count();
  switch (op.kind) {
    case OpKind::kAdd:
    case OpKind::kSub:
      r.level = std::min(a[0].level, a[1].level);
      r.parts = std::max(a[0].parts, a[1].parts);
      break;
    case OpKind::kNegate:
    case OpKind::kAddScalar:
      break;
    case OpKind::kMul:
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[0]));
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[1]));
      r.level = std::min(a[0].level, a[1].level);
      r.parts = 3;
      break;
    case OpKind::kMulPlain:
      if (op.values.size() > slots) {
        return OpError(op, absl::StrCat("'values' has ", op.values.size(), " entries but there are ", slots, " slots"));
      }
      SWARM_RETURN_IF_ERROR(NeedLevels(op, a[0], 1));
      break;
    case OpKind::kMulScalar:
      SWARM_RETURN_IF_ERROR(NeedLevels(op, a[0], 1));
      break;
    case OpKind::kRelinearize:
      if (a[0].parts == 3) SWARM_RETURN_IF_ERROR(NeedRelin(op, k));
      r.parts = 2;
      break;
    case OpKind::kRescale:
      SWARM_RETURN_IF_ERROR(NeedLevels(op, a[0], 1));
      r.level = a[0].level - 1;
      break;
    case OpKind::kRotate:
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[0]));
      SWARM_RETURN_IF_ERROR(NeedRotation(op, k, op.steps));
      break;
    case OpKind::kConjugate: {
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[0]));
      const uint32_t g = fhe::GaloisElementForConjugation(k.ctx->n());
      if (!k.galois || !k.galois->Has(g)) {
        return OpError(op, absl::StrCat("needs the Galois key for conjugation (element ", g, ")"));
      }
      break;
    }
    case OpKind::kSum:
    case OpKind::kDot:
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[0]));
      if (op.kind == OpKind::kDot) {
        SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[1]));
        SWARM_RETURN_IF_ERROR(NeedRelin(op, k));
        r.level = std::min(a[0].level, a[1].level);
        SWARM_RETURN_IF_ERROR(NeedLevels(op, r, 1));
        r.level -= 1;
      }
      for (size_t s = 1; s < slots; s <<= 1) SWARM_RETURN_IF_ERROR(NeedRotation(op, k, static_cast<int>(s)));
      break;
    case OpKind::kMatmul: {
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[0]));
      const size_t d = NextPow2(std::max(op.rows, op.cols));
      if (2 * d > slots) {
        return OpError(op, absl::StrCat("a ", op.rows, "x", op.cols, " matrix pads to ", d, " and needs 2*", d,
                                        " <= ", slots, " slots"));
      }
      SWARM_RETURN_IF_ERROR(NeedLevels(op, a[0], 1));
      for (int s : fhe::CkksEvaluator::MatVecSteps(op.rows, op.cols)) SWARM_RETURN_IF_ERROR(NeedRotation(op, k, s));
      r.level -= 1;
      break;
    }
    case OpKind::kPolyval: {
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[0]));
      SWARM_RETURN_IF_ERROR(NeedRelin(op, k));
      const size_t depth = PolyDepth(op.coeffs);
      SWARM_RETURN_IF_ERROR(NeedLevels(op, a[0], depth));
      r.level -= depth;
      break;
    }
    case OpKind::kBootstrap: {
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[0]));
      if (!k.bootstrapper) {
        return OpError(op, "bootstrapping is unavailable: the job's keys include no bootstrapping keys for these parameters "
                           "(parameters from fhe::PlanBootstrap, a sparse secret, Galois keys for Bootstrapper::RotationSteps)");
      }
      const size_t out = k.bootstrapper->plan().output_level;
      if (a[0].level > out) {
        return OpError(op, absl::StrCat("argument at level ", a[0].level, " is above the level bootstrapping returns (", out,
                                        "); it needs no bootstrapping"));
      }
      r.level = out;
      break;
    }
  }
  return r;
}

StatusOr<Shape> CheckBfvOp(const Op& op, const EvalKeys& k, const std::vector<Shape>& a) {
  Shape r = a[0];
  fhe::BfvEvaluator ev(k.ctx, k.relin, k.galois);
  const auto budget = [&](double after) -> Status {
    if (after > 0) return absl::OkStatus();
    return OpError(op, absl::StrCat("estimated noise budget would drop to ", after,
                                    " bits: the circuit exceeds the noise budget of these parameters"));
  };
  switch (op.kind) {
    case OpKind::kAdd:
    case OpKind::kSub:
      r.parts = std::max(a[0].parts, a[1].parts);
      r.budget_bits = std::min(a[0].budget_bits, a[1].budget_bits) - 1;
      SWARM_RETURN_IF_ERROR(budget(r.budget_bits));
      break;
    case OpKind::kNegate:
      break;
    case OpKind::kMul:
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[0]));
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[1]));
      r.parts = 3;
      r.budget_bits = std::min(a[0].budget_bits, a[1].budget_bits) - ev.MultiplyCostBits();
      SWARM_RETURN_IF_ERROR(budget(r.budget_bits));
      break;
    case OpKind::kMulPlain:
    case OpKind::kMulScalar: {
      const double t = static_cast<double>(k.ctx->plain_modulus());
      const auto check = [&](double v) -> Status {
        if (v != std::floor(v) || std::fabs(v) > t / 2) {
          return OpError(op, absl::StrCat("BFV plain value ", v, " is not an integer in (-t/2, t/2], t = ", t));
        }
        return absl::OkStatus();
      };
      if (op.kind == OpKind::kMulScalar) SWARM_RETURN_IF_ERROR(check(op.value));
      for (double v : op.values) SWARM_RETURN_IF_ERROR(check(v));
      if (op.values.size() > k.ctx->n()) {
        return OpError(op, absl::StrCat("'values' has ", op.values.size(), " entries but there are ", k.ctx->n(), " slots"));
      }
      r.budget_bits -= ev.MultiplyPlainCostBits();
      SWARM_RETURN_IF_ERROR(budget(r.budget_bits));
      break;
    }
    case OpKind::kRelinearize:
      if (a[0].parts == 3) SWARM_RETURN_IF_ERROR(NeedRelin(op, k));
      r.parts = 2;
      break;
    case OpKind::kRotate:
      SWARM_RETURN_IF_ERROR(NeedTwoParts(op, a[0]));
      if (!ev.CanRotateRows(op.steps)) {
        return OpError(op, absl::StrCat("needs the Galois key for a row rotation by ", op.steps,
                                        ", which the job's keys do not include"));
      }
      break;
    default:
      return OpError(op, absl::StrCat("op does not exist for scheme bfv"));
  }
  return r;
}

StatusOr<fhe::Ciphertext> EvalCkks(const Op& op, const EvalKeys& k, const fhe::CkksEvaluator& ev,
                                   const fhe::CkksEncoder& enc, const std::vector<const fhe::Ciphertext*>& a) {
  switch (op.kind) {
    case OpKind::kAdd: return ev.Add(*a[0], *a[1]);
    case OpKind::kSub: return ev.Sub(*a[0], *a[1]);
    case OpKind::kNegate: return ev.Negate(*a[0]);
    case OpKind::kMul: return ev.Multiply(*a[0], *a[1]);
    case OpKind::kMulPlain: {
      const double scale = static_cast<double>(k.ctx->modulus(a[0]->level).value());
      SWARM_ASSIGN_OR_RETURN(fhe::Plaintext p, enc.Encode(std::span<const double>(op.values), scale, a[0]->level));
      return ev.MultiplyPlain(*a[0], p);
    }
    case OpKind::kMulScalar: return ev.MultiplyScalar(*a[0], op.value);
    case OpKind::kAddScalar: return ev.AddScalar(*a[0], op.value);
    case OpKind::kRelinearize: return ev.Relinearize(*a[0]);
    case OpKind::kRescale: return ev.Rescale(*a[0]);
    case OpKind::kRotate: return ev.Rotate(*a[0], op.steps);
    case OpKind::kConjugate: return ev.Conjugate(*a[0]);
    case OpKind::kSum: return ev.SumSlots(*a[0]);
    case OpKind::kDot: return ev.Dot(*a[0], *a[1]);
    case OpKind::kMatmul: return ev.MatVec(enc, *a[0], op.matrix, op.rows, op.cols);
    case OpKind::kPolyval: return ev.EvalPolynomial(*a[0], op.coeffs);
    case OpKind::kBootstrap: return k.bootstrapper->Bootstrap(*a[0]);
  }
  return absl::InternalError("unreachable");
}

StatusOr<fhe::Ciphertext> EvalBfv(const Op& op, const EvalKeys& k, const fhe::BfvEvaluator& ev,
                                  const fhe::BfvEncoder& enc, const std::vector<const fhe::Ciphertext*>& a) {
  switch (op.kind) {
    case OpKind::kAdd: return ev.Add(*a[0], *a[1]);
    case OpKind::kSub: return ev.Sub(*a[0], *a[1]);
    case OpKind::kNegate: return ev.Negate(*a[0]);
    case OpKind::kMul: return ev.Multiply(*a[0], *a[1]);
    case OpKind::kMulPlain:
    case OpKind::kMulScalar: {
      std::vector<int64_t> v;
      if (op.kind == OpKind::kMulScalar) {
        v.assign(k.ctx->n(), static_cast<int64_t>(op.value));
      } else {
        for (double x : op.values) v.push_back(static_cast<int64_t>(x));
      }
      SWARM_ASSIGN_OR_RETURN(fhe::Plaintext p, enc.EncodeSigned(v));
      return ev.MultiplyPlain(*a[0], p);
    }
    case OpKind::kRelinearize: return ev.Relinearize(*a[0]);
    case OpKind::kRotate: return ev.RotateRows(*a[0], op.steps);
    default: break;
  }
  return OpError(op, "op does not exist for scheme bfv");
}

}  // namespace

StatusOr<EvalKeys> LoadEvalKeys(ByteSpan params, ByteSpan relin, ByteSpan galois) {
  EvalKeys k;
  auto ctx = fhe::DeserializeParams(params);
  if (!ctx.ok()) return absl::InvalidArgumentError(absl::StrCat("eval keys: params: ", ctx.status().message()));
  k.ctx = *ctx;
  if (!relin.empty()) {
    auto r = fhe::DeserializeRelinKey(*k.ctx, relin);
    if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat("eval keys: relinearization key: ", r.status().message()));
    k.relin = std::make_shared<const fhe::RelinKey>(std::move(*r));
  }
  if (!galois.empty()) {
    auto g = fhe::DeserializeGaloisKeys(*k.ctx, galois);
    if (!g.ok()) return absl::InvalidArgumentError(absl::StrCat("eval keys: Galois keys: ", g.status().message()));
    k.galois = std::make_shared<const fhe::GaloisKeys>(std::move(*g));
  }
  return k;
}

Status CheckCircuit(const Circuit& c, const EvalKeys& keys, const Values& inputs) {
  if (!keys.ctx) return absl::InvalidArgumentError("circuit: no parameters given");
  if (keys.ctx->scheme() != c.scheme) {
    return absl::InvalidArgumentError(absl::StrCat("circuit: scheme ", fhe::SchemeName(c.scheme),
                                                   " but the keys are for ", fhe::SchemeName(keys.ctx->scheme())));
  }
  std::map<std::string, Shape> shapes;
  for (const auto& name : c.inputs) {
    auto it = inputs.find(name);
    if (it == inputs.end()) return absl::InvalidArgumentError(absl::StrCat("circuit: input '", name, "' was not given"));
    const fhe::Ciphertext& ct = it->second;
    if (ct.scheme != c.scheme || ct.param_hash != keys.ctx->hash()) {
      return absl::InvalidArgumentError(
          absl::StrCat("circuit: input '", name, "' was made under other parameters or another scheme"));
    }
    if (ct.parts.size() < 2 || ct.parts.size() > 3 || ct.level > keys.ctx->max_level()) {
      return absl::InvalidArgumentError(absl::StrCat("circuit: input '", name, "' has ", ct.parts.size(),
                                                     " parts at level ", ct.level));
    }
    shapes[name] = Shape{ct.level, ct.parts.size(), ct.noise_budget_est_bits};
  }
  for (const auto& [name, ct] : inputs) {
    if (!shapes.count(name)) return absl::InvalidArgumentError(absl::StrCat("circuit: input '", name, "' is not declared"));
  }
  for (const Op& op : c.ops) {
    std::vector<Shape> args;
    for (const auto& a : op.args) args.push_back(shapes.at(a));
    auto s = c.scheme == fhe::Scheme::kCkks ? CheckCkksOp(op, keys, args) : CheckBfvOp(op, keys, args);
    if (!s.ok() && keys.bootstrapper && absl::StrContains(s.status().message(), "depth budget")) {
      return absl::Status(s.status().code(), absl::StrCat(s.status().message(), "; bootstrapping is available for these "
                                                          "parameters: insert a 'bootstrap' op before this one"));
    }
    if (!s.ok()) return s.status();
    shapes[op.id] = *s;
  }
  return absl::OkStatus();
}

StatusOr<Values> Evaluate(const Circuit& c, const EvalKeys& keys, const Values& inputs) {
  SWARM_RETURN_IF_ERROR(CheckCircuit(c, keys, inputs));
  std::map<std::string, fhe::Ciphertext> vals(inputs.begin(), inputs.end());
  std::optional<fhe::CkksEvaluator> cev;
  std::optional<fhe::CkksEncoder> cenc;
  std::optional<fhe::BfvEvaluator> bev;
  std::optional<fhe::BfvEncoder> benc;
  if (c.scheme == fhe::Scheme::kCkks) {
    cev.emplace(keys.ctx, keys.relin, keys.galois);
    cenc.emplace(keys.ctx);
  } else {
    bev.emplace(keys.ctx, keys.relin, keys.galois);
    benc.emplace(keys.ctx);
  }
  for (const Op& op : c.ops) {
    std::vector<const fhe::Ciphertext*> args;
    for (const auto& a : op.args) args.push_back(&vals.at(a));
    auto r = c.scheme == fhe::Scheme::kCkks ? EvalCkks(op, keys, *cev, *cenc, args) : EvalBfv(op, keys, *bev, *benc, args);
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrCat("circuit op '", op.id, "' (", OpName(op.kind), "): ", r.status().message()));
    }
    vals[op.id] = std::move(*r);
  }
  Values out;
  for (const auto& o : c.outputs) out[o] = vals.at(o);
  return out;
}

std::vector<Bytes> SerializeOutputs(const Circuit& c, const EvalKeys& keys, const Values& outputs) {
  std::vector<Bytes> out;
  for (const auto& o : c.outputs) out.push_back(fhe::Serialize(*keys.ctx, outputs.at(o)));
  return out;
}

crypto::Digest256 ResultDigest(const std::vector<Bytes>& outs) {
  Bytes framed;
  const auto put = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) framed.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put(outs.size(), 4);
  size_t total = 0;
  for (const auto& o : outs) total += o.size() + 8;
  framed.reserve(total + 4);
  for (const auto& o : outs) {
    put(o.size(), 8);
    framed.insert(framed.end(), o.begin(), o.end());
  }
  return crypto::Sha3_256(framed);
}

}  // namespace swarm::jobs
