#include <cmath>

#include "absl/strings/str_format.h"
#include "fhe/ckks.h"

#include "fhe/ntt.h"
#include "fhe/poly_simd.h"
#include "fhe/rns_util.h"

namespace swarm::fhe {
namespace {

constexpr double kScaleTolerance = 1e-9;
constexpr double kScaleHeadroomBits = 2;  // sign bit plus one bit of value magnitude

Status ScaleFits(const Context& c, const char* op, double scale, size_t level) {
  const double bits = std::log2(scale), cap = c.log2_q_at(level) - kScaleHeadroomBits;
  if (!(bits <= cap)) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: result scale 2^%.1f does not fit the modulus left at level %d (2^%.1f, %g bits headroom); "
        "rescale first or use a longer modulus chain", op, bits, level, c.log2_q_at(level), kScaleHeadroomBits));
  }
  return absl::OkStatus();
}

Ciphertext DropTo(const Ciphertext& a, size_t level) {
  Ciphertext r = a;
  for (auto& p : r.parts) p.Truncate(level + 1);
  r.level = level;
  return r;
}

}  // namespace

CkksEvaluator::CkksEvaluator(ContextPtr ctx, std::shared_ptr<const RelinKey> relin,
                             std::shared_ptr<const GaloisKeys> galois)
    : ctx_(std::move(ctx)), relin_(std::move(relin)), galois_(std::move(galois)) {}

Status CkksEvaluator::CheckOperand(const char* op, const Ciphertext& a) const {
  if (ctx_->scheme() != Scheme::kCkks) return absl::FailedPreconditionError(absl::StrCat(op, ": context is not CKKS"));
  Status s = ValidateCiphertext(*ctx_, a);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(op, ": ", s.message()));
  return absl::OkStatus();
}

Status CkksEvaluator::CheckPair(const char* op, const Ciphertext& a, const Ciphertext& b) const {
  SWARM_RETURN_IF_ERROR(CheckOperand(op, a));
  SWARM_RETURN_IF_ERROR(CheckOperand(op, b));
  if (a.key_id != b.key_id) return absl::InvalidArgumentError(absl::StrCat(op, ": operands were encrypted under different keys (key id mismatch)"));
  return absl::OkStatus();
}

StatusOr<Ciphertext> CkksEvaluator::AddSub(const Ciphertext& a0, const Ciphertext& b0, bool sub) const {
  const char* op = sub ? "sub" : "add";
  SWARM_RETURN_IF_ERROR(CheckPair(op, a0, b0));
  if (std::fabs(a0.scale / b0.scale - 1.0) > kScaleTolerance) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: scales differ (2^%.6f vs 2^%.6f)", op, std::log2(a0.scale), std::log2(b0.scale)));
  }
  const size_t level = std::min(a0.level, b0.level);
  const Basis bs = DataBasis(level);
  // Each part is written once into the result, reading only the first
  // level + 1 rows of each operand (no copies of whole operands).
  Ciphertext r;
  r.scheme = a0.scheme;
  r.level = level;
  r.scale = a0.scale;
  r.noise_budget_est_bits = a0.noise_budget_est_bits;
  r.key_id = a0.key_id;
  r.param_hash = a0.param_hash;
  r.parts.resize(std::max(a0.parts.size(), b0.parts.size()));
  for (size_t i = 0; i < r.parts.size(); ++i) {
    const bool in_a = i < a0.parts.size(), in_b = i < b0.parts.size();
    if (in_a && in_b) {
      PolyAddSubInto(*ctx_, bs, a0.parts[i], b0.parts[i], sub, r.parts[i]);
    } else {
      const RnsPoly& only = in_a ? a0.parts[i] : b0.parts[i];
      r.parts[i].n = only.n;
      r.parts[i].k = level + 1;
      r.parts[i].data.assign(only.data.begin(), only.data.begin() + static_cast<std::ptrdiff_t>(only.n * (level + 1)));
      if (sub && !in_a) PolyNeg(*ctx_, bs, r.parts[i]);
    }
  }
  return r;
}

StatusOr<Ciphertext> CkksEvaluator::Add(const Ciphertext& a, const Ciphertext& b) const { return AddSub(a, b, false); }
StatusOr<Ciphertext> CkksEvaluator::Sub(const Ciphertext& a, const Ciphertext& b) const { return AddSub(a, b, true); }

StatusOr<Ciphertext> CkksEvaluator::Negate(const Ciphertext& a) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("negate", a));
  Ciphertext r = a;
  for (auto& p : r.parts) PolyNeg(*ctx_, DataBasis(a.level), p);
  return r;
}

StatusOr<Ciphertext> CkksEvaluator::AddPlain(const Ciphertext& a, const Plaintext& p) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("add_plain", a));
  SWARM_RETURN_IF_ERROR(ValidatePlaintext(*ctx_, p));
  if (std::fabs(a.scale / p.scale - 1.0) > kScaleTolerance) {
    return absl::InvalidArgumentError(absl::StrFormat("add_plain: scales differ (2^%.6f vs 2^%.6f)", std::log2(a.scale), std::log2(p.scale)));
  }
  const size_t level = std::min(a.level, p.level);
  Ciphertext r = DropTo(a, level);
  RnsPoly m = p.poly;
  m.Truncate(level + 1);
  PolyAdd(*ctx_, DataBasis(level), r.parts[0], m);
  return r;
}

StatusOr<Ciphertext> CkksEvaluator::SubPlain(const Ciphertext& a, const Plaintext& p) const {
  Plaintext neg = p;
  PolyNeg(*ctx_, DataBasis(p.level), neg.poly);
  return AddPlain(a, neg);
}

StatusOr<Ciphertext> CkksEvaluator::AddScalar(const Ciphertext& a, double c) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("add_scalar", a));
  const double v = std::round(c * a.scale);
  if (!std::isfinite(v) || (v != 0 && std::log2(std::fabs(v)) + 1 >= ctx_->log2_q_at(a.level))) {
    return absl::InvalidArgumentError(absl::StrCat("add_scalar: ", c, " times scale does not fit level ", a.level));
  }
  Ciphertext r = a;
  for (size_t row = 0; row <= a.level; ++row) {
    const Modulus& m = ctx_->modulus(row);
    const uint64_t x = ReduceIntegralDouble(v, m);
    uint64_t* p = r.parts[0].row(row);
    for (size_t i = 0; i < ctx_->n(); ++i) p[i] = m.Add(p[i], x);
  }
  return r;
}

StatusOr<Ciphertext> CkksEvaluator::MultiplyPlain(const Ciphertext& a, const Plaintext& p) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("multiply_plain", a));
  SWARM_RETURN_IF_ERROR(ValidatePlaintext(*ctx_, p));
  const size_t level = std::min(a.level, p.level);
  SWARM_RETURN_IF_ERROR(ScaleFits(*ctx_, "multiply_plain", a.scale * p.scale, level));
  Ciphertext r = DropTo(a, level);
  RnsPoly m = p.poly;
  m.Truncate(level + 1);
  for (auto& part : r.parts) PolyMul(*ctx_, DataBasis(level), part, m);
  r.scale = a.scale * p.scale;
  return r;
}

StatusOr<Ciphertext> CkksEvaluator::MultiplyConstantPoly(const Ciphertext& a, const std::vector<uint64_t>& per_row,
                                                         double factor_scale) const {
  Ciphertext r = a;
  for (auto& part : r.parts) PolyMulRowScalars(*ctx_, DataBasis(a.level), part, per_row);
  r.scale = a.scale * factor_scale;
  return r;
}

StatusOr<Ciphertext> CkksEvaluator::MultiplyScalar(const Ciphertext& a, double c) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("multiply_scalar", a));
  if (!std::isfinite(c)) return absl::InvalidArgumentError("multiply_scalar: scalar is not finite");
  if (a.level == 0) {
    return absl::OutOfRangeError(absl::StrFormat("multiply_scalar: ciphertext at level 0 (scale 2^%.1f) has no prime left to rescale by", std::log2(a.scale)));
  }
  const double factor = static_cast<double>(ctx_->modulus(a.level).value());
  SWARM_RETURN_IF_ERROR(ScaleFits(*ctx_, "multiply_scalar", a.scale * factor * std::max(1.0, std::fabs(c)), a.level));
  const double v = std::round(c * factor);
  std::vector<uint64_t> rows;
  for (size_t row = 0; row <= a.level; ++row) rows.push_back(ReduceIntegralDouble(v, ctx_->modulus(row)));
  return MultiplyConstantPoly(a, rows, factor);
}

StatusOr<Ciphertext> CkksEvaluator::Multiply(const Ciphertext& a0, const Ciphertext& b0) const {
  SWARM_RETURN_IF_ERROR(CheckPair("multiply", a0, b0));
  if (a0.parts.size() != 2 || b0.parts.size() != 2) {
    return absl::FailedPreconditionError("multiply: operands must have 2 parts (relinearize first)");
  }
  const size_t level = std::min(a0.level, b0.level);
  SWARM_RETURN_IF_ERROR(ScaleFits(*ctx_, "multiply", a0.scale * b0.scale, level));
  // The products are written straight into the result (no copies of the
  // operands): rows above `level` of the higher operand are never read.
  const Basis bs = DataBasis(level);
  Ciphertext r;
  r.scheme = a0.scheme;
  r.level = level;
  r.scale = a0.scale * b0.scale;
  r.key_id = a0.key_id;
  r.param_hash = a0.param_hash;
  r.parts.resize(3);
  PolyMulInto(*ctx_, bs, a0.parts[0], b0.parts[0], r.parts[0]);
  PolyMulInto(*ctx_, bs, a0.parts[0], b0.parts[1], r.parts[1]);
  PolyMulAcc(*ctx_, bs, r.parts[1], a0.parts[1], b0.parts[0]);
  PolyMulInto(*ctx_, bs, a0.parts[1], b0.parts[1], r.parts[2]);
  return r;
}

StatusOr<Ciphertext> CkksEvaluator::Relinearize(const Ciphertext& a) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("relinearize", a));
  if (a.parts.size() == 2) return a;
  if (!relin_) return absl::FailedPreconditionError("relinearize: no relinearization key was given to the evaluator");
  if (relin_->id != a.key_id || relin_->param_hash != ctx_->hash()) {
    return absl::InvalidArgumentError("relinearize: relinearization key belongs to another key pair or parameter set");
  }
  return RelinearizeWith(*ctx_, a, relin_->key);
}

StatusOr<Ciphertext> CkksEvaluator::MultiplyRelin(const Ciphertext& a, const Ciphertext& b) const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext m, Multiply(a, b));
  return Relinearize(m);
}

StatusOr<Ciphertext> CkksEvaluator::MultiplyRelinRescale(const Ciphertext& a, const Ciphertext& b) const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext m, MultiplyRelin(a, b));
  return Rescale(m);
}

StatusOr<Ciphertext> CkksEvaluator::Rescale(const Ciphertext& a) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("rescale", a));
  if (a.level == 0) {
    return absl::OutOfRangeError(absl::StrFormat(
        "rescale: ciphertext is at level 0 (scale 2^%.1f); the modulus chain is exhausted", std::log2(a.scale)));
  }
  const Context& c = *ctx_;
  const size_t l = a.level, n = c.n();
  const Modulus& ql = c.modulus(l);
  const uint64_t half = ql.value() >> 1;
  Ciphertext r = a;
  std::vector<uint64_t> last(n), tmp(n);
  for (auto& part : r.parts) {
    std::copy(part.row(l), part.row(l) + n, last.begin());
    c.ntt(l).Inverse(last.data());
    for (auto& v : last) v = ql.Add(v, half);
    for (size_t i = 0; i < l; ++i) {
      const Modulus& qi = c.modulus(i);
      const uint64_t half_i = qi.Reduce(half);
      const bool simd = NttSimdEnabled();
      if (!simd || !ReduceSubRowSimd(qi.value(), half_i, last.data(), tmp.data(), n)) {
        for (size_t j = 0; j < n; ++j) tmp[j] = qi.Sub(qi.Reduce(last[j]), half_i);
      }
      c.ntt(i).Forward(tmp.data());
      const uint64_t inv = c.inv_last_mod(l, i), invp = qi.ShoupOf(inv);
      uint64_t* row = part.row(i);
      if (simd && SubMulShoupRowSimd(qi.value(), row, tmp.data(), inv, invp, row, n)) continue;
      for (size_t j = 0; j < n; ++j) row[j] = qi.MulShoup(qi.Sub(row[j], tmp[j]), inv, invp);
    }
    part.Truncate(l);
  }
  r.level = l - 1;
  r.scale = a.scale / static_cast<double>(ql.value());
  return r;
}

StatusOr<Ciphertext> CkksEvaluator::ModSwitchTo(const Ciphertext& a, size_t level) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("mod_switch", a));
  if (level > a.level) {
    return absl::OutOfRangeError(absl::StrCat("mod_switch: target level ", level, " is above the ciphertext's level ", a.level));
  }
  return DropTo(a, level);
}

StatusOr<Ciphertext> CkksEvaluator::ApplyGalois(const char* op, const Ciphertext& a, uint32_t g) const {
  SWARM_RETURN_IF_ERROR(CheckOperand(op, a));
  if (a.parts.size() != 2) return absl::FailedPreconditionError(absl::StrCat(op, ": ciphertext has 3 parts (relinearize first)"));
  if (!galois_ || !galois_->Has(g)) {
    return absl::FailedPreconditionError(absl::StrCat(op, ": no Galois key for element ", g, " was given to the evaluator"));
  }
  if (galois_->id != a.key_id || galois_->param_hash != ctx_->hash()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": Galois keys belong to another key pair or parameter set"));
  }
  return ApplyGaloisWith(*ctx_, a, g, galois_->keys.at(g));
}

StatusOr<Ciphertext> CkksEvaluator::Rotate(const Ciphertext& a, int steps) const {
  const uint32_t g = GaloisElementForRotation(ctx_->n(), steps);
  if (g == 1) {
    SWARM_RETURN_IF_ERROR(CheckOperand("rotate", a));
    return a;
  }
  auto r = ApplyGalois("rotate", a, g);
  if (!r.ok() && absl::IsFailedPrecondition(r.status()) && (!galois_ || !galois_->Has(g))) {
    return absl::FailedPreconditionError(absl::StrCat("rotate: no Galois key for a rotation by ", steps, " (element ", g, ")"));
  }
  return r;
}

bool CkksEvaluator::CanRotate(int steps) const {
  const uint32_t g = GaloisElementForRotation(ctx_->n(), steps);
  return g == 1 || (galois_ && galois_->Has(g));
}

bool CkksEvaluator::CanConjugate() const {
  return galois_ && galois_->Has(GaloisElementForConjugation(ctx_->n()));
}

StatusOr<Ciphertext> CkksEvaluator::Conjugate(const Ciphertext& a) const {
  return ApplyGalois("conjugate", a, GaloisElementForConjugation(ctx_->n()));
}

StatusOr<Ciphertext> CkksEvaluator::SumSlots(const Ciphertext& a) const {
  Ciphertext acc = a;
  for (size_t k = 1; k < ctx_->slot_count(); k <<= 1) {
    SWARM_ASSIGN_OR_RETURN(Ciphertext rot, Rotate(acc, static_cast<int>(k)));
    SWARM_ASSIGN_OR_RETURN(acc, Add(acc, rot));
  }
  return acc;
}

StatusOr<Ciphertext> CkksEvaluator::Dot(const Ciphertext& a, const Ciphertext& b) const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext m, MultiplyRelinRescale(a, b));
  return SumSlots(m);
}

namespace {
size_t NextPow2(size_t x) {
  size_t d = 1;
  while (d < x) d <<= 1;
  return d;
}
}  // namespace

std::vector<int> CkksEvaluator::MatVecSteps(size_t rows, size_t cols) {
  const size_t d = NextPow2(std::max(rows, cols));
  std::vector<int> steps;
  for (size_t i = 1; i < d; ++i) steps.push_back(static_cast<int>(i));
  steps.push_back(-static_cast<int>(d));
  return steps;
}

StatusOr<Ciphertext> CkksEvaluator::MatVec(const CkksEncoder& enc, const Ciphertext& x,
                                           const std::vector<double>& matrix, size_t rows, size_t cols) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("matvec", x));
  if (rows == 0 || cols == 0 || rows > ctx_->slot_count() || cols > ctx_->slot_count() ||
      matrix.size() != rows * cols) {
    return absl::InvalidArgumentError(absl::StrCat("matvec: matrix has ", matrix.size(), " entries, expected rows*cols = ", rows, "*", cols));
  }
  const size_t d = NextPow2(std::max(rows, cols));
  if (2 * d > ctx_->slot_count()) {
    return absl::InvalidArgumentError(absl::StrCat("matvec: padded size ", d, " needs 2*", d, " ≤ ", ctx_->slot_count(), " slots"));
  }
  if (x.level == 0) return absl::OutOfRangeError("matvec: ciphertext at level 0 has no prime left to rescale by");
  // Replicate x so slots [d, 2d) repeat [0, d).
  SWARM_ASSIGN_OR_RETURN(Ciphertext shifted, Rotate(x, -static_cast<int>(d)));
  SWARM_ASSIGN_OR_RETURN(Ciphertext xr, Add(x, shifted));
  const double pscale = static_cast<double>(ctx_->modulus(x.level).value());
  // Rotations of xr are hoisted: one digit decomposition serves all of them.
  std::optional<HoistedDigits> hoisted;
  auto rotate_xr = [&](size_t i) -> StatusOr<Ciphertext> {
    if (i == 0) return xr;
    const uint32_t g = GaloisElementForRotation(ctx_->n(), static_cast<int>(i));
    if (!galois_ || !galois_->Has(g) || galois_->id != xr.key_id || xr.parts.size() != 2) {
      return Rotate(xr, static_cast<int>(i));  // reports the missing/mismatched key
    }
    if (!hoisted) {
      RnsPoly c1 = xr.parts[1];
      FromNtt(*ctx_, DataBasis(xr.level), c1);
      hoisted = DecomposeForKeySwitch(*ctx_, c1, xr.parts[1], xr.level);
    }
    return ApplyGaloisHoisted(*ctx_, xr, *hoisted, g, galois_->keys.at(g));
  };
  std::optional<Ciphertext> acc;
  for (size_t i = 0; i < d; ++i) {
    std::vector<double> diag(d, 0.0);
    bool any = false;
    for (size_t j = 0; j < d; ++j) {
      const size_t col = (j + i) % d;
      if (j < rows && col < cols) {
        diag[j] = matrix[j * cols + col];
        any = any || diag[j] != 0.0;
      }
    }
    if (!any) continue;
    SWARM_ASSIGN_OR_RETURN(Ciphertext rot, rotate_xr(i));
    SWARM_ASSIGN_OR_RETURN(Plaintext pd, enc.Encode(std::span<const double>(diag), pscale, x.level));
    SWARM_ASSIGN_OR_RETURN(Ciphertext term, MultiplyPlain(rot, pd));
    if (acc) {
      SWARM_ASSIGN_OR_RETURN(acc, Add(*acc, term));
    } else {
      acc = std::move(term);
    }
  }
  if (!acc) {
    SWARM_ASSIGN_OR_RETURN(Ciphertext zero, MultiplyScalar(x, 0.0));
    return Rescale(zero);
  }
  return Rescale(*acc);
}

StatusOr<Ciphertext> CkksEvaluator::EvalPolynomial(const Ciphertext& x, const std::vector<double>& coeffs0) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("eval_polynomial", x));
  std::vector<double> coeffs = coeffs0;
  while (!coeffs.empty() && coeffs.back() == 0.0) coeffs.pop_back();
  if (coeffs.size() < 2) {
    return absl::InvalidArgumentError("eval_polynomial: degree must be at least 1 (give at least two coefficients, the last nonzero)");
  }
  const size_t deg = coeffs.size() - 1;
  if (deg > kEvalPolynomialDegreeMax) {
    return absl::InvalidArgumentError(absl::StrCat("eval_polynomial: degree ", deg, " exceeds eval_polynomial_degree_max ", kEvalPolynomialDegreeMax));
  }
  for (double c : coeffs) {
    if (!std::isfinite(c)) return absl::InvalidArgumentError("eval_polynomial: a coefficient is not finite");
  }
  size_t depth = 1;
  while ((size_t{1} << (depth - 1)) < deg) ++depth;  // ceil(log2 deg) + 1
  if (depth > x.level) {
    return absl::OutOfRangeError(absl::StrCat("eval_polynomial: degree ", deg, " needs depth ", depth,
                                              " but the ciphertext is at level ", x.level));
  }
  std::vector<Ciphertext> pw(deg + 1);
  pw[1] = x;
  for (size_t i = 2; i <= deg; ++i) {
    const size_t a = i / 2, b = i - a;
    SWARM_ASSIGN_OR_RETURN(pw[i], MultiplyRelinRescale(pw[a], pw[b]));
  }
  const double target = x.scale;
  std::vector<Ciphertext> terms;
  size_t min_level = x.level;
  for (size_t i = 1; i <= deg; ++i) {
    if (coeffs[i] == 0.0) continue;
    const Ciphertext& p = pw[i];
    const double ql = static_cast<double>(ctx_->modulus(p.level).value());
    const double factor = target * ql / p.scale;
    const double v = std::round(coeffs[i] * factor);
    std::vector<uint64_t> rows;
    for (size_t row = 0; row <= p.level; ++row) rows.push_back(ReduceIntegralDouble(v, ctx_->modulus(row)));
    SWARM_ASSIGN_OR_RETURN(Ciphertext t, MultiplyConstantPoly(p, rows, factor));
    SWARM_ASSIGN_OR_RETURN(t, Rescale(t));
    t.scale = target;  // = p.scale * factor / q_l up to double rounding
    min_level = std::min(min_level, t.level);
    terms.push_back(std::move(t));
  }
  Ciphertext acc = DropTo(terms[0], min_level);
  for (size_t i = 1; i < terms.size(); ++i) {
    SWARM_ASSIGN_OR_RETURN(acc, Add(acc, DropTo(terms[i], min_level)));
  }
  if (coeffs[0] != 0.0) return AddScalar(acc, coeffs[0]);
  return acc;
}

}  // namespace swarm::fhe
