#include "fhe/rns_util.h"

#include <gmpxx.h>

#include <cmath>

namespace swarm::fhe {

uint64_t ReduceIntegralDouble(double x, const Modulus& m) {
  if (std::fabs(x) < 9.0e18) return m.FromSigned(static_cast<int64_t>(x));
  mpz_class z;
  mpz_set_d(z.get_mpz_t(), x);
  mpz_class r;
  mpz_fdiv_r_ui(r.get_mpz_t(), z.get_mpz_t(), m.value());
  return r.get_ui();
}

std::vector<double> CenteredToDouble(const Context& ctx, const RnsPoly& p, size_t level) {
  const size_t n = ctx.n(), L = level + 1;
  std::vector<double> out(n);
  if (L == 1) {
    const uint64_t q = ctx.modulus(0).value(), half = q / 2;
    const uint64_t* r = p.row(0);
    for (size_t i = 0; i < n; ++i) {
      out[i] = r[i] > half ? -static_cast<double>(q - r[i]) : static_cast<double>(r[i]);
    }
    return out;
  }
  mpz_class big_q = 1;
  for (size_t i = 0; i < L; ++i) big_q *= static_cast<unsigned long>(ctx.modulus(i).value());
  std::vector<mpz_class> basis(L);
  for (size_t i = 0; i < L; ++i) {
    const Modulus& qi = ctx.modulus(i);
    const mpz_class qhat = big_q / static_cast<unsigned long>(qi.value());
    mpz_class r;
    mpz_fdiv_r_ui(r.get_mpz_t(), qhat.get_mpz_t(), qi.value());
    basis[i] = qhat * static_cast<unsigned long>(qi.Inv(r.get_ui()));
  }
  const mpz_class half = big_q / 2;
  mpz_class x;
  for (size_t j = 0; j < n; ++j) {
    x = 0;
    for (size_t i = 0; i < L; ++i) x += basis[i] * static_cast<unsigned long>(p.row(i)[j]);
    mpz_fdiv_r(x.get_mpz_t(), x.get_mpz_t(), big_q.get_mpz_t());
    if (x > half) x -= big_q;
    out[j] = x.get_d();
  }
  return out;
}

}  // namespace swarm::fhe
