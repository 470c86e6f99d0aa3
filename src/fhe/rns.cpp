#include "fhe/rns.h"

#include <gmpxx.h>

#include <cmath>

#include "fhe/ntt.h"
#include "fhe/poly_simd.h"

namespace swarm::fhe {

Basis DataBasis(size_t level) {
  Basis b(level + 1);
  for (size_t i = 0; i <= level; ++i) b[i] = i;
  return b;
}

Basis KeyBasis(const Context& ctx, size_t level) {
  Basis b = DataBasis(level);
  b.push_back(ctx.special_index());
  return b;
}

void PolyAdd(const Context& c, const Basis& b, RnsPoly& a, const RnsPoly& x) {
  for (size_t r = 0; r < b.size(); ++r) {
    const uint64_t q = c.modulus(b[r]).value();
    uint64_t* pa = a.row(r);
    const uint64_t* px = x.row(r);
    for (size_t i = 0; i < a.n; ++i) {
      const uint64_t s = pa[i] + px[i];
      pa[i] = s >= q ? s - q : s;
    }
  }
}

void PolySub(const Context& c, const Basis& b, RnsPoly& a, const RnsPoly& x) {
  for (size_t r = 0; r < b.size(); ++r) {
    const uint64_t q = c.modulus(b[r]).value();
    uint64_t* pa = a.row(r);
    const uint64_t* px = x.row(r);
    for (size_t i = 0; i < a.n; ++i) {
      const uint64_t s = pa[i] + q - px[i];
      pa[i] = s >= q ? s - q : s;
    }
  }
}

void PolyAddSubInto(const Context& c, const Basis& b, const RnsPoly& x, const RnsPoly& y, bool sub, RnsPoly& out) {
  out.n = x.n;
  out.k = b.size();
  out.data.resize(out.n * out.k);
  const size_t n = out.n;
  for (size_t r = 0; r < b.size(); ++r) {
    const uint64_t q = c.modulus(b[r]).value();
    const uint64_t* px = x.row(r);
    const uint64_t* py = y.row(r);
    uint64_t* po = out.row(r);
    if (sub) {
      for (size_t i = 0; i < n; ++i) {
        const uint64_t s = px[i] + q - py[i];
        po[i] = s >= q ? s - q : s;
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        const uint64_t s = px[i] + py[i];
        po[i] = s >= q ? s - q : s;
      }
    }
  }
}

void PolyNeg(const Context& c, const Basis& b, RnsPoly& a) {
  for (size_t r = 0; r < b.size(); ++r) {
    const uint64_t q = c.modulus(b[r]).value();
    uint64_t* pa = a.row(r);
    for (size_t i = 0; i < a.n; ++i) pa[i] = pa[i] == 0 ? 0 : q - pa[i];
  }
}

void PolyMul(const Context& c, const Basis& b, RnsPoly& a, const RnsPoly& x) {
  for (size_t r = 0; r < b.size(); ++r) {
    const Modulus& m = c.modulus(b[r]);
    uint64_t* pa = a.row(r);
    const uint64_t* px = x.row(r);
    if (NttSimdEnabled() && MulModRowSimd(m.value(), pa, px, pa, a.n)) continue;
    for (size_t i = 0; i < a.n; ++i) pa[i] = m.Mul(pa[i], px[i]);
  }
}

void PolyMulInto(const Context& c, const Basis& b, const RnsPoly& x, const RnsPoly& y, RnsPoly& out) {
  out.n = x.n;
  out.k = b.size();
  out.data.resize(out.n * out.k);
  for (size_t r = 0; r < b.size(); ++r) {
    const Modulus& m = c.modulus(b[r]);
    const uint64_t* px = x.row(r);
    const uint64_t* py = y.row(r);
    uint64_t* po = out.row(r);
    if (NttSimdEnabled() && MulModRowSimd(m.value(), px, py, po, out.n)) continue;
    for (size_t i = 0; i < out.n; ++i) po[i] = m.Mul(px[i], py[i]);
  }
}

void PolyMulAcc(const Context& c, const Basis& b, RnsPoly& acc, const RnsPoly& x, const RnsPoly& y) {
  for (size_t r = 0; r < b.size(); ++r) {
    const Modulus& m = c.modulus(b[r]);
    uint64_t* pa = acc.row(r);
    const uint64_t* px = x.row(r);
    const uint64_t* py = y.row(r);
    if (NttSimdEnabled() && MulAccModRowSimd(m.value(), px, py, pa, acc.n)) continue;
    for (size_t i = 0; i < acc.n; ++i) pa[i] = m.Reduce128(static_cast<u128>(px[i]) * py[i] + pa[i]);
  }
}

void PolyMulRowScalars(const Context& c, const Basis& b, RnsPoly& a, const std::vector<uint64_t>& s) {
  for (size_t r = 0; r < b.size(); ++r) {
    const Modulus& m = c.modulus(b[r]);
    const uint64_t w = s[r], wp = m.ShoupOf(w);
    uint64_t* pa = a.row(r);
    for (size_t i = 0; i < a.n; ++i) pa[i] = m.MulShoup(pa[i], w, wp);
  }
}

void ToNtt(const Context& c, const Basis& b, RnsPoly& a) {
  for (size_t r = 0; r < b.size(); ++r) c.ntt(b[r]).Forward(a.row(r));
}

void FromNtt(const Context& c, const Basis& b, RnsPoly& a) {
  for (size_t r = 0; r < b.size(); ++r) c.ntt(b[r]).Inverse(a.row(r));
}

RnsPoly FromSigned(const Context& c, const Basis& b, const std::vector<int64_t>& v) {
  RnsPoly p(v.size(), b.size());
  for (size_t r = 0; r < b.size(); ++r) {
    const Modulus& m = c.modulus(b[r]);
    uint64_t* pr = p.row(r);
    for (size_t i = 0; i < v.size(); ++i) pr[i] = m.FromSigned(v[i]);
  }
  return p;
}

std::vector<uint32_t> GaloisPermutation(size_t n, uint32_t g) {
  const int log_n = __builtin_ctzll(n);
  const uint64_t mask = 2 * n - 1;
  std::vector<uint32_t> perm(n);
  for (size_t k = 0; k < n; ++k) {
    const uint64_t e = 2 * static_cast<uint64_t>(BitReverse(static_cast<uint32_t>(k), log_n)) + 1;
    const uint64_t e2 = (e * g) & mask;
    perm[k] = BitReverse(static_cast<uint32_t>((e2 - 1) / 2), log_n);
  }
  return perm;
}

RnsPoly ApplyGaloisNtt(const RnsPoly& a, const std::vector<uint32_t>& perm) {
  RnsPoly out(a.n, a.k);
  for (size_t r = 0; r < a.k; ++r) {
    const uint64_t* in = a.row(r);
    uint64_t* o = out.row(r);
    for (size_t i = 0; i < a.n; ++i) o[i] = in[perm[i]];
  }
  return out;
}

namespace {
mpz_class Product(const std::vector<Modulus>& ms) {
  mpz_class p = 1;
  for (const auto& m : ms) p *= static_cast<unsigned long>(m.value());
  return p;
}
uint64_t ModU64(const mpz_class& x, uint64_t m) {
  mpz_class r;
  mpz_fdiv_r_ui(r.get_mpz_t(), x.get_mpz_t(), m);
  return r.get_ui();
}
}  // namespace

BaseConverter::BaseConverter(const std::vector<Modulus>& from, const std::vector<Modulus>& to)
    : from_(from), to_(to) {
  const mpz_class big_q = Product(from);
  for (const auto& qi : from) {
    const mpz_class qhat = big_q / static_cast<unsigned long>(qi.value());
    const uint64_t inv = qi.Inv(ModU64(qhat, qi.value()));
    qhat_inv_.push_back(inv);
    qhat_inv_shoup_.push_back(qi.ShoupOf(inv));
    inv_q_.push_back(1.0 / static_cast<double>(qi.value()));
    std::vector<uint64_t> row;
    for (const auto& tk : to) row.push_back(ModU64(qhat, tk.value()));
    qhat_mod_.push_back(std::move(row));
  }
  for (const auto& tk : to) {
    q_mod_.push_back(ModU64(big_q, tk.value()));
    neg_q_mod_.push_back(tk.Neg(q_mod_.back()));
  }
  for (size_t i = 0; i < from.size(); ++i) {
    for (size_t k = 0; k < to.size(); ++k) qhat_mod_flat_.push_back(qhat_mod_[i][k]);
  }
}

void BaseConverter::Convert(const uint64_t* const* in, uint64_t* const* out, size_t n) const {
  const size_t L = from_.size(), K = to_.size();
  std::vector<uint64_t> y(L);
  for (size_t c = 0; c < n; ++c) {
    double frac = 0;
    for (size_t i = 0; i < L; ++i) {
      y[i] = from_[i].MulShoup(in[i][c], qhat_inv_[i], qhat_inv_shoup_[i]);
      frac += static_cast<double>(y[i]) * inv_q_[i];
    }
    // v = round(sum y_i / q_i): how many times Q was overshot (centered result).
    const uint64_t v = static_cast<uint64_t>(frac + 0.5);
    for (size_t k = 0; k < K; ++k) {
      // Lazy 128-bit accumulation: L ≤ 25 products below 2^120 each.
      u128 acc = static_cast<u128>(v) * neg_q_mod_[k];
      const uint64_t* col = qhat_mod_flat_.data() + k;
      for (size_t i = 0; i < L; ++i) acc += static_cast<u128>(y[i]) * col[i * K];
      out[k][c] = to_[k].ReduceWide(acc);
    }
  }
}

ScaleRounder::ScaleRounder(const std::vector<Modulus>& q, const std::vector<Modulus>& r, uint64_t t,
                           const std::vector<Modulus>& targets)
    : q_(q), r_(r), targets_(targets) {
  SWARM_ASSERT(q.size() <= kBfvDataPrimesMax);
  const mpz_class big_q = Product(q), big_r = Product(r), big_qr = big_q * big_r;
  const mpz_class two64 = mpz_class(1) << 64;
  for (const auto& qi : q) {
    const uint64_t p = qi.value();
    const uint64_t inv = qi.Inv(ModU64(big_qr / static_cast<unsigned long>(p), p));
    const mpz_class c = mpz_class(static_cast<unsigned long>(t)) * big_r * static_cast<unsigned long>(inv);
    const mpz_class omega = c / static_cast<unsigned long>(p);
    const mpz_class f = c - omega * static_cast<unsigned long>(p);  // < p
    const mpz_class scaled = (f << 128) / static_cast<unsigned long>(p);
    theta_hi_.push_back(mpz_class(scaled >> 64).get_ui());
    theta_lo_.push_back(mpz_class(scaled % two64).get_ui());
    std::vector<uint64_t> row;
    for (const auto& m : targets) row.push_back(ModU64(omega, m.value()));
    omega_.push_back(std::move(row));
  }
  for (const auto& rj : r) {
    const uint64_t p = rj.value();
    const uint64_t inv = rj.Inv(ModU64(big_qr / static_cast<unsigned long>(p), p));
    const mpz_class c = mpz_class(static_cast<unsigned long>(t)) * (big_r / static_cast<unsigned long>(p)) *
                        static_cast<unsigned long>(inv);
    std::vector<uint64_t> row;
    for (const auto& m : targets) row.push_back(ModU64(c, m.value()));
    lambda_.push_back(std::move(row));
  }
  for (const auto& row : omega_) omega_flat_.insert(omega_flat_.end(), row.begin(), row.end());
  for (const auto& row : lambda_) lambda_flat_.insert(lambda_flat_.end(), row.begin(), row.end());
}

void ScaleRounder::Apply(const uint64_t* const* in, uint64_t* const* out, size_t n) const {
  const size_t L = q_.size(), K = r_.size(), T = targets_.size();
  for (size_t c = 0; c < n; ++c) {
    u128 acc = 0;  // units of 2^-64
    for (size_t i = 0; i < L; ++i) {
      const uint64_t x = in[i][c];
      acc += static_cast<u128>(x) * theta_hi_[i] +
             static_cast<uint64_t>((static_cast<u128>(x) * theta_lo_[i]) >> 64);
    }
    const uint64_t rounded = static_cast<uint64_t>((acc + (static_cast<u128>(1) << 63)) >> 64);
    for (size_t m = 0; m < T; ++m) {
      // ≤ 16 + 17 products below 2^120 each: fits 128 bits.
      u128 s = rounded;
      const uint64_t* om = omega_flat_.data() + m;
      for (size_t i = 0; i < L; ++i) s += static_cast<u128>(in[i][c]) * om[i * T];
      const uint64_t* lm = lambda_flat_.data() + m;
      for (size_t j = 0; j < K; ++j) s += static_cast<u128>(in[L + j][c]) * lm[j * T];
      out[m][c] = targets_[m].ReduceWide(s);
    }
  }
}

StatusOr<std::unique_ptr<BfvTables>> BfvTables::Create(const Context& ctx, std::vector<uint64_t> used) {
  auto t = std::make_unique<BfvTables>();
  const size_t L = ctx.data_prime_count();
  for (size_t i = 0; i < L; ++i) t->q.push_back(ctx.modulus(i));
  SWARM_ASSIGN_OR_RETURN(auto rp, GenerateNttPrimes(60, L + 1, 2 * ctx.n(), used));
  for (uint64_t p : rp) {
    t->r.emplace_back(p);
    SWARM_ASSIGN_OR_RETURN(auto nt, NttTables::Create(ctx.n(), p));
    t->r_ntt.push_back(std::move(nt));
  }
  const uint64_t pt = ctx.plain_modulus();
  t->q_to_r = std::make_unique<BaseConverter>(t->q, t->r);
  t->r_to_q = std::make_unique<BaseConverter>(t->r, t->q);
  t->mult_round = std::make_unique<ScaleRounder>(t->q, t->r, pt, t->r);
  t->decrypt_round = std::make_unique<ScaleRounder>(t->q, std::vector<Modulus>{}, pt,
                                                    std::vector<Modulus>{Modulus(pt)});
  const mpz_class big_q = Product(t->q);
  const mpz_class delta = big_q / static_cast<unsigned long>(pt);
  for (const auto& qi : t->q) t->delta_mod_q.push_back(ModU64(delta, qi.value()));
  return t;
}

}  // namespace swarm::fhe
