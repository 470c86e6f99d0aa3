#include "fhe/encryptor.h"

#include <gmpxx.h>

#include <cmath>

namespace swarm::fhe {

Status ValidatePlaintext(const Context& ctx, const Plaintext& pt) {
  if (pt.param_hash != ctx.hash()) return absl::InvalidArgumentError("plaintext: parameter hash mismatch (made under other parameters)");
  if (pt.scheme != ctx.scheme()) return absl::InvalidArgumentError(absl::StrCat("plaintext: scheme ", SchemeName(pt.scheme), " but context is ", SchemeName(ctx.scheme())));
  if (pt.level > ctx.max_level()) return absl::InvalidArgumentError(absl::StrCat("plaintext: level ", pt.level, " above max level ", ctx.max_level()));
  const size_t rows = ctx.scheme() == Scheme::kBfv ? 1 : pt.level + 1;
  if (pt.poly.n != ctx.n() || pt.poly.k != rows || pt.poly.data.size() != rows * ctx.n()) {
    return absl::InvalidArgumentError(absl::StrCat("plaintext: shape ", pt.poly.k, "x", pt.poly.n, " but expected ", rows, "x", ctx.n()));
  }
  if (ctx.scheme() == Scheme::kCkks && !(pt.scale >= 1.0 && std::isfinite(pt.scale))) {
    return absl::InvalidArgumentError(absl::StrCat("plaintext: scale ", pt.scale, " invalid"));
  }
  return absl::OkStatus();
}

Status ValidateCiphertext(const Context& ctx, const Ciphertext& ct) {
  if (ct.param_hash != ctx.hash()) return absl::InvalidArgumentError("ciphertext: parameter hash mismatch (made under other parameters)");
  if (ct.scheme != ctx.scheme()) return absl::InvalidArgumentError(absl::StrCat("ciphertext: scheme ", SchemeName(ct.scheme), " but context is ", SchemeName(ctx.scheme())));
  if (ct.level > ctx.max_level()) return absl::InvalidArgumentError(absl::StrCat("ciphertext: level ", ct.level, " above max level ", ctx.max_level()));
  if (ctx.scheme() == Scheme::kBfv && ct.level != ctx.max_level()) {
    return absl::InvalidArgumentError(absl::StrCat("ciphertext: BFV level ", ct.level, " but BFV ciphertexts stay at level ", ctx.max_level()));
  }
  if (ct.parts.size() < 2 || ct.parts.size() > 3) return absl::InvalidArgumentError(absl::StrCat("ciphertext: ", ct.parts.size(), " parts; must be 2 or 3"));
  for (const auto& p : ct.parts) {
    if (p.n != ctx.n() || p.k != ct.level + 1 || p.data.size() != p.n * p.k) {
      return absl::InvalidArgumentError(absl::StrCat("ciphertext: part shape ", p.k, "x", p.n, " but expected ", ct.level + 1, "x", ctx.n()));
    }
  }
  if (ctx.scheme() == Scheme::kCkks && !(ct.scale >= 1.0 && std::isfinite(ct.scale))) {
    return absl::InvalidArgumentError(absl::StrCat("ciphertext: scale ", ct.scale, " invalid"));
  }
  return absl::OkStatus();
}

StatusOr<Encryptor> Encryptor::Create(ContextPtr ctx, const PublicKey& pk) {
  if (pk.param_hash != ctx->hash()) return absl::InvalidArgumentError("public key: parameter hash mismatch");
  if (pk.b.k != ctx->data_prime_count() || pk.a.k != ctx->data_prime_count() || pk.b.n != ctx->n() || pk.a.n != ctx->n()) {
    return absl::InvalidArgumentError("public key: wrong shape for these parameters");
  }
  SWARM_ASSIGN_OR_RETURN(Prng p, Prng::FromOsEntropy());
  Encryptor e(std::move(ctx), std::move(p));
  e.pk_ = pk;
  return e;
}

StatusOr<Encryptor> Encryptor::Create(ContextPtr ctx, const SecretKey& sk) {
  if (sk.param_hash != ctx->hash()) return absl::InvalidArgumentError("secret key: parameter hash mismatch");
  if (sk.s.k != ctx->data_prime_count() + 1 || sk.s.n != ctx->n()) return absl::InvalidArgumentError("secret key: wrong shape");
  SWARM_ASSIGN_OR_RETURN(Prng p, Prng::FromOsEntropy());
  Encryptor e(std::move(ctx), std::move(p));
  e.sk_ = sk;
  return e;
}

RnsPoly Encryptor::ScaledMessage(const Plaintext& pt, size_t level) const {
  const Context& c = *ctx_;
  if (c.scheme() == Scheme::kCkks) return pt.poly;
  const Basis b = DataBasis(level);
  RnsPoly m(c.n(), b.size());
  const uint64_t* src = pt.poly.row(0);
  const BfvTables& bt = *c.bfv();
  for (size_t r = 0; r < b.size(); ++r) {
    const Modulus& q = c.modulus(r);
    const uint64_t d = bt.delta_mod_q[r], dp = q.ShoupOf(d);
    uint64_t* row = m.row(r);
    for (size_t i = 0; i < c.n(); ++i) row[i] = q.MulShoup(src[i], d, dp);
  }
  ToNtt(c, b, m);
  return m;
}

StatusOr<Ciphertext> Encryptor::Encrypt(const Plaintext& pt) {
  const Context& c = *ctx_;
  SWARM_RETURN_IF_ERROR(ValidatePlaintext(c, pt));
  const size_t level = c.scheme() == Scheme::kBfv ? c.max_level() : pt.level;
  const Basis b = DataBasis(level);
  if (c.scheme() == Scheme::kBfv) {
    const uint64_t t = c.plain_modulus();
    for (uint64_t v : pt.poly.data) {
      if (v >= t) return absl::InvalidArgumentError(absl::StrCat("plaintext: coefficient ", v, " not below plain modulus ", t));
    }
  }
  Ciphertext ct;
  ct.scheme = c.scheme();
  ct.level = level;
  ct.scale = pt.scale;
  ct.param_hash = c.hash();
  RnsPoly m = ScaledMessage(pt, level);
  RnsPoly e0 = FromSigned(c, b, prng_.Cbd(c.n()));
  ToNtt(c, b, e0);
  if (pk_) {
    ct.key_id = pk_->id;
    RnsPoly u = FromSigned(c, b, prng_.Ternary(c.n()));
    ToNtt(c, b, u);
    RnsPoly e1 = FromSigned(c, b, prng_.Cbd(c.n()));
    ToNtt(c, b, e1);
    RnsPoly c0 = pk_->b, c1 = pk_->a;
    c0.Truncate(b.size());
    c1.Truncate(b.size());
    PolyMul(c, b, c0, u);
    PolyMul(c, b, c1, u);
    PolyAdd(c, b, c0, e0);
    PolyAdd(c, b, c0, m);
    PolyAdd(c, b, c1, e1);
    ct.parts = {std::move(c0), std::move(c1)};
  } else {
    ct.key_id = sk_->id;
    RnsPoly a = prng_.UniformPoly(c, b);
    RnsPoly s = sk_->s;
    s.Truncate(b.size());
    RnsPoly c0 = a;
    PolyMul(c, b, c0, s);
    PolyNeg(c, b, c0);
    PolyAdd(c, b, c0, e0);
    PolyAdd(c, b, c0, m);
    ct.parts = {std::move(c0), std::move(a)};
  }
  if (c.scheme() == Scheme::kBfv) {
    // Fresh noise: |v| ≤ t/Q * (|e0| + |e1 s| + |e u| + Q mod t) with e ≤ 21,
    // |e*s| ≤ 21 * N; bound the invariant-noise budget from below.
    const double log2_noise = std::log2(static_cast<double>(c.plain_modulus())) +
                              std::log2(2.0 * kCbdEta * c.n() + kCbdEta + static_cast<double>(c.plain_modulus()));
    ct.noise_budget_est_bits = c.log2_q_at(level) - log2_noise - 1;
  }
  return ct;
}

StatusOr<Decryptor> Decryptor::Create(ContextPtr ctx, const SecretKey& sk) {
  if (sk.param_hash != ctx->hash()) return absl::InvalidArgumentError("secret key: parameter hash mismatch");
  if (sk.s.k != ctx->data_prime_count() + 1 || sk.s.n != ctx->n()) return absl::InvalidArgumentError("secret key: wrong shape");
  return Decryptor(std::move(ctx), sk);
}

Status Decryptor::Check(const Ciphertext& ct) const {
  SWARM_RETURN_IF_ERROR(ValidateCiphertext(*ctx_, ct));
  if (ct.key_id != sk_.id) {
    return absl::InvalidArgumentError("decrypt: ciphertext was made under a different key (key id mismatch)");
  }
  return absl::OkStatus();
}

RnsPoly Decryptor::Phase(const Ciphertext& ct) const {
  const Context& c = *ctx_;
  const Basis b = DataBasis(ct.level);
  RnsPoly s = sk_.s;
  s.Truncate(b.size());
  RnsPoly acc = ct.parts[0];
  RnsPoly spow = s;
  for (size_t i = 1; i < ct.parts.size(); ++i) {
    PolyMulAcc(c, b, acc, ct.parts[i], spow);
    if (i + 1 < ct.parts.size()) PolyMul(c, b, spow, s);
  }
  FromNtt(c, b, acc);
  return acc;
}

StatusOr<Plaintext> Decryptor::Decrypt(const Ciphertext& ct) const {
  SWARM_RETURN_IF_ERROR(Check(ct));
  const Context& c = *ctx_;
  Plaintext pt;
  pt.scheme = c.scheme();
  pt.param_hash = c.hash();
  pt.level = ct.level;
  pt.scale = ct.scale;
  RnsPoly phase = Phase(ct);
  if (c.scheme() == Scheme::kCkks) {
    ToNtt(c, DataBasis(ct.level), phase);
    pt.poly = std::move(phase);
    return pt;
  }
  pt.poly = RnsPoly(c.n(), 1);
  std::vector<const uint64_t*> in;
  for (size_t i = 0; i < phase.k; ++i) in.push_back(phase.row(i));
  uint64_t* out[1] = {pt.poly.row(0)};
  c.bfv()->decrypt_round->Apply(in.data(), out, c.n());
  return pt;
}

StatusOr<double> Decryptor::InvariantNoiseBudget(const Ciphertext& ct) const {
  SWARM_RETURN_IF_ERROR(Check(ct));
  const Context& c = *ctx_;
  if (c.scheme() != Scheme::kBfv) return absl::InvalidArgumentError("noise budget: only defined for BFV");
  RnsPoly phase = Phase(ct);
  // CRT-compose each coefficient, v = [t * x]_Q centered, budget = log2 Q - log2 max|v| - 1.
  const size_t L = ct.level + 1;
  mpz_class big_q = 1;
  for (size_t i = 0; i < L; ++i) big_q *= static_cast<unsigned long>(c.modulus(i).value());
  std::vector<mpz_class> basis(L);
  for (size_t i = 0; i < L; ++i) {
    const uint64_t qi = c.modulus(i).value();
    const mpz_class qhat = big_q / static_cast<unsigned long>(qi);
    mpz_class r;
    mpz_fdiv_r_ui(r.get_mpz_t(), qhat.get_mpz_t(), qi);
    const uint64_t inv = c.modulus(i).Inv(r.get_ui());
    basis[i] = qhat * static_cast<unsigned long>(inv);
  }
  const mpz_class half = big_q / 2;
  mpz_class x, maxabs = 0;
  for (size_t j = 0; j < c.n(); ++j) {
    x = 0;
    for (size_t i = 0; i < L; ++i) x += basis[i] * static_cast<unsigned long>(phase.row(i)[j]);
    x *= static_cast<unsigned long>(c.plain_modulus());
    mpz_fdiv_r(x.get_mpz_t(), x.get_mpz_t(), big_q.get_mpz_t());
    if (x > half) x = big_q - x;
    if (x > maxabs) maxabs = x;
  }
  if (maxabs == 0) return c.log2_q_at(ct.level) - 1;
  long exp = 0;
  const double mant = mpz_get_d_2exp(&exp, maxabs.get_mpz_t());
  const double log2_max = std::log2(mant) + static_cast<double>(exp);
  return std::max(0.0, c.log2_q_at(ct.level) - log2_max - 1);
}

}  // namespace swarm::fhe
