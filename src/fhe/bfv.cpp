#include "fhe/bfv.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace swarm::fhe {

// ---------------------------------------------------------------- encoder

BfvEncoder::BfvEncoder(ContextPtr ctx) : ctx_(std::move(ctx)) {
  const size_t n = ctx_->n(), half = n / 2;
  const int log_n = __builtin_ctzll(n);
  const uint64_t mask = 2 * n - 1;
  slot_pos_.resize(n);
  uint64_t g = 1;
  for (size_t j = 0; j < half; ++j) {
    const uint64_t e0 = g, e1 = (2 * n - g) & mask;
    slot_pos_[j] = BitReverse(static_cast<uint32_t>((e0 - 1) / 2), log_n);
    slot_pos_[half + j] = BitReverse(static_cast<uint32_t>((e1 - 1) / 2), log_n);
    g = (g * 5) & mask;
  }
}

StatusOr<Plaintext> BfvEncoder::Encode(std::span<const uint64_t> values) const {
  const Context& c = *ctx_;
  if (c.scheme() != Scheme::kBfv) return absl::FailedPreconditionError("bfv encode: context is not BFV");
  if (values.size() > c.n()) return absl::InvalidArgumentError(absl::StrCat("bfv encode: ", values.size(), " values but only ", c.n(), " slots"));
  const uint64_t t = c.plain_modulus();
  Plaintext pt;
  pt.scheme = Scheme::kBfv;
  pt.level = c.max_level();
  pt.param_hash = c.hash();
  pt.poly = RnsPoly(c.n(), 1);
  uint64_t* row = pt.poly.row(0);
  for (size_t j = 0; j < values.size(); ++j) {
    if (values[j] >= t) return absl::InvalidArgumentError(absl::StrCat("bfv encode: value ", j, " = ", values[j], " not below plain modulus ", t));
    row[slot_pos_[j]] = values[j];
  }
  c.plain_ntt()->Inverse(row);
  return pt;
}

StatusOr<Plaintext> BfvEncoder::EncodeSigned(std::span<const int64_t> values) const {
  const int64_t t = static_cast<int64_t>(ctx_->plain_modulus());
  std::vector<uint64_t> u(values.size());
  for (size_t j = 0; j < values.size(); ++j) {
    const int64_t v = values[j];
    if (v > t / 2 || v < -(t / 2)) {
      return absl::InvalidArgumentError(absl::StrCat("bfv encode: value ", j, " = ", v, " outside (-t/2, t/2] for t = ", t));
    }
    u[j] = static_cast<uint64_t>(v < 0 ? v + t : v);
  }
  return Encode(u);
}

StatusOr<std::vector<uint64_t>> BfvEncoder::Decode(const Plaintext& pt) const {
  SWARM_RETURN_IF_ERROR(ValidatePlaintext(*ctx_, pt));
  std::vector<uint64_t> coeffs(pt.poly.row(0), pt.poly.row(0) + ctx_->n());
  const uint64_t t = ctx_->plain_modulus();
  for (uint64_t v : coeffs) {
    if (v >= t) return absl::InvalidArgumentError(absl::StrCat("bfv decode: coefficient ", v, " not below plain modulus ", t));
  }
  ctx_->plain_ntt()->Forward(coeffs.data());
  std::vector<uint64_t> out(ctx_->n());
  for (size_t j = 0; j < out.size(); ++j) out[j] = coeffs[slot_pos_[j]];
  return out;
}

StatusOr<std::vector<int64_t>> BfvEncoder::DecodeSigned(const Plaintext& pt) const {
  SWARM_ASSIGN_OR_RETURN(auto u, Decode(pt));
  const uint64_t t = ctx_->plain_modulus();
  std::vector<int64_t> out(u.size());
  for (size_t j = 0; j < u.size(); ++j) out[j] = u[j] > t / 2 ? static_cast<int64_t>(u[j]) - static_cast<int64_t>(t) : static_cast<int64_t>(u[j]);
  return out;
}

// ---------------------------------------------------------------- evaluator

BfvEvaluator::BfvEvaluator(ContextPtr ctx, std::shared_ptr<const RelinKey> relin,
                           std::shared_ptr<const GaloisKeys> galois)
    : ctx_(std::move(ctx)), relin_(std::move(relin)), galois_(std::move(galois)) {}

double BfvEvaluator::MultiplyCostBits() const {
  // ||v_out|| ≤ t * N * (||v1|| + ||v2||) * (1 + ||s||) worst case, plus
  // relinearization; with ternary s this is log2(t) + 2 log2(N) + 2 bits
  // at most, and in practice much less (measured in tests and docs/fhe.md).
  return std::log2(static_cast<double>(ctx_->plain_modulus())) + std::log2(static_cast<double>(ctx_->n())) + 4;
}

double BfvEvaluator::MultiplyPlainCostBits() const {
  return std::log2(static_cast<double>(ctx_->plain_modulus())) + std::log2(static_cast<double>(ctx_->n()));
}

Status BfvEvaluator::CheckOperand(const char* op, const Ciphertext& a) const {
  if (ctx_->scheme() != Scheme::kBfv) return absl::FailedPreconditionError(absl::StrCat(op, ": context is not BFV"));
  Status s = ValidateCiphertext(*ctx_, a);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(op, ": ", s.message()));
  return absl::OkStatus();
}

Status BfvEvaluator::CheckPair(const char* op, const Ciphertext& a, const Ciphertext& b) const {
  SWARM_RETURN_IF_ERROR(CheckOperand(op, a));
  SWARM_RETURN_IF_ERROR(CheckOperand(op, b));
  if (a.key_id != b.key_id) return absl::InvalidArgumentError(absl::StrCat(op, ": operands were encrypted under different keys (key id mismatch)"));
  return absl::OkStatus();
}

Status BfvEvaluator::CheckBudget(const char* op, double after, double in1, double in2) const {
  if (after <= 0) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: estimated noise budget after the operation is %.1f bits (operands have %.1f and %.1f bits) at level %d; "
        "the result would not decrypt correctly", op, after, in1, in2, ctx_->max_level()));
  }
  return absl::OkStatus();
}

StatusOr<Ciphertext> BfvEvaluator::AddSub(const Ciphertext& a, const Ciphertext& b, bool sub) const {
  const char* op = sub ? "bfv sub" : "bfv add";
  SWARM_RETURN_IF_ERROR(CheckPair(op, a, b));
  const double after = std::min(a.noise_budget_est_bits, b.noise_budget_est_bits) - 1;
  SWARM_RETURN_IF_ERROR(CheckBudget(op, after, a.noise_budget_est_bits, b.noise_budget_est_bits));
  Ciphertext r = a;
  const Basis bs = DataBasis(a.level);
  if (r.parts.size() < b.parts.size()) r.parts.resize(b.parts.size(), RnsPoly(ctx_->n(), a.level + 1));
  for (size_t i = 0; i < b.parts.size(); ++i) {
    if (sub) PolySub(*ctx_, bs, r.parts[i], b.parts[i]);
    else PolyAdd(*ctx_, bs, r.parts[i], b.parts[i]);
  }
  r.noise_budget_est_bits = after;
  return r;
}

StatusOr<Ciphertext> BfvEvaluator::Add(const Ciphertext& a, const Ciphertext& b) const { return AddSub(a, b, false); }
StatusOr<Ciphertext> BfvEvaluator::Sub(const Ciphertext& a, const Ciphertext& b) const { return AddSub(a, b, true); }

StatusOr<Ciphertext> BfvEvaluator::Negate(const Ciphertext& a) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("bfv negate", a));
  Ciphertext r = a;
  for (auto& p : r.parts) PolyNeg(*ctx_, DataBasis(a.level), p);
  return r;
}

RnsPoly BfvEvaluator::LiftPlain(const Plaintext& p, bool scale_by_delta) const {
  const Context& c = *ctx_;
  const Basis bs = DataBasis(c.max_level());
  const uint64_t t = c.plain_modulus();
  RnsPoly m(c.n(), bs.size());
  const uint64_t* src = p.poly.row(0);
  for (size_t r = 0; r < bs.size(); ++r) {
    const Modulus& q = c.modulus(r);
    uint64_t* row = m.row(r);
    if (scale_by_delta) {
      const uint64_t d = c.bfv()->delta_mod_q[r], dp = q.ShoupOf(d);
      for (size_t i = 0; i < c.n(); ++i) row[i] = q.MulShoup(src[i], d, dp);
    } else {
      // Centered lift of coefficients mod t keeps the noise growth at t/2.
      for (size_t i = 0; i < c.n(); ++i) {
        row[i] = src[i] > t / 2 ? q.Sub(0, q.Reduce(t - src[i])) : q.Reduce(src[i]);
      }
    }
  }
  ToNtt(c, bs, m);
  return m;
}

StatusOr<Ciphertext> BfvEvaluator::AddPlain(const Ciphertext& a, const Plaintext& p) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("bfv add_plain", a));
  SWARM_RETURN_IF_ERROR(ValidatePlaintext(*ctx_, p));
  Ciphertext r = a;
  PolyAdd(*ctx_, DataBasis(a.level), r.parts[0], LiftPlain(p, true));
  r.noise_budget_est_bits -= 1;
  return r;
}

StatusOr<Ciphertext> BfvEvaluator::SubPlain(const Ciphertext& a, const Plaintext& p) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("bfv sub_plain", a));
  SWARM_RETURN_IF_ERROR(ValidatePlaintext(*ctx_, p));
  Ciphertext r = a;
  PolySub(*ctx_, DataBasis(a.level), r.parts[0], LiftPlain(p, true));
  r.noise_budget_est_bits -= 1;
  return r;
}

StatusOr<Ciphertext> BfvEvaluator::MultiplyPlain(const Ciphertext& a, const Plaintext& p) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("bfv multiply_plain", a));
  SWARM_RETURN_IF_ERROR(ValidatePlaintext(*ctx_, p));
  const double after = a.noise_budget_est_bits - MultiplyPlainCostBits();
  SWARM_RETURN_IF_ERROR(CheckBudget("bfv multiply_plain", after, a.noise_budget_est_bits, a.noise_budget_est_bits));
  Ciphertext r = a;
  const RnsPoly m = LiftPlain(p, false);
  for (auto& part : r.parts) PolyMul(*ctx_, DataBasis(a.level), part, m);
  r.noise_budget_est_bits = after;
  return r;
}

StatusOr<Ciphertext> BfvEvaluator::Multiply(const Ciphertext& a, const Ciphertext& b) const {
  SWARM_RETURN_IF_ERROR(CheckPair("bfv multiply", a, b));
  if (a.parts.size() != 2 || b.parts.size() != 2) {
    return absl::FailedPreconditionError("bfv multiply: operands must have 2 parts (relinearize first)");
  }
  const double after = std::min(a.noise_budget_est_bits, b.noise_budget_est_bits) - MultiplyCostBits();
  SWARM_RETURN_IF_ERROR(CheckBudget("bfv multiply", after, a.noise_budget_est_bits, b.noise_budget_est_bits));
  const Context& c = *ctx_;
  const BfvTables& bt = *c.bfv();
  const size_t n = c.n(), L = bt.q.size(), K = bt.r.size();
  std::vector<const Modulus*> mods;
  for (size_t i = 0; i < L; ++i) mods.push_back(&c.modulus(i));
  for (size_t k = 0; k < K; ++k) mods.push_back(&bt.r[k]);
  auto ntt_fwd = [&](RnsPoly& p, size_t row) {
    if (row < L) c.ntt(row).Forward(p.row(row));
    else bt.r_ntt[row - L].Forward(p.row(row));
  };
  auto ntt_inv = [&](RnsPoly& p, size_t row) {
    if (row < L) c.ntt(row).Inverse(p.row(row));
    else bt.r_ntt[row - L].Inverse(p.row(row));
  };
  // Extend each input polynomial to Q ∪ R (NTT form).
  auto lift = [&](const RnsPoly& x) {
    RnsPoly coef = x;
    FromNtt(c, DataBasis(L - 1), coef);
    RnsPoly out(n, L + K);
    std::copy(x.data.begin(), x.data.end(), out.data.begin());
    std::vector<const uint64_t*> in(L);
    std::vector<uint64_t*> o(K);
    for (size_t i = 0; i < L; ++i) in[i] = coef.row(i);
    for (size_t k = 0; k < K; ++k) o[k] = out.row(L + k);
    bt.q_to_r->Convert(in.data(), o.data(), n);
    for (size_t k = 0; k < K; ++k) ntt_fwd(out, L + k);
    return out;
  };
  const RnsPoly a0 = lift(a.parts[0]), a1 = lift(a.parts[1]), b0 = lift(b.parts[0]), b1 = lift(b.parts[1]);
  RnsPoly d[3] = {RnsPoly(n, L + K), RnsPoly(n, L + K), RnsPoly(n, L + K)};
  for (size_t row = 0; row < L + K; ++row) {
    const Modulus& m = *mods[row];
    const uint64_t *x0 = a0.row(row), *x1 = a1.row(row), *y0 = b0.row(row), *y1 = b1.row(row);
    uint64_t *o0 = d[0].row(row), *o1 = d[1].row(row), *o2 = d[2].row(row);
    for (size_t i = 0; i < n; ++i) {
      o0[i] = m.Mul(x0[i], y0[i]);
      o1[i] = m.Reduce128(static_cast<u128>(x0[i]) * y1[i] + m.Mul(x1[i], y0[i]));
      o2[i] = m.Mul(x1[i], y1[i]);
    }
  }
  Ciphertext r = a;
  r.parts.assign(3, RnsPoly(n, L));
  RnsPoly rr(n, K);
  for (int p = 0; p < 3; ++p) {
    for (size_t row = 0; row < L + K; ++row) ntt_inv(d[p], row);
    std::vector<const uint64_t*> in(L + K);
    for (size_t row = 0; row < L + K; ++row) in[row] = d[p].row(row);
    std::vector<uint64_t*> ro(K);
    for (size_t k = 0; k < K; ++k) ro[k] = rr.row(k);
    bt.mult_round->Apply(in.data(), ro.data(), n);
    std::vector<const uint64_t*> ri(K);
    for (size_t k = 0; k < K; ++k) ri[k] = rr.row(k);
    std::vector<uint64_t*> qo(L);
    for (size_t i = 0; i < L; ++i) qo[i] = r.parts[p].row(i);
    bt.r_to_q->Convert(ri.data(), qo.data(), n);
    ToNtt(c, DataBasis(L - 1), r.parts[p]);
  }
  r.noise_budget_est_bits = after;
  return r;
}

StatusOr<Ciphertext> BfvEvaluator::Relinearize(const Ciphertext& a) const {
  SWARM_RETURN_IF_ERROR(CheckOperand("bfv relinearize", a));
  if (a.parts.size() == 2) return a;
  if (!relin_) return absl::FailedPreconditionError("bfv relinearize: no relinearization key was given to the evaluator");
  if (relin_->id != a.key_id || relin_->param_hash != ctx_->hash()) {
    return absl::InvalidArgumentError("bfv relinearize: relinearization key belongs to another key pair or parameter set");
  }
  Ciphertext r = RelinearizeWith(*ctx_, a, relin_->key);
  r.noise_budget_est_bits -= 1;
  return r;
}

StatusOr<Ciphertext> BfvEvaluator::MultiplyRelin(const Ciphertext& a, const Ciphertext& b) const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext m, Multiply(a, b));
  return Relinearize(m);
}

StatusOr<Ciphertext> BfvEvaluator::Galois(const char* op, const Ciphertext& a, uint32_t g) const {
  SWARM_RETURN_IF_ERROR(CheckOperand(op, a));
  if (a.parts.size() != 2) return absl::FailedPreconditionError(absl::StrCat(op, ": ciphertext has 3 parts (relinearize first)"));
  if (!galois_ || !galois_->Has(g)) {
    return absl::FailedPreconditionError(absl::StrCat(op, ": no Galois key for element ", g, " was given to the evaluator"));
  }
  if (galois_->id != a.key_id || galois_->param_hash != ctx_->hash()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": Galois keys belong to another key pair or parameter set"));
  }
  Ciphertext r = ApplyGaloisWith(*ctx_, a, g, galois_->keys.at(g));
  r.noise_budget_est_bits -= 1;
  return r;
}

StatusOr<Ciphertext> BfvEvaluator::RotateRows(const Ciphertext& a, int steps) const {
  const uint32_t g = GaloisElementForRotation(ctx_->n(), steps);
  if (g == 1) {
    SWARM_RETURN_IF_ERROR(CheckOperand("bfv rotate_rows", a));
    return a;
  }
  auto r = Galois("bfv rotate_rows", a, g);
  if (!r.ok() && absl::IsFailedPrecondition(r.status()) && (!galois_ || !galois_->Has(g))) {
    return absl::FailedPreconditionError(absl::StrCat("bfv rotate_rows: no Galois key for a rotation by ", steps, " (element ", g, ")"));
  }
  return r;
}

bool BfvEvaluator::CanRotateRows(int steps) const {
  const uint32_t g = GaloisElementForRotation(ctx_->n(), steps);
  return g == 1 || (galois_ && galois_->Has(g));
}

bool BfvEvaluator::CanRotateColumns() const {
  return galois_ && galois_->Has(GaloisElementForConjugation(ctx_->n()));
}

StatusOr<Ciphertext> BfvEvaluator::RotateColumns(const Ciphertext& a) const {
  return Galois("bfv rotate_columns", a, GaloisElementForConjugation(ctx_->n()));
}

}  // namespace swarm::fhe
