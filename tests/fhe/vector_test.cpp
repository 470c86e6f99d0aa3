#include "fhe/vector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace swarm::fhe {
namespace {

// CKKS N=8192 (depth 2), keys for powers of two and the matmul steps below.
VectorContextPtr Ckks() {
  static VectorContextPtr vc = [] {
    KeyGenOptions o;
    for (int s = 1; s < 4096; s <<= 1) o.rotations.push_back(s);
    for (int s : CkksVector::MatMulSteps(5, 3)) o.rotations.push_back(s);
    auto r = VectorContext::Generate(*CkksPreset(8192), o);
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }();
  return vc;
}

VectorContextPtr Bfv() {
  static VectorContextPtr vc = [] {
    KeyGenOptions o;
    o.conjugate = true;  // column rotation for sums over both rows
    auto r = VectorContext::Generate(*BfvPreset(8192), o);
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }();
  return vc;
}

std::vector<double> Rand(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> d(-1, 1);
  std::vector<double> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

void ExpectNear(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "index " << i;
}

TEST(CkksVector, AddSubMulNegateAgainstPlain) {
  auto vc = Ckks();
  auto a = Rand(100, 1), b = Rand(100, 2);
  auto ea = *CkksVector::Encrypt(vc, a);
  auto eb = *CkksVector::Encrypt(vc, b);
  std::vector<double> sum(100), diff(100), prod(100), pprod(100), neg(100), plus(100);
  for (size_t i = 0; i < 100; ++i) {
    sum[i] = a[i] + b[i];
    diff[i] = a[i] - b[i];
    prod[i] = a[i] * b[i];
    pprod[i] = a[i] * b[i];
    neg[i] = -a[i];
    plus[i] = a[i] + 0.5;
  }
  ExpectNear(*ea.Add(eb)->Decrypt(), sum, 1e-5);
  ExpectNear(*ea.Sub(eb)->Decrypt(), diff, 1e-5);
  ExpectNear(*ea.Mul(eb)->Decrypt(), prod, 1e-5);
  ExpectNear(*ea.Mul(std::span<const double>(b))->Decrypt(), pprod, 1e-5);
  ExpectNear(*ea.Negate()->Decrypt(), neg, 1e-5);
  ExpectNear(*ea.Add(0.5)->Decrypt(), plus, 1e-5);
  ExpectNear(*ea.Add(std::span<const double>(b))->Decrypt(), sum, 1e-5);
  auto scaled = ea.Mul(3.0);
  ASSERT_TRUE(scaled.ok()) << scaled.status();
  EXPECT_EQ(scaled->ciphertext().scale, ea.ciphertext().scale);  // plain mul keeps the scale
  EXPECT_NEAR((*scaled->Decrypt())[7], 3 * a[7], 1e-5);
  auto bad = ea.Add(*CkksVector::Encrypt(vc, std::vector<double>{1, 2}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sizes differ (100 vs 2)"), std::string::npos) << bad.status();
}

TEST(CkksVector, SumDotMatMulPolyvalRotate) {
  auto vc = Ckks();
  auto a = Rand(37, 3), b = Rand(37, 4);
  auto ea = *CkksVector::Encrypt(vc, a);
  auto eb = *CkksVector::Encrypt(vc, b);
  double s = 0, d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    s += a[i];
    d += a[i] * b[i];
  }
  auto es = ea.Sum();
  ASSERT_TRUE(es.ok()) << es.status();
  EXPECT_EQ(es->size(), 1u);
  EXPECT_NEAR((*es->Decrypt())[0], s, 1e-4);
  EXPECT_NEAR((*ea.Dot(eb)->Decrypt())[0], d, 1e-4);
  EXPECT_NEAR((*ea.Dot(std::span<const double>(b))->Decrypt())[0], d, 1e-4);

  // TenSEAL's vector x matrix: 5 inputs, 3 outputs.
  auto x = Rand(5, 5), m = Rand(15, 6);
  std::vector<double> y(3, 0.0);
  for (size_t i = 0; i < 5; ++i)
    for (size_t j = 0; j < 3; ++j) y[j] += x[i] * m[i * 3 + j];
  auto ex = *CkksVector::Encrypt(vc, x);
  auto ey = ex.MatMul(m, 3);
  ASSERT_TRUE(ey.ok()) << ey.status();
  ExpectNear(*ey->Decrypt(), y, 1e-4);
  EXPECT_FALSE(ex.MatMul(m, 4).ok());

  // 1 + 2x - 0.5x^2 (depth 2: the whole N=8192 chain).
  auto ep = ea.Polyval({1.0, 2.0, -0.5});
  ASSERT_TRUE(ep.ok()) << ep.status();
  std::vector<double> want(a.size());
  for (size_t i = 0; i < a.size(); ++i) want[i] = 1 + 2 * a[i] - 0.5 * a[i] * a[i];
  ExpectNear(*ep->Decrypt(), want, 1e-4);
  EXPECT_FALSE(ep->padding_clean());

  auto er = ea.Rotate(2);
  ASSERT_TRUE(er.ok()) << er.status();
  auto rv = *er->Decrypt();
  EXPECT_NEAR(rv[0], a[2], 1e-4);
  EXPECT_NEAR(rv[34], a[36], 1e-4);
  EXPECT_NEAR(rv[35], 0, 1e-4);  // shifted in from the zero padding
}

TEST(CkksVector, SumAfterPolyvalMasksThePaddingAndSerializeRoundTrips) {
  auto vc = Ckks();
  auto a = Rand(10, 9);
  auto ea = *CkksVector::Encrypt(vc, a);
  auto shifted = *ea.Add(1.0);  // padding stays clean
  EXPECT_TRUE(shifted.padding_clean());
  double s = 0;
  for (double v : a) s += v + 1.0;
  EXPECT_NEAR((*shifted.Sum()->Decrypt())[0], s, 1e-4);
  Bytes wire = shifted.Serialize();
  auto back = CkksVector::Deserialize(vc, wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->size(), 10u);
  EXPECT_EQ(back->Serialize(), wire);
  wire[6] = 2;  // scheme byte
  EXPECT_FALSE(CkksVector::Deserialize(vc, wire).ok());
  EXPECT_FALSE(CkksVector::Deserialize(vc, ByteSpan(wire.data(), 10)).ok());
  // An evaluation-only context cannot decrypt.
  auto eval_only = *VectorContext::Create(vc->keys());
  auto x = *CkksVector::Encrypt(eval_only, a);
  auto dec = x.Decrypt();
  ASSERT_FALSE(dec.ok());
  EXPECT_NE(dec.status().message().find("no secret key"), std::string::npos);
}

TEST(BfvVector, ExactArithmeticSumDotRotate) {
  auto vc = Bfv();
  std::mt19937 g(11);
  std::uniform_int_distribution<int64_t> d(-1000, 1000);
  const size_t n = 5000;  // spills into the second row (4096 slots per row)
  std::vector<int64_t> a(n), b(n);
  for (size_t i = 0; i < n; ++i) {
    a[i] = d(g);
    b[i] = d(g);
  }
  auto ea = *BfvVector::Encrypt(vc, a);
  auto eb = *BfvVector::Encrypt(vc, b);
  auto t = static_cast<int64_t>(vc->ctx()->plain_modulus());
  auto centered = [t](int64_t v) {
    v %= t;
    if (v < 0) v += t;
    return v > t / 2 ? v - t : v;
  };
  auto sum = *ea.Add(eb)->Decrypt();
  auto prod = *ea.Mul(eb)->Decrypt();
  auto pprod = *ea.Mul(std::span<const int64_t>(b))->Decrypt();
  auto diff = *ea.Sub(std::span<const int64_t>(b))->Decrypt();
  auto neg = *ea.Negate()->Decrypt();
  int64_t s = 0, dot = 0;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(sum[i], a[i] + b[i]);
    ASSERT_EQ(prod[i], centered(a[i] * b[i]));
    ASSERT_EQ(pprod[i], centered(a[i] * b[i]));
    ASSERT_EQ(diff[i], a[i] - b[i]);
    ASSERT_EQ(neg[i], -a[i]);
    s += a[i];
    dot += a[i] * b[i];
  }
  auto es = ea.Sum();
  ASSERT_TRUE(es.ok()) << es.status();
  EXPECT_EQ((*es->Decrypt())[0], centered(s));
  EXPECT_EQ((*ea.Dot(eb)->Decrypt())[0], centered(dot));
  auto small = *BfvVector::Encrypt(vc, std::vector<int64_t>{1, 2, 3, 4});
  auto rot = *small.Rotate(1)->Decrypt();
  EXPECT_EQ(rot[0], 2);
  EXPECT_EQ(rot[2], 4);
  EXPECT_EQ(rot[3], 0);
  Bytes wire = small.Serialize();
  auto back = BfvVector::Deserialize(vc, wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back->Decrypt(), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_FALSE(CkksVector::Deserialize(Ckks(), wire).ok());
}

}  // namespace
}  // namespace swarm::fhe
