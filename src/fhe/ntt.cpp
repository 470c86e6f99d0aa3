#include "fhe/ntt.h"

#include <atomic>

#include "fhe/ntt_simd.h"

namespace swarm::fhe {

StatusOr<NttTables> NttTables::Create(size_t n, uint64_t q) {
  if (n < 2 || n > (size_t{1} << 17) || (n & (n - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("NTT size ", n, " is not a power of two in [2, 2^17]"));
  }
  if (q >= (uint64_t{1} << 61) || !IsPrime(q)) {
    return absl::InvalidArgumentError(absl::StrCat("NTT modulus ", q, " is not a prime < 2^61"));
  }
  SWARM_ASSIGN_OR_RETURN(uint64_t psi, MinimalPrimitiveRoot(q, 2 * n));
  NttTables t;
  t.n_ = n;
  t.log_n_ = __builtin_ctzll(n);
  t.mod_ = Modulus(q);
  t.psi_ = psi;
  const Modulus& m = t.mod_;
  const uint64_t psi_inv = m.Inv(psi);
  t.roots_.resize(n);
  t.iroots_.resize(n);
  t.roots_shoup_.resize(n);
  t.iroots_shoup_.resize(n);
  uint64_t p = 1, pi = 1;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t r = BitReverse(static_cast<uint32_t>(i), t.log_n_);
    t.roots_[r] = p;
    t.iroots_[r] = pi;
    p = m.Mul(p, psi);
    pi = m.Mul(pi, psi_inv);
  }
  for (size_t i = 0; i < n; ++i) {
    t.roots_shoup_[i] = m.ShoupOf(t.roots_[i]);
    t.iroots_shoup_[i] = m.ShoupOf(t.iroots_[i]);
  }
  t.n_inv_ = m.Inv(static_cast<uint64_t>(n) % q);
  t.n_inv_shoup_ = m.ShoupOf(t.n_inv_);
  t.last_ = m.Mul(t.n_inv_, t.iroots_[1]);
  t.last_shoup_ = m.ShoupOf(t.last_);
  return t;
}

namespace {
std::atomic<bool> g_simd{true};
}  // namespace

void SetNttSimdEnabled(bool on) { g_simd.store(on, std::memory_order_relaxed); }
bool NttSimdEnabled() { return g_simd.load(std::memory_order_relaxed); }

namespace {
NttKernelArgs ArgsOf(size_t n, uint64_t q, const std::vector<uint64_t>& r, const std::vector<uint64_t>& rs,
                     const std::vector<uint64_t>& ir, const std::vector<uint64_t>& irs, uint64_t ni, uint64_t nis,
                     uint64_t last, uint64_t lasts) {
  NttKernelArgs k;
  k.n = n;
  k.q = q;
  k.roots = r.data();
  k.roots_shoup = rs.data();
  k.iroots = ir.data();
  k.iroots_shoup = irs.data();
  k.n_inv = ni;
  k.n_inv_shoup = nis;
  k.last = last;
  k.last_shoup = lasts;
  return k;
}
}  // namespace

void NttTables::Forward(uint64_t* a) const {
  if (NttSimdEnabled() && NttForwardSimd(ArgsOf(n_, mod_.value(), roots_, roots_shoup_, iroots_, iroots_shoup_, n_inv_,
                                                n_inv_shoup_, last_, last_shoup_),
                                         a))
    return;
  ForwardScalar(a);
}

void NttTables::Inverse(uint64_t* a) const {
  if (NttSimdEnabled() && NttInverseSimd(ArgsOf(n_, mod_.value(), roots_, roots_shoup_, iroots_, iroots_shoup_, n_inv_,
                                                n_inv_shoup_, last_, last_shoup_),
                                         a))
    return;
  InverseScalar(a);
}

void NttTables::ForwardScalar(uint64_t* a) const {
  const uint64_t q = mod_.value(), two_q = 2 * q;
  size_t t = n_;
  for (size_t m = 1; m < n_; m <<= 1) {
    t >>= 1;
    for (size_t i = 0; i < m; ++i) {
      const uint64_t w = roots_[m + i], wp = roots_shoup_[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; ++j) {
        uint64_t u = x[j];
        if (u >= two_q) u -= two_q;
        const uint64_t v = mod_.MulShoupLazy(y[j], w, wp);
        x[j] = u + v;
        y[j] = u - v + two_q;
      }
    }
  }
  for (size_t i = 0; i < n_; ++i) {
    uint64_t v = a[i];
    if (v >= two_q) v -= two_q;
    if (v >= q) v -= q;
    a[i] = v;
  }
}

void NttTables::InverseScalar(uint64_t* a) const {
  const uint64_t q = mod_.value(), two_q = 2 * q;
  size_t t = 1;
  for (size_t m = n_ >> 1; m > 1; m >>= 1) {
    for (size_t i = 0; i < m; ++i) {
      const uint64_t w = iroots_[m + i], wp = iroots_shoup_[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; ++j) {
        const uint64_t u = x[j], v = y[j];
        uint64_t s = u + v;
        if (s >= two_q) s -= two_q;
        x[j] = s;
        y[j] = mod_.MulShoupLazy(u - v + two_q, w, wp);
      }
    }
    t <<= 1;
  }
  // Last layer (m = 1) with N^-1 folded in.
  uint64_t* x = a;
  uint64_t* y = a + t;
  for (size_t j = 0; j < t; ++j) {
    const uint64_t u = x[j], v = y[j];
    uint64_t s = u + v;
    if (s >= two_q) s -= two_q;
    x[j] = mod_.MulShoup(s, n_inv_, n_inv_shoup_);
    y[j] = mod_.MulShoup(u - v + two_q, last_, last_shoup_);
  }
}

std::vector<uint64_t> NegacyclicSchoolbook(const std::vector<uint64_t>& a,
                                           const std::vector<uint64_t>& b, const Modulus& q) {
  const size_t n = a.size();
  std::vector<uint64_t> c(n, 0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      const uint64_t p = q.Mul(a[i], b[j]);
      const size_t k = i + j;
      if (k < n) c[k] = q.Add(c[k], p);
      else c[k - n] = q.Sub(c[k - n], p);
    }
  }
  return c;
}

}  // namespace swarm::fhe
