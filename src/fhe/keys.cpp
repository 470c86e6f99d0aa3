#include "fhe/keys.h"

#include "fhe/ntt.h"
#include "fhe/poly_simd.h"

namespace swarm::fhe {

uint32_t GaloisElementForRotation(size_t n, int steps) {
  const int64_t half = static_cast<int64_t>(n / 2);
  int64_t k = steps % half;
  if (k < 0) k += half;
  const uint64_t mask = 2 * n - 1;
  uint64_t g = 1;
  for (int64_t i = 0; i < k; ++i) g = (g * 5) & mask;
  return static_cast<uint32_t>(g);
}

uint32_t GaloisElementForConjugation(size_t n) { return static_cast<uint32_t>(2 * n - 1); }

StatusOr<KeyGenerator> KeyGenerator::Create(ContextPtr ctx) {
  SWARM_ASSIGN_OR_RETURN(Prng p, Prng::FromOsEntropy());
  return KeyGenerator(std::move(ctx), std::move(p));
}

SecretKey KeyGenerator::GenerateSecretKey() {
  const Context& c = *ctx_;
  SecretKey sk;
  prng_.Fill(sk.id.data(), sk.id.size());
  sk.param_hash = c.hash();
  const Basis all = KeyBasis(c, c.max_level());
  const int h = c.spec().secret_hamming_weight;
  std::vector<int64_t> t = h > 0 ? prng_.SparseTernary(c.n(), static_cast<size_t>(h)) : prng_.Ternary(c.n());
  sk.s = FromSigned(c, all, t);
  SecureZero(t.data(), t.size() * sizeof(int64_t));
  ToNtt(c, all, sk.s);
  return sk;
}

Status KeyGenerator::CheckKey(const SecretKey& sk) const {
  if (sk.param_hash != ctx_->hash()) {
    return absl::InvalidArgumentError("secret key was made under different parameters (parameter hash mismatch)");
  }
  if (sk.s.n != ctx_->n() || sk.s.k != ctx_->data_prime_count() + 1) {
    return absl::InvalidArgumentError("secret key has the wrong shape for these parameters");
  }
  return absl::OkStatus();
}

StatusOr<PublicKey> KeyGenerator::GeneratePublicKey(const SecretKey& sk) {
  SWARM_RETURN_IF_ERROR(CheckKey(sk));
  const Context& c = *ctx_;
  const Basis data = DataBasis(c.max_level());
  PublicKey pk;
  pk.id = sk.id;
  pk.param_hash = c.hash();
  pk.a = prng_.UniformPoly(c, data);
  RnsPoly e = FromSigned(c, data, prng_.Cbd(c.n()));
  ToNtt(c, data, e);
  RnsPoly s = sk.s;
  s.Truncate(data.size());
  pk.b = pk.a;
  PolyMul(c, data, pk.b, s);
  PolyNeg(c, data, pk.b);
  PolyAdd(c, data, pk.b, e);
  return pk;
}

KeySwitchKey KeyGenerator::MakeKeySwitchKey(const SecretKey& sk, const RnsPoly& s_from) {
  const Context& c = *ctx_;
  const size_t L = c.data_prime_count();
  const Basis all = KeyBasis(c, c.max_level());
  KeySwitchKey k;
  for (size_t i = 0; i < L; ++i) {
    RnsPoly a = prng_.UniformPoly(c, all);
    RnsPoly e = FromSigned(c, all, prng_.Cbd(c.n()));
    ToNtt(c, all, e);
    RnsPoly b = a;
    PolyMul(c, all, b, sk.s);
    PolyNeg(c, all, b);
    PolyAdd(c, all, b, e);
    // + P * s_from in row i only (P * g_i vanishes mod every other prime and mod P).
    const Modulus& qi = c.modulus(i);
    const uint64_t p_mod = qi.Reduce(c.modulus(c.special_index()).value());
    const uint64_t pp = qi.ShoupOf(p_mod);
    uint64_t* bi = b.row(i);
    const uint64_t* si = s_from.row(i);
    for (size_t j = 0; j < c.n(); ++j) bi[j] = qi.Add(bi[j], qi.MulShoup(si[j], p_mod, pp));
    k.b.push_back(std::move(b));
    k.a.push_back(std::move(a));
  }
  return k;
}

StatusOr<RelinKey> KeyGenerator::GenerateRelinKey(const SecretKey& sk) {
  SWARM_RETURN_IF_ERROR(CheckKey(sk));
  const Context& c = *ctx_;
  RnsPoly s2 = sk.s;
  PolyMul(c, KeyBasis(c, c.max_level()), s2, sk.s);
  RelinKey rk;
  rk.id = sk.id;
  rk.param_hash = c.hash();
  rk.key = MakeKeySwitchKey(sk, s2);
  SecureZero(s2.data.data(), s2.data.size() * sizeof(uint64_t));
  return rk;
}

StatusOr<GaloisKeys> KeyGenerator::GenerateGaloisKeys(const SecretKey& sk, std::vector<int> steps,
                                                      bool conjugate) {
  SWARM_RETURN_IF_ERROR(CheckKey(sk));
  const Context& c = *ctx_;
  if (steps.empty()) {
    for (size_t s = 1; s < c.n() / 2; s <<= 1) {
      steps.push_back(static_cast<int>(s));
      steps.push_back(-static_cast<int>(s));
    }
  }
  std::vector<uint32_t> elts;
  for (int s : steps) {
    const uint32_t g = GaloisElementForRotation(c.n(), s);
    if (g != 1) elts.push_back(g);
  }
  if (conjugate) elts.push_back(GaloisElementForConjugation(c.n()));
  if (elts.size() > kGaloisKeysMax) {
    return absl::InvalidArgumentError(absl::StrCat("asked for ", elts.size(), " Galois keys; galois_keys_max is ", kGaloisKeysMax));
  }
  GaloisKeys gk;
  gk.id = sk.id;
  gk.param_hash = c.hash();
  for (uint32_t g : elts) {
    if (gk.Has(g)) continue;
    const RnsPoly s_g = ApplyGaloisNtt(sk.s, GaloisPermutation(c.n(), g));
    gk.keys.emplace(g, MakeKeySwitchKey(sk, s_g));
  }
  return gk;
}

namespace {
// Per-thread scratch for the 128-bit accumulators: N = 32768 needs 512 KB
// each, which malloc would otherwise map and fault in on every key switch.
std::vector<u128>& Scratch128(int which, size_t n) {
  thread_local std::vector<u128> buf[2];
  if (buf[which].size() < n) buf[which].resize(n);
  return buf[which];
}

// out = (acc - [acc]_P) / P over q_0..q_{rows-1}; acc rows q_0..q_{rows-1}, P in
// NTT form (its P row is destroyed).
void ModDown(const Context& ctx, size_t rows, RnsPoly& acc, RnsPoly& out) {
  const size_t n = ctx.n();
  const size_t key_special_row = ctx.special_index();
  const Modulus& mp = ctx.modulus(key_special_row);
  const uint64_t half_p = mp.value() >> 1;
  std::vector<uint64_t> tmp(n);
  uint64_t* pr = acc.row(rows);
  ctx.ntt(key_special_row).Inverse(pr);
  out = RnsPoly(n, rows);
  for (size_t i = 0; i < rows; ++i) {
    const Modulus& qi = ctx.modulus(i);
    const uint64_t p_mod_qi = qi.Reduce(mp.value());
    if (!NttSimdEnabled() || !CenteredReduceRowSimd(qi.value(), p_mod_qi, half_p, pr, tmp.data(), n)) {
      for (size_t c = 0; c < n; ++c) {
        // centered [acc]_P reduced mod q_i
        const uint64_t v = pr[c];
        tmp[c] = v > half_p ? qi.Sub(qi.Reduce(v), p_mod_qi) : qi.Reduce(v);
      }
    }
    ctx.ntt(i).Forward(tmp.data());
    const uint64_t inv = ctx.inv_special_mod(i), invp = qi.ShoupOf(inv);
    const uint64_t* ar = acc.row(i);
    uint64_t* o = out.row(i);
    if (NttSimdEnabled() && SubMulShoupRowSimd(qi.value(), ar, tmp.data(), inv, invp, o, n)) continue;
    for (size_t c = 0; c < n; ++c) o[c] = qi.MulShoup(qi.Sub(ar[c], tmp[c]), inv, invp);
  }
}
}  // namespace

void KeySwitch(const Context& ctx, const RnsPoly& d, const RnsPoly& d_ntt, size_t level,
               const KeySwitchKey& key, RnsPoly& out0, RnsPoly& out1) {
  const size_t n = ctx.n(), rows = level + 1;
  const Basis kb = KeyBasis(ctx, level);
  const size_t key_special_row = ctx.special_index();
  RnsPoly acc0(n, rows + 1), acc1(n, rows + 1);
  // Accumulate 128-bit sums lazily: each product < 2^120 and there are ≤ 25 digits.
  std::vector<u128>& s0 = Scratch128(0, n);
  std::vector<u128>& s1 = Scratch128(1, n);
  std::vector<uint64_t> tmp(n);
  for (size_t jj = 0; jj < kb.size(); ++jj) {
    const size_t j = kb[jj];
    const Modulus& mj = ctx.modulus(j);
    const size_t key_row = (jj == rows) ? key_special_row : j;
    for (size_t i = 0; i < rows; ++i) {
      const uint64_t* di = d.row(i);
      if (i == j) {
        std::copy(d_ntt.row(i), d_ntt.row(i) + n, tmp.begin());
      } else {
        if (!NttSimdEnabled() || !ReduceRowSimd(mj.value(), di, tmp.data(), n)) {
          for (size_t c = 0; c < n; ++c) tmp[c] = mj.Reduce(di[c]);
        }
        ctx.ntt(j).Forward(tmp.data());
      }
      const uint64_t* kb0 = key.b[i].row(key_row);
      const uint64_t* ka0 = key.a[i].row(key_row);
      if (i == 0) {  // the first digit initialises the sums (no memset of 2 x 16n bytes)
        for (size_t c = 0; c < n; ++c) {
          s0[c] = static_cast<u128>(tmp[c]) * kb0[c];
          s1[c] = static_cast<u128>(tmp[c]) * ka0[c];
        }
        continue;
      }
      for (size_t c = 0; c < n; ++c) {
        s0[c] += static_cast<u128>(tmp[c]) * kb0[c];
        s1[c] += static_cast<u128>(tmp[c]) * ka0[c];
      }
    }
    uint64_t* a0 = acc0.row(jj);
    uint64_t* a1 = acc1.row(jj);
    for (size_t c = 0; c < n; ++c) {
      a0[c] = mj.ReduceWide(s0[c]);
      a1[c] = mj.ReduceWide(s1[c]);
    }
  }
  ModDown(ctx, rows, acc0, out0);
  ModDown(ctx, rows, acc1, out1);
}

}  // namespace swarm::fhe

namespace swarm::fhe {

Ciphertext RelinearizeWith(const Context& ctx, const Ciphertext& a, const KeySwitchKey& key) {
  const Basis bs = DataBasis(a.level);
  RnsPoly d = a.parts[2];
  FromNtt(ctx, bs, d);
  RnsPoly k0, k1;
  KeySwitch(ctx, d, a.parts[2], a.level, key, k0, k1);
  // (c0 + k0, c1 + k1), summed into k0/k1 so no part of `a` is copied.
  PolyAdd(ctx, bs, k0, a.parts[0]);
  PolyAdd(ctx, bs, k1, a.parts[1]);
  Ciphertext r;
  r.scheme = a.scheme;
  r.level = a.level;
  r.scale = a.scale;
  r.noise_budget_est_bits = a.noise_budget_est_bits;
  r.key_id = a.key_id;
  r.param_hash = a.param_hash;
  r.parts.reserve(2);
  r.parts.push_back(std::move(k0));
  r.parts.push_back(std::move(k1));
  return r;
}

Ciphertext ApplyGaloisWith(const Context& ctx, const Ciphertext& a, uint32_t g, const KeySwitchKey& key) {
  const auto perm = GaloisPermutation(ctx.n(), g);
  const Basis bs = DataBasis(a.level);
  Ciphertext r = a;
  r.parts[0] = ApplyGaloisNtt(a.parts[0], perm);
  const RnsPoly d_ntt = ApplyGaloisNtt(a.parts[1], perm);
  RnsPoly d = d_ntt;
  FromNtt(ctx, bs, d);
  RnsPoly k0, k1;
  KeySwitch(ctx, d, d_ntt, a.level, key, k0, k1);
  PolyAdd(ctx, bs, r.parts[0], k0);
  r.parts[1] = std::move(k1);
  return r;
}

}  // namespace swarm::fhe

namespace swarm::fhe {

HoistedDigits DecomposeForKeySwitch(const Context& ctx, const RnsPoly& d, const RnsPoly& d_ntt, size_t level) {
  const size_t n = ctx.n(), rows = level + 1;
  const Basis kb = KeyBasis(ctx, level);
  HoistedDigits h;
  h.level = level;
  h.digits.assign(rows, RnsPoly(n, rows + 1));
  for (size_t i = 0; i < rows; ++i) {
    const uint64_t* di = d.row(i);
    for (size_t jj = 0; jj < kb.size(); ++jj) {
      const size_t j = kb[jj];
      uint64_t* out = h.digits[i].row(jj);
      if (j == i) {
        std::copy(d_ntt.row(i), d_ntt.row(i) + n, out);
      } else {
        const Modulus& mj = ctx.modulus(j);
        if (!NttSimdEnabled() || !ReduceRowSimd(mj.value(), di, out, n)) {
          for (size_t c = 0; c < n; ++c) out[c] = mj.Reduce(di[c]);
        }
        ctx.ntt(j).Forward(out);
      }
    }
  }
  return h;
}

Ciphertext ApplyGaloisHoisted(const Context& ctx, const Ciphertext& a, const HoistedDigits& h, uint32_t g,
                              const KeySwitchKey& key) {
  const size_t n = ctx.n(), rows = h.level + 1;
  const auto perm = GaloisPermutation(n, g);
  const Basis bs = DataBasis(h.level);
  const Basis kb = KeyBasis(ctx, h.level);
  const size_t key_special_row = ctx.special_index();
  RnsPoly acc0(n, rows + 1), acc1(n, rows + 1);
  std::vector<u128>& s0 = Scratch128(0, n);
  std::vector<u128>& s1 = Scratch128(1, n);
  for (size_t jj = 0; jj < kb.size(); ++jj) {
    const size_t j = kb[jj];
    const Modulus& mj = ctx.modulus(j);
    const size_t key_row = (jj == rows) ? key_special_row : j;
    std::fill(s0.begin(), s0.begin() + n, u128{0});
    std::fill(s1.begin(), s1.begin() + n, u128{0});
    for (size_t i = 0; i < rows; ++i) {
      // sigma_g(digit i) in NTT form is a permutation of the hoisted digit.
      const uint64_t* t = h.digits[i].row(jj);
      const uint64_t* kb0 = key.b[i].row(key_row);
      const uint64_t* ka0 = key.a[i].row(key_row);
      for (size_t c = 0; c < n; ++c) {
        const uint64_t v = t[perm[c]];
        s0[c] += static_cast<u128>(v) * kb0[c];
        s1[c] += static_cast<u128>(v) * ka0[c];
      }
    }
    uint64_t* a0 = acc0.row(jj);
    uint64_t* a1 = acc1.row(jj);
    for (size_t c = 0; c < n; ++c) {
      a0[c] = mj.ReduceWide(s0[c]);
      a1[c] = mj.ReduceWide(s1[c]);
    }
  }
  RnsPoly k0, k1;
  ModDown(ctx, rows, acc0, k0);
  ModDown(ctx, rows, acc1, k1);
  Ciphertext r = a;
  r.parts[0] = ApplyGaloisNtt(a.parts[0], perm);
  PolyAdd(ctx, bs, r.parts[0], k0);
  r.parts[1] = std::move(k1);
  return r;
}

}  // namespace swarm::fhe
