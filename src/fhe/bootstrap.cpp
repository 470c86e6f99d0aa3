#include "fhe/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "absl/strings/str_format.h"
#include "fhe/ntt.h"
#include "fhe/rns_util.h"

namespace swarm::fhe {
namespace {

using Cd = std::complex<double>;
using DiagMat = std::map<size_t, std::vector<Cd>>;

constexpr double kChebTail = 1e-14;   // Chebyshev coefficients below this are dropped
constexpr int kChebNodes = 256;
constexpr double kZeroDiag = 1e-13;   // a merged diagonal this small everywhere is dropped
constexpr double kScaleMarginBits = 10;  // Delta <= q_0 / 2^10: m/q_0 small enough for sin(x) ≈ x

int CeilLog2(size_t x) {
  int l = 0;
  while ((size_t{1} << l) < x) ++l;
  return l;
}

// Stage s (1..log2 n) of the decoding DFT U_0 = S_logn ... S_1 BR, or its inverse.
DiagMat StageMatrix(size_t n, int s, bool inverse) {
  const size_t len = size_t{1} << s, lenh = len / 2, lenq = 4 * len;
  DiagMat m;
  auto& d0 = m[0];
  d0.assign(n, Cd(0, 0));
  auto at = [&](size_t k) -> std::vector<Cd>& {
    auto& v = m[k % n];
    if (v.empty()) v.assign(n, Cd(0, 0));
    return v;
  };
  std::vector<Cd>& dp = at(lenh);
  std::vector<Cd>& dm = at(n - lenh);
  uint64_t five = 1;
  std::vector<uint64_t> pow5(lenh);
  for (size_t j = 0; j < lenh; ++j) {
    pow5[j] = five;
    five = (five * 5) % lenq;
  }
  for (size_t i = 0; i < n; i += len) {
    for (size_t j = 0; j < lenh; ++j) {
      const Cd w = std::polar(1.0, 2.0 * M_PI * static_cast<double>(pow5[j] % lenq) / static_cast<double>(lenq));
      const size_t p = i + j, q = i + j + lenh;
      if (!inverse) {
        d0[p] += 1.0;
        dp[p] += w;
        d0[q] += -w;
        dm[q] += 1.0;
      } else {
        d0[p] += 0.5;
        dp[p] += 0.5;
        d0[q] += -0.5 / w;
        dm[q] += 0.5 / w;
      }
    }
  }
  return m;
}

// A * B (B applied first).
DiagMat MulDiag(const DiagMat& a, const DiagMat& b, size_t n) {
  DiagMat c;
  for (const auto& [k1, da] : a) {
    for (const auto& [k2, db] : b) {
      auto& dc = c[(k1 + k2) % n];
      if (dc.empty()) dc.assign(n, Cd(0, 0));
      for (size_t p = 0; p < n; ++p) dc[p] += da[p] * db[(p + k1) % n];
    }
  }
  for (auto it = c.begin(); it != c.end();) {
    double mx = 0;
    for (const Cd& v : it->second) mx = std::max(mx, std::abs(v));
    it = mx < kZeroDiag ? c.erase(it) : std::next(it);
  }
  return c;
}

// Stage partition: `levels` contiguous groups of stages 1..logn, larger groups first.
std::vector<std::pair<int, int>> StagePartition(int logn, int levels) {
  std::vector<std::pair<int, int>> out;
  int s = 1;
  for (int g = 0; g < levels; ++g) {
    const int size = logn / levels + (g < logn % levels ? 1 : 0);
    out.emplace_back(s, s + size - 1);
    s += size;
  }
  return out;
}

int64_t SignedRot(size_t k, size_t n) {
  return k <= n / 2 ? static_cast<int64_t>(k) : static_cast<int64_t>(k) - static_cast<int64_t>(n);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Ciphertext DropTo(const Ciphertext& a, size_t level) {
  Ciphertext r = a;
  for (auto& p : r.parts) p.Truncate(level + 1);
  r.level = level;
  return r;
}

}  // namespace

StatusOr<BootstrapPlan> PlanBootstrap(const BootstrapConfig& cfg) {
  const size_t n = cfg.poly_degree;
  if (n < kInsecurePolyDegreeMin || n > kPolyDegreeMax || (n & (n - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("bootstrap: poly_degree ", n, " must be a power of two in [",
                                                   kInsecurePolyDegreeMin, ", ", kPolyDegreeMax, "]"));
  }
  if (cfg.secret_hamming_weight <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bootstrap: secret_hamming_weight ", cfg.secret_hamming_weight,
        " (uniform ternary secret) cannot bootstrap here: the overflow I of a dense secret reaches hundreds, "
        "beyond EvalMod's range; use a sparse secret (e.g. 192 at N = 65536)"));
  }
  const int logn = CeilLog2(n / 2);
  auto level_count = [&](const char* field, int v, int lo, int hi) -> Status {
    if (v < lo || v > hi) {
      return absl::InvalidArgumentError(absl::StrCat("bootstrap: ", field, " = ", v, " must be in [", lo, ", ", hi, "]"));
    }
    return absl::OkStatus();
  };
  SWARM_RETURN_IF_ERROR(level_count("user_levels", cfg.user_levels, 1, 24));
  SWARM_RETURN_IF_ERROR(level_count("coeff_to_slot_levels", cfg.coeff_to_slot_levels, 1, logn));
  SWARM_RETURN_IF_ERROR(level_count("slots_to_coeff_levels", cfg.slots_to_coeff_levels, 1, logn));
  SWARM_RETURN_IF_ERROR(level_count("double_angle", cfg.double_angle, 0, 6));
  if (cfg.base_prime_bits - cfg.user_prime_bits < kScaleMarginBits) {
    return absl::InvalidArgumentError(absl::StrCat("bootstrap: base_prime_bits ", cfg.base_prime_bits, " must exceed user_prime_bits ",
                                                   cfg.user_prime_bits, " by at least ", kScaleMarginBits));
  }
  BootstrapPlan plan;
  const double h = cfg.secret_hamming_weight;
  plan.k_bound = cfg.k_bound > 0 ? cfg.k_bound : static_cast<int>(std::ceil(7.0 * std::sqrt((h + 1) / 12.0))) + 2;
  const double B = plan.k_bound + 1.0;
  const double a = 2.0 * M_PI * B / std::ldexp(1.0, cfg.double_angle);
  // g(w) = cos(a * u) with u^2 = (w + 1)/2, interpolated at Chebyshev nodes.
  std::vector<double> c(kChebNodes, 0.0);
  for (int k = 0; k < kChebNodes; ++k) {
    double s = 0;
    for (int j = 0; j < kChebNodes; ++j) {
      const double th = M_PI * (j + 0.5) / kChebNodes;
      const double w = std::cos(th);
      s += std::cos(a * std::sqrt(std::max(0.0, (w + 1) / 2))) * std::cos(k * th);
    }
    c[k] = 2.0 * s / kChebNodes;
  }
  c[0] /= 2;
  size_t d = 2;
  for (size_t k = 0; k < c.size(); ++k) {
    if (std::fabs(c[k]) > kChebTail) d = std::max(d, k);
  }
  if (d + 1 >= static_cast<size_t>(kChebNodes) / 2) {
    return absl::InvalidArgumentError(absl::StrCat("bootstrap: EvalMod range B = ", B, " with double_angle ", cfg.double_angle,
                                                   " needs a Chebyshev degree beyond ", kChebNodes / 2, "; raise double_angle"));
  }
  plan.cheb.assign(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(d + 1));
  plan.eval_mod_levels = 1 + CeilLog2(d) + 1 + cfg.double_angle;
  plan.output_level = static_cast<size_t>(cfg.user_levels);
  plan.slots_to_coeff_top = plan.output_level + cfg.slots_to_coeff_levels;
  plan.eval_mod_top = plan.slots_to_coeff_top + plan.eval_mod_levels;
  ParamSpec& s = plan.spec;
  s.scheme = Scheme::kCkks;
  s.poly_degree = n;
  s.data_prime_bits.push_back(cfg.base_prime_bits);
  for (int i = 0; i < cfg.user_levels; ++i) s.data_prime_bits.push_back(cfg.user_prime_bits);
  for (int i = 0; i < cfg.slots_to_coeff_levels; ++i) s.data_prime_bits.push_back(cfg.slots_to_coeff_prime_bits);
  for (int i = 0; i < plan.eval_mod_levels; ++i) s.data_prime_bits.push_back(cfg.eval_mod_prime_bits);
  for (int i = 0; i < cfg.coeff_to_slot_levels; ++i) s.data_prime_bits.push_back(cfg.coeff_to_slot_prime_bits);
  if (s.data_prime_bits.size() > kDataPrimesMax) {
    return absl::InvalidArgumentError(absl::StrCat("bootstrap: the chain needs ", s.data_prime_bits.size(),
                                                   " data primes; data_primes_max is ", kDataPrimesMax));
  }
  s.special_prime_bits = cfg.special_prime_bits;
  s.scale = std::ldexp(1.0, cfg.user_prime_bits);
  s.secret_hamming_weight = cfg.secret_hamming_weight;
  s.allow_insecure = cfg.allow_insecure;
  return plan;
}

std::vector<Bootstrapper::Group> Bootstrapper::MakeGroups(size_t n, int levels, bool inverse) {
  const int logn = CeilLog2(n);
  const auto parts = StagePartition(logn, levels);
  std::vector<Group> out;
  for (const auto& [lo, hi] : parts) {
    Group g;
    DiagMat m;
    if (!inverse) {
      m = StageMatrix(n, lo, false);
      for (int s = lo + 1; s <= hi; ++s) m = MulDiag(StageMatrix(n, s, false), m, n);
    } else {
      m = StageMatrix(n, hi, true);
      for (int s = hi - 1; s >= lo; --s) m = MulDiag(StageMatrix(n, s, true), m, n);
    }
    g.diags = std::move(m);
    g.unit = size_t{1} << (lo - 1);
    g.n1 = 1 << ((hi - lo + 3) / 2);
    out.push_back(std::move(g));
  }
  if (inverse) std::reverse(out.begin(), out.end());  // CoeffToSlot applies the top stages first
  return out;
}

StatusOr<std::vector<int>> Bootstrapper::RotationSteps(const BootstrapConfig& cfg) {
  SWARM_RETURN_IF_ERROR(PlanBootstrap(cfg).status());
  const size_t n = cfg.poly_degree / 2;
  std::set<int64_t> steps;
  auto add = [&](const std::vector<Group>& gs) {
    for (const Group& g : gs) {
      for (const auto& [k, d] : g.diags) {
        const int64_t m = SignedRot(k, n) / static_cast<int64_t>(g.unit);
        const int64_t G = FloorDiv(m, g.n1), b = m - G * g.n1;
        if (b != 0) steps.insert(b * static_cast<int64_t>(g.unit));
        if (G != 0) steps.insert(G * g.n1 * static_cast<int64_t>(g.unit));
      }
    }
  };
  add(MakeGroups(n, cfg.coeff_to_slot_levels, true));
  add(MakeGroups(n, cfg.slots_to_coeff_levels, false));
  std::set<uint32_t> elts;
  std::vector<int> out;
  for (int64_t s : steps) {
    const uint32_t g = GaloisElementForRotation(cfg.poly_degree, static_cast<int>(s));
    if (g != 1 && elts.insert(g).second) out.push_back(static_cast<int>(s));
  }
  return out;
}

StatusOr<std::unique_ptr<Bootstrapper>> Bootstrapper::Create(ContextPtr ctx, const BootstrapConfig& cfg,
                                                              std::shared_ptr<const RelinKey> relin,
                                                              std::shared_ptr<const GaloisKeys> galois) {
  if (!ctx) return absl::InvalidArgumentError("bootstrap: no context");
  SWARM_ASSIGN_OR_RETURN(BootstrapPlan plan, PlanBootstrap(cfg));
  const ParamSpec& have = ctx->spec();
  if (have.scheme != Scheme::kCkks || have.poly_degree != plan.spec.poly_degree ||
      have.data_prime_bits != plan.spec.data_prime_bits || have.special_prime_bits != plan.spec.special_prime_bits ||
      have.secret_hamming_weight != plan.spec.secret_hamming_weight) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bootstrap: these parameters cannot bootstrap with this config: the context has N = ", have.poly_degree, ", ",
        have.data_prime_bits.size(), " data primes and secret_hamming_weight ", have.secret_hamming_weight,
        "; the plan needs N = ", plan.spec.poly_degree, ", ", plan.spec.data_prime_bits.size(),
        " data primes of the planned sizes and secret_hamming_weight ", plan.spec.secret_hamming_weight,
        " (make the context from PlanBootstrap(config).spec)"));
  }
  if (!relin) return absl::FailedPreconditionError("bootstrap: no relinearization key (bootstrapping keys missing)");
  if (!galois) return absl::FailedPreconditionError("bootstrap: no Galois keys (bootstrapping keys missing)");
  if (relin->param_hash != ctx->hash() || galois->param_hash != ctx->hash()) {
    return absl::InvalidArgumentError("bootstrap: keys were made under other parameters (parameter hash mismatch)");
  }
  if (relin->id != galois->id) return absl::InvalidArgumentError("bootstrap: relinearization and Galois keys belong to different key pairs");
  SWARM_ASSIGN_OR_RETURN(std::vector<int> steps, RotationSteps(cfg));
  for (int s : steps) {
    if (!galois->Has(GaloisElementForRotation(ctx->n(), s))) {
      return absl::FailedPreconditionError(absl::StrCat("bootstrap: no Galois key for rotation ", s,
                                                        " (generate the keys for Bootstrapper::RotationSteps)"));
    }
  }
  if (!galois->Has(GaloisElementForConjugation(ctx->n()))) {
    return absl::FailedPreconditionError("bootstrap: no Galois key for conjugation");
  }
  auto b = std::unique_ptr<Bootstrapper>(new Bootstrapper());
  b->ctx_ = ctx;
  b->cfg_ = cfg;
  b->plan_ = std::move(plan);
  b->relin_ = std::move(relin);
  b->galois_ = std::move(galois);
  b->enc_ = std::make_unique<CkksEncoder>(ctx);
  b->eval_ = std::make_unique<CkksEvaluator>(ctx, b->relin_, b->galois_);
  const size_t n = ctx->slot_count();
  b->cts_ = MakeGroups(n, cfg.coeff_to_slot_levels, true);
  b->stc_ = MakeGroups(n, cfg.slots_to_coeff_levels, false);
  std::vector<int64_t> mono(ctx->n(), 0);
  mono[n] = 1;
  const Basis all = DataBasis(ctx->max_level());
  b->mono_i_ = FromSigned(*ctx, all, mono);
  ToNtt(*ctx, all, b->mono_i_);
  return b;
}

Ciphertext Bootstrapper::MulByI(const Ciphertext& a) const {
  Ciphertext r = a;
  for (auto& p : r.parts) PolyMul(*ctx_, DataBasis(a.level), p, mono_i_);
  return r;
}

StatusOr<Ciphertext> Bootstrapper::MulConstTo(const Ciphertext& a, double c, double target) const {
  const size_t l = a.level;
  if (l == 0) return absl::OutOfRangeError("bootstrap: constant multiply at level 0");
  const double ql = static_cast<double>(ctx_->modulus(l).value());
  const double f = target * ql / a.scale;
  const double v = std::round(c * f);
  std::vector<uint64_t> rows;
  for (size_t row = 0; row <= l; ++row) rows.push_back(ReduceIntegralDouble(v, ctx_->modulus(row)));
  Ciphertext r = a;
  for (auto& p : r.parts) PolyMulRowScalars(*ctx_, DataBasis(l), p, rows);
  r.scale = a.scale * f;
  SWARM_ASSIGN_OR_RETURN(r, eval_->Rescale(r));
  r.scale = target;
  return r;
}

StatusOr<Ciphertext> Bootstrapper::MatchTo(const Ciphertext& a, double scale, size_t level) const {
  if (a.level < level + 1) {
    return absl::InternalError(absl::StrCat("bootstrap: cannot match level ", a.level, " down to ", level, " with a rescale"));
  }
  return MulConstTo(DropTo(a, level + 1), 1.0, scale);
}

StatusOr<Ciphertext> Bootstrapper::ApplyGroup(const Ciphertext& x, const Group& grp, Cd factor, double pt_scale) const {
  const size_t level = x.level, n = ctx_->slot_count();
  if (level == 0) return absl::OutOfRangeError("bootstrap: linear transform at level 0");
  std::map<int64_t, std::vector<std::pair<int64_t, const std::vector<Cd>*>>> by_giant;
  std::set<int64_t> babies;
  for (const auto& [k, d] : grp.diags) {
    const int64_t m = SignedRot(k, n) / static_cast<int64_t>(grp.unit);
    const int64_t G = FloorDiv(m, grp.n1), b = m - G * grp.n1;
    by_giant[G].emplace_back(b, &d);
    babies.insert(b);
  }
  // Baby-step rotations of x, hoisted: one digit decomposition for all of them.
  std::map<int64_t, Ciphertext> baby;
  baby[0] = x;
  std::optional<HoistedDigits> hoisted;
  for (int64_t b : babies) {
    if (b == 0) continue;
    const uint32_t g = GaloisElementForRotation(ctx_->n(), static_cast<int>(b * static_cast<int64_t>(grp.unit)));
    if (!hoisted) {
      RnsPoly c1 = x.parts[1];
      FromNtt(*ctx_, DataBasis(level), c1);
      hoisted = DecomposeForKeySwitch(*ctx_, c1, x.parts[1], level);
    }
    baby[b] = ApplyGaloisHoisted(*ctx_, x, *hoisted, g, galois_->keys.at(g));
  }
  std::optional<Ciphertext> acc;
  std::vector<Cd> vec(n);
  for (const auto& [G, list] : by_giant) {
    const int64_t shift = G * grp.n1 * static_cast<int64_t>(grp.unit);
    std::optional<Ciphertext> inner;
    for (const auto& [b, diag] : list) {
      for (size_t p = 0; p < n; ++p) {
        const int64_t src = ((static_cast<int64_t>(p) - shift) % static_cast<int64_t>(n) + static_cast<int64_t>(n)) %
                            static_cast<int64_t>(n);
        vec[p] = factor * (*diag)[static_cast<size_t>(src)];
      }
      SWARM_ASSIGN_OR_RETURN(Plaintext pt, enc_->Encode(std::span<const Cd>(vec), pt_scale, level));
      SWARM_ASSIGN_OR_RETURN(Ciphertext term, eval_->MultiplyPlain(baby.at(b), pt));
      if (inner) {
        SWARM_ASSIGN_OR_RETURN(inner, eval_->Add(*inner, term));
      } else {
        inner = std::move(term);
      }
    }
    if (G != 0) {
      SWARM_ASSIGN_OR_RETURN(inner, eval_->Rotate(*inner, static_cast<int>(shift)));
    }
    if (acc) {
      SWARM_ASSIGN_OR_RETURN(acc, eval_->Add(*acc, *inner));
    } else {
      acc = std::move(inner);
    }
  }
  return eval_->Rescale(*acc);
}

StatusOr<Ciphertext> Bootstrapper::ModRaise(const Ciphertext& ct0) const {
  SWARM_ASSIGN_OR_RETURN(Ciphertext ct, eval_->ModSwitchTo(ct0, 0));
  const Context& c = *ctx_;
  const size_t top = c.max_level();
  const Basis all = DataBasis(top);
  const uint64_t q0 = c.modulus(0).value();
  Ciphertext r = ct;
  std::vector<int64_t> v(c.n());
  for (auto& p : r.parts) {
    RnsPoly coeff = p;
    FromNtt(c, DataBasis(0), coeff);
    const uint64_t* row = coeff.row(0);
    for (size_t i = 0; i < c.n(); ++i) {
      v[i] = row[i] > q0 / 2 ? static_cast<int64_t>(row[i]) - static_cast<int64_t>(q0) : static_cast<int64_t>(row[i]);
    }
    p = FromSigned(c, all, v);
    ToNtt(c, all, p);
  }
  r.level = top;
  r.scale = static_cast<double>(q0);
  return r;
}

StatusOr<Ciphertext> Bootstrapper::CoeffToSlot(const Ciphertext& raised) const {
  if (raised.level != ctx_->max_level()) {
    return absl::InvalidArgumentError(absl::StrCat("coeff_to_slot: input at level ", raised.level, ", expected the top level ", ctx_->max_level()));
  }
  const double target = std::ldexp(1.0, cfg_.eval_mod_prime_bits);
  Ciphertext x = raised;
  for (size_t gi = 0; gi < cts_.size(); ++gi) {
    const double ql = static_cast<double>(ctx_->modulus(x.level).value());
    const bool last = gi + 1 == cts_.size();
    const Cd factor = gi == 0 ? Cd(1.0 / (2.0 * eval_mod_range()), 0) : Cd(1.0, 0);
    SWARM_ASSIGN_OR_RETURN(x, ApplyGroup(x, cts_[gi], factor, last ? ql * target / x.scale : ql));
  }
  x.scale = target;
  return x;
}

StatusOr<Ciphertext> Bootstrapper::EvalModReal(const Ciphertext& u) const {
  const std::vector<double>& c = plan_.cheb;
  const size_t d = c.size() - 1;
  auto square2m1 = [&](const Ciphertext& a) -> StatusOr<Ciphertext> {  // 2a^2 - 1
    SWARM_ASSIGN_OR_RETURN(Ciphertext sq, eval_->MultiplyRelinRescale(a, a));
    SWARM_ASSIGN_OR_RETURN(sq, eval_->Add(sq, sq));
    return eval_->AddScalar(sq, -1.0);
  };
  std::vector<Ciphertext> T(d + 1);
  SWARM_ASSIGN_OR_RETURN(T[1], square2m1(u));  // w = T_2(u)
  for (size_t k = 2; k <= d; ++k) {
    const size_t a = size_t{1} << (CeilLog2(k) - 1), b = k - a;
    SWARM_ASSIGN_OR_RETURN(Ciphertext prod, eval_->MultiplyRelinRescale(T[a], T[b]));
    SWARM_ASSIGN_OR_RETURN(prod, eval_->Add(prod, prod));
    if (a == b) {
      SWARM_ASSIGN_OR_RETURN(T[k], eval_->AddScalar(prod, -1.0));
    } else {
      SWARM_ASSIGN_OR_RETURN(Ciphertext m, MatchTo(T[a - b], prod.scale, prod.level));
      SWARM_ASSIGN_OR_RETURN(T[k], eval_->Sub(prod, m));
    }
  }
  const double target = std::ldexp(1.0, cfg_.eval_mod_prime_bits);
  std::vector<Ciphertext> terms;
  size_t min_level = T[1].level;
  for (size_t k = 1; k <= d; ++k) {
    if (std::fabs(c[k]) <= kChebTail) continue;
    SWARM_ASSIGN_OR_RETURN(Ciphertext t, MulConstTo(T[k], c[k], target));
    min_level = std::min(min_level, t.level);
    terms.push_back(std::move(t));
  }
  Ciphertext acc = DropTo(terms[0], min_level);
  for (size_t i = 1; i < terms.size(); ++i) {
    SWARM_ASSIGN_OR_RETURN(acc, eval_->Add(acc, DropTo(terms[i], min_level)));
  }
  SWARM_ASSIGN_OR_RETURN(acc, eval_->AddScalar(acc, c[0]));
  for (int i = 0; i < cfg_.double_angle; ++i) {
    SWARM_ASSIGN_OR_RETURN(acc, square2m1(acc));
  }
  return acc;
}

StatusOr<Ciphertext> Bootstrapper::EvalMod(const Ciphertext& z) const {
  if (z.level != plan_.eval_mod_top) {
    return absl::InvalidArgumentError(absl::StrCat("eval_mod: input at level ", z.level, ", expected ", plan_.eval_mod_top));
  }
  const double shift = -1.0 / (4.0 * eval_mod_range());
  SWARM_ASSIGN_OR_RETURN(Ciphertext conj, eval_->Conjugate(z));
  SWARM_ASSIGN_OR_RETURN(Ciphertext re, eval_->Add(z, conj));      // x_re / B
  SWARM_ASSIGN_OR_RETURN(Ciphertext im2, eval_->Sub(z, conj));     // i x_im / B
  SWARM_ASSIGN_OR_RETURN(Ciphertext im, eval_->Negate(MulByI(im2)));
  SWARM_ASSIGN_OR_RETURN(re, eval_->AddScalar(re, shift));
  SWARM_ASSIGN_OR_RETURN(im, eval_->AddScalar(im, shift));
  SWARM_ASSIGN_OR_RETURN(Ciphertext er, EvalModReal(re));
  SWARM_ASSIGN_OR_RETURN(Ciphertext ei, EvalModReal(im));
  return eval_->Add(er, MulByI(ei));
}

StatusOr<Ciphertext> Bootstrapper::SlotToCoeff(const Ciphertext& v, double out_scale) const {
  if (v.level != plan_.slots_to_coeff_top) {
    return absl::InvalidArgumentError(absl::StrCat("slot_to_coeff: input at level ", v.level, ", expected ", plan_.slots_to_coeff_top));
  }
  const double c2 = base_prime() / (2.0 * M_PI * out_scale);
  Ciphertext x = v;
  for (size_t gi = 0; gi < stc_.size(); ++gi) {
    const double ql = static_cast<double>(ctx_->modulus(x.level).value());
    const bool last = gi + 1 == stc_.size();
    SWARM_ASSIGN_OR_RETURN(x, ApplyGroup(x, stc_[gi], last ? Cd(c2, 0) : Cd(1.0, 0), last ? ql * out_scale / x.scale : ql));
  }
  x.scale = out_scale;
  return x;
}

StatusOr<Ciphertext> Bootstrapper::Bootstrap(const Ciphertext& ct) const {
  const Context& c = *ctx_;
  if (ct.scheme != Scheme::kCkks || ct.param_hash != c.hash()) {
    return absl::InvalidArgumentError("bootstrap: ciphertext is not CKKS under these parameters (parameter hash mismatch)");
  }
  if (ct.parts.size() != 2) {
    return absl::FailedPreconditionError(absl::StrCat("bootstrap: ciphertext has ", ct.parts.size(), " parts (relinearize first)"));
  }
  if (ct.key_id != relin_->id) {
    return absl::InvalidArgumentError("bootstrap: ciphertext was encrypted under another key pair than the bootstrapping keys");
  }
  if (ct.level > plan_.output_level) {
    return absl::InvalidArgumentError(absl::StrCat("bootstrap: ciphertext at level ", ct.level, " is above the level bootstrapping returns (",
                                                   plan_.output_level, "); it needs no bootstrapping"));
  }
  const double log2_q0 = std::log2(base_prime());
  if (!(ct.scale >= 1.0) || std::log2(ct.scale) > log2_q0 - kScaleMarginBits) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "bootstrap: ciphertext scale 2^%.2f must be at most q_0 / 2^%g = 2^%.2f (EvalMod approximates m mod q_0 only for "
        "m much smaller than q_0)", std::log2(ct.scale), kScaleMarginBits, log2_q0 - kScaleMarginBits));
  }
  SWARM_RETURN_IF_ERROR(ValidateCiphertext(c, ct));
  SWARM_ASSIGN_OR_RETURN(Ciphertext r, ModRaise(ct));
  SWARM_ASSIGN_OR_RETURN(r, CoeffToSlot(r));
  SWARM_ASSIGN_OR_RETURN(r, EvalMod(r));
  return SlotToCoeff(r, c.spec().scale);
}

}  // namespace swarm::fhe
