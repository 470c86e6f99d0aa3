#include "fhe/ntt.h"

#include <gtest/gtest.h>

#include "common/rng.h"
#include "fhe/modarith.h"
#include "fhe/ntt_simd.h"
#include "fhe/poly_simd.h"

namespace swarm::fhe {
namespace {

TEST(ModArith, MulModMatchesWideDivision) {
  Rng rng(7);
  for (int bits : {20, 40, 50, 60}) {
    auto primes = GenerateNttPrimes(bits, 2, 1 << 14);
    ASSERT_TRUE(primes.ok()) << primes.status();
    for (uint64_t q : *primes) {
      Modulus m(q);
      for (int i = 0; i < 2000; ++i) {
        const uint64_t a = rng.Uniform(q), b = rng.Uniform(q);
        ASSERT_EQ(m.Mul(a, b), static_cast<uint64_t>(static_cast<u128>(a) * b % q));
        const uint64_t w = rng.Uniform(q), x = rng.Next();
        ASSERT_EQ(m.MulShoup(x, w, m.ShoupOf(w)), static_cast<uint64_t>(static_cast<u128>(x) * w % q));
        ASSERT_EQ(m.Reduce(x), x % q);
      }
      EXPECT_EQ(m.Mul(q - 1, q - 1), 1u);
      EXPECT_EQ(m.Mul(m.Inv(12345), 12345), 1u);
      EXPECT_EQ(m.FromSigned(-1), q - 1);
      EXPECT_EQ(m.FromSigned(INT64_MIN), static_cast<uint64_t>((-(static_cast<__int128>(INT64_MIN) % q) == 0) ? 0 : q - static_cast<uint64_t>(-(static_cast<__int128>(INT64_MIN) % q))));
    }
  }
}

TEST(ModArith, PrimesAreNttFriendlyAndPrime) {
  auto primes = GenerateNttPrimes(60, 5, 2 * 32768);
  ASSERT_TRUE(primes.ok());
  for (uint64_t q : *primes) {
    EXPECT_EQ(q % (2 * 32768), 1u);
    EXPECT_EQ(64 - __builtin_clzll(q), 60);
    EXPECT_TRUE(IsPrime(q));
  }
  EXPECT_FALSE(IsPrime(3215031751ULL));           // strong pseudoprime to bases 2,3,5,7
  EXPECT_FALSE(IsPrime(341550071728321ULL));      // strong pseudoprime to bases 2..17
  EXPECT_TRUE(IsPrime(18446744073709551557ULL));  // largest 64-bit prime
  EXPECT_FALSE(GenerateNttPrimes(61, 1, 1024).ok());
  EXPECT_FALSE(GenerateNttPrimes(20, 1000, 1 << 16).ok());
}

TEST(ModArith, PrimitiveRootHasOrderTwoN) {
  auto primes = GenerateNttPrimes(40, 3, 2 * 8192);
  ASSERT_TRUE(primes.ok());
  for (uint64_t q : *primes) {
    auto r = MinimalPrimitiveRoot(q, 2 * 8192);
    ASSERT_TRUE(r.ok());
    Modulus m(q);
    EXPECT_EQ(m.Pow(*r, 8192), q - 1);
  }
}

TEST(Ntt, RoundTripAndProductMatchSchoolbook) {
  Rng rng(11);
  for (size_t n : {8u, 64u, 256u, 1024u}) {
    for (int bits : {30, 50, 60}) {
      auto primes = GenerateNttPrimes(bits, 1, 2 * n);
      ASSERT_TRUE(primes.ok());
      const uint64_t q = (*primes)[0];
      auto t = NttTables::Create(n, q);
      ASSERT_TRUE(t.ok()) << t.status();
      std::vector<uint64_t> a(n), b(n);
      for (auto& v : a) v = rng.Uniform(q);
      for (auto& v : b) v = rng.Uniform(q);
      const auto expect = NegacyclicSchoolbook(a, b, t->modulus());
      auto fa = a, fb = b;
      t->Forward(fa.data());
      t->Forward(fb.data());
      auto back = fa;
      t->Inverse(back.data());
      ASSERT_EQ(back, a) << "n=" << n << " q=" << q;
      for (size_t i = 0; i < n; ++i) fa[i] = t->modulus().Mul(fa[i], fb[i]);
      t->Inverse(fa.data());
      ASSERT_EQ(fa, expect) << "n=" << n << " q=" << q;
    }
  }
}

TEST(Ntt, OutputIsEvaluationAtOddPowersInBitReversedOrder) {
  const size_t n = 16;
  auto primes = GenerateNttPrimes(30, 1, 2 * n);
  ASSERT_TRUE(primes.ok());
  auto t = NttTables::Create(n, (*primes)[0]);
  ASSERT_TRUE(t.ok());
  const Modulus& m = t->modulus();
  std::vector<uint64_t> a(n);
  for (size_t i = 0; i < n; ++i) a[i] = i * i + 3;
  auto f = a;
  t->Forward(f.data());
  for (size_t k = 0; k < n; ++k) {
    const uint64_t x = m.Pow(t->psi(), 2 * BitReverse(static_cast<uint32_t>(k), 4) + 1);
    uint64_t acc = 0, p = 1;
    for (size_t i = 0; i < n; ++i) {
      acc = m.Add(acc, m.Mul(a[i], p));
      p = m.Mul(p, x);
    }
    EXPECT_EQ(f[k], acc) << k;
  }
}

TEST(Ntt, RejectsBadSizesAndModuli) {
  EXPECT_FALSE(NttTables::Create(12, 97).ok());
  EXPECT_FALSE(NttTables::Create(16, 91).ok());   // not prime
  EXPECT_FALSE(NttTables::Create(16, 101).ok());  // 101 != 1 mod 32
}

}  // namespace
}  // namespace swarm::fhe

namespace swarm::fhe {
namespace {

// The Highway kernels (AVX-512 when present) must agree word for word with the
// scalar transforms, for every size and prime size, including inputs at the
// top of the lazy range.
TEST(NttSimd, MatchesScalarWordForWord) {
  std::printf("NTT SIMD path (AVX-512 via Highway) available: %s\n", NttSimdAvailable() ? "yes" : "no");
  Rng rng(99);
  for (size_t n : {size_t{16}, size_t{64}, size_t{4096}, size_t{32768}}) {
    for (int bits : {30, 50, 60}) {
      auto primes = GenerateNttPrimes(bits, 1, 2 * n);
      ASSERT_TRUE(primes.ok());
      auto t = NttTables::Create(n, (*primes)[0]);
      ASSERT_TRUE(t.ok());
      const uint64_t q = (*primes)[0];
      std::vector<uint64_t> a(n), b;
      for (auto& x : a) x = rng.Uniform(q);
      a[0] = q - 1;
      b = a;
      t->Forward(a.data());
      t->ForwardScalar(b.data());
      ASSERT_EQ(a, b) << "forward n=" << n << " bits=" << bits;
      t->Inverse(a.data());
      t->InverseScalar(b.data());
      ASSERT_EQ(a, b) << "inverse n=" << n << " bits=" << bits;
      for (size_t i = 0; i < n; ++i) ASSERT_LT(a[i], q);
    }
  }
  SetNttSimdEnabled(false);
  EXPECT_FALSE(NttSimdEnabled());
  SetNttSimdEnabled(true);
}


// The pointwise kernels against Modulus::Mul / Reduce128 on random and
// extreme residues (q - 1, 0), for primes from 3 to 61 bits.
TEST(PolySimd, PointwiseProductsMatchScalarWordForWord) {
  Rng rng(7);
  const size_t n = 64;
  std::vector<uint64_t> qs = {3, 65537, (uint64_t{1} << 31) - 1, (uint64_t{1} << 61) - 1};
  for (int bits : {20, 40, 50, 59, 60}) qs.push_back((*GenerateNttPrimes(bits, 1, 2 * n))[0]);
  for (uint64_t q : qs) {
    const Modulus m(q);
    std::vector<uint64_t> x(n), y(n), acc(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = rng.Uniform(q);
      y[i] = rng.Uniform(q);
      acc[i] = rng.Uniform(q);
    }
    x[0] = y[0] = acc[0] = q - 1;
    x[1] = 0;
    std::vector<uint64_t> prod(n), want(n), acc_want(n);
    for (size_t i = 0; i < n; ++i) {
      want[i] = m.Mul(x[i], y[i]);
      acc_want[i] = m.Reduce128(static_cast<unsigned __int128>(x[i]) * y[i] + acc[i]);
    }
    const bool took = MulModRowSimd(q, x.data(), y.data(), prod.data(), n);
    EXPECT_EQ(took, NttSimdAvailable()) << "q=" << q;
    if (took) {
      EXPECT_EQ(prod, want) << "q=" << q;
    }
    if (MulAccModRowSimd(q, x.data(), y.data(), acc.data(), n)) {
      EXPECT_EQ(acc, acc_want) << "q=" << q;
    }
  }
  // Reductions and the mod-down tail, for primes of 31 bits and more.
  for (uint64_t q : qs) {
    const Modulus m(q);
    std::vector<uint64_t> in(n), a(n), t(n), got(n), want(n);
    const uint64_t p = (uint64_t{1} << 61) - 1, half_p = p >> 1, pm = m.Reduce(p);
    for (size_t i = 0; i < n; ++i) {
      in[i] = rng.Uniform(p);
      a[i] = rng.Uniform(q);
      t[i] = rng.Uniform(q);
    }
    in[0] = p - 1;
    in[1] = half_p;
    in[2] = half_p + 1;
    in[3] = q;
    if (ReduceRowSimd(q, in.data(), got.data(), n)) {
      for (size_t i = 0; i < n; ++i) want[i] = m.Reduce(in[i]);
      EXPECT_EQ(got, want) << "reduce q=" << q;
    } else {
      EXPECT_TRUE(!NttSimdAvailable() || q < (uint64_t{1} << 31)) << q;
    }
    if (ReduceSubRowSimd(q, pm, in.data(), got.data(), n)) {
      for (size_t i = 0; i < n; ++i) want[i] = m.Sub(m.Reduce(in[i]), pm);
      EXPECT_EQ(got, want) << "reduce-sub q=" << q;
    }
    if (CenteredReduceRowSimd(q, pm, half_p, in.data(), got.data(), n)) {
      for (size_t i = 0; i < n; ++i) want[i] = in[i] > half_p ? m.Sub(m.Reduce(in[i]), pm) : m.Reduce(in[i]);
      EXPECT_EQ(got, want) << "centered q=" << q;
    }
    const uint64_t w = rng.Uniform(q), wp = m.ShoupOf(w);
    if (SubMulShoupRowSimd(q, a.data(), t.data(), w, wp, got.data(), n)) {
      for (size_t i = 0; i < n; ++i) want[i] = m.MulShoup(m.Sub(a[i], t[i]), w, wp);
      EXPECT_EQ(got, want) << "sub-mul q=" << q;
    }
  }
  // Outside the kernel's range: refused, so callers use the scalar loop.
  std::vector<uint64_t> v(8, 1);
  EXPECT_FALSE(MulModRowSimd(uint64_t{1} << 62, v.data(), v.data(), v.data(), 8));
}

}  // namespace
}  // namespace swarm::fhe
