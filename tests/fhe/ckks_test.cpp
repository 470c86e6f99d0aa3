#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdio>

#include "common/rng.h"
#include "fhe/ckks.h"

namespace swarm::fhe {
namespace {

std::array<uint8_t, 32> Seed(uint8_t x) {
  std::array<uint8_t, 32> s{};
  s[0] = x;
  return s;
}

double MaxErr(const std::vector<double>& got, const std::vector<double>& want) {
  double m = 0;
  for (size_t i = 0; i < want.size(); ++i) m = std::max(m, std::fabs(got[i] - want[i]));
  return m;
}

std::vector<double> RandomVec(Rng& rng, size_t n, double lo = -1, double hi = 1) {
  std::vector<double> v(n);
  for (auto& x : v) x = rng.UniformDouble(lo, hi);
  return v;
}

// One N=8192 parameter set and key pair shared by the tests in this file.
struct Env {
  ContextPtr ctx;
  SecretKey sk;
  PublicKey pk;
  std::shared_ptr<const RelinKey> rk;
  std::shared_ptr<const GaloisKeys> gk;
  std::unique_ptr<CkksEncoder> enc;
  std::unique_ptr<Encryptor> encryptor;
  std::unique_ptr<Decryptor> dec;
  std::unique_ptr<CkksEvaluator> ev;

  static Env& Get() {
    static Env* env = [] {
      auto* e = new Env();
      auto spec = CkksPreset(8192);
      SWARM_ASSERT(spec.ok());
      auto ctx = Context::Create(*spec);
      SWARM_ASSERT(ctx.ok());
      e->ctx = *ctx;
      KeyGenerator kg(e->ctx, Prng::FromSeed(Seed(1)));
      e->sk = kg.GenerateSecretKey();
      e->pk = *kg.GeneratePublicKey(e->sk);
      e->rk = std::make_shared<RelinKey>(*kg.GenerateRelinKey(e->sk));
      std::vector<int> steps;
      for (int s = 1; s < 4096; s <<= 1) steps.push_back(s);
      for (int s : CkksEvaluator::MatVecSteps(8, 8)) steps.push_back(s);
      steps.push_back(-1);
      e->gk = std::make_shared<GaloisKeys>(*kg.GenerateGaloisKeys(e->sk, steps, true));
      e->enc = std::make_unique<CkksEncoder>(e->ctx);
      e->encryptor = std::make_unique<Encryptor>(*Encryptor::Create(e->ctx, e->pk));
      e->encryptor->SetPrngForTesting(Prng::FromSeed(Seed(3)));  // reproducible runs
      e->dec = std::make_unique<Decryptor>(*Decryptor::Create(e->ctx, e->sk));
      e->ev = std::make_unique<CkksEvaluator>(e->ctx, e->rk, e->gk);
      return e;
    }();
    return *env;
  }

  Ciphertext Enc(const std::vector<double>& v) {
    auto pt = enc->Encode(std::span<const double>(v));
    SWARM_ASSERT(pt.ok());
    auto ct = encryptor->Encrypt(*pt);
    SWARM_ASSERT(ct.ok());
    return *ct;
  }
  std::vector<double> Dec(const Ciphertext& ct) {
    auto pt = dec->Decrypt(ct);
    EXPECT_TRUE(pt.ok()) << pt.status();
    auto v = enc->Decode(*pt);
    SWARM_ASSERT(v.ok());
    return *v;
  }
};

TEST(CkksParams, SecurityCheckerRefusesAboveBoundAndNamesIt) {
  ParamSpec s;
  s.scheme = Scheme::kCkks;
  s.poly_degree = 8192;
  s.data_prime_bits = {60, 60, 60};
  s.special_prime_bits = 60;
  s.scale = std::ldexp(1.0, 40);
  auto c = Context::Create(s);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("218"), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find("HomomorphicEncryption.org"), std::string::npos);
  for (size_t n : {4096u, 8192u, 16384u, 32768u}) {
    auto p = CkksPreset(n);
    ASSERT_TRUE(p.ok());
    auto ctx = Context::Create(*p);
    ASSERT_TRUE(ctx.ok()) << n << ": " << ctx.status();
    EXPECT_LE((*ctx)->log2_qp(), *SecurityBoundBits(n));
  }
  s.poly_degree = 32768;
  s.data_prime_bits = std::vector<int>(15, 60);  // 16 * 60 = 960 > 881
  auto big = Context::Create(s);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("881"), std::string::npos);
  s.poly_degree = 2048;
  EXPECT_FALSE(Context::Create(s).ok());
}

TEST(Ckks, EncodeDecodeRoundTripComplex) {
  auto& e = Env::Get();
  Rng rng(3);
  std::vector<std::complex<double>> v(e.enc->slot_count());
  for (auto& z : v) z = {rng.UniformDouble(-5, 5), rng.UniformDouble(-5, 5)};
  auto pt = e.enc->Encode(std::span<const std::complex<double>>(v));
  ASSERT_TRUE(pt.ok()) << pt.status();
  auto back = e.enc->DecodeComplex(*pt);
  ASSERT_TRUE(back.ok());
  double err = 0;
  for (size_t i = 0; i < v.size(); ++i) err = std::max(err, std::abs((*back)[i] - v[i]));
  EXPECT_LT(err, 1e-9);
}

TEST(Ckks, EncryptDecryptPublicAndSecretKey) {
  auto& e = Env::Get();
  Rng rng(4);
  auto v = RandomVec(rng, 4096);
  EXPECT_LT(MaxErr(e.Dec(e.Enc(v)), v), 1e-6);
  auto se = Encryptor::Create(e.ctx, e.sk);
  ASSERT_TRUE(se.ok());
  auto ct = se->Encrypt(*e.enc->Encode(std::span<const double>(v)));
  ASSERT_TRUE(ct.ok());
  EXPECT_LT(MaxErr(e.Dec(*ct), v), 1e-6);
}

TEST(Ckks, AddSubNegatePlainAndScalar) {
  auto& e = Env::Get();
  Rng rng(5);
  auto a = RandomVec(rng, 4096), b = RandomVec(rng, 4096);
  auto ca = e.Enc(a), cb = e.Enc(b);
  std::vector<double> sum(4096), diff(4096), neg(4096), ps(4096), sc(4096);
  for (size_t i = 0; i < 4096; ++i) {
    sum[i] = a[i] + b[i];
    diff[i] = a[i] - b[i];
    neg[i] = -a[i];
    ps[i] = a[i] + b[i];
    sc[i] = a[i] + 2.5;
  }
  EXPECT_LT(MaxErr(e.Dec(*e.ev->Add(ca, cb)), sum), 1e-6);
  EXPECT_LT(MaxErr(e.Dec(*e.ev->Sub(ca, cb)), diff), 1e-6);
  EXPECT_LT(MaxErr(e.Dec(*e.ev->Negate(ca)), neg), 1e-6);
  auto pb = e.enc->Encode(std::span<const double>(b));
  EXPECT_LT(MaxErr(e.Dec(*e.ev->AddPlain(ca, *pb)), ps), 1e-6);
  EXPECT_LT(MaxErr(e.Dec(*e.ev->AddScalar(ca, 2.5)), sc), 1e-6);
}

TEST(Ckks, MultiplyRelinRescaleAndScalar) {
  auto& e = Env::Get();
  Rng rng(6);
  auto a = RandomVec(rng, 4096), b = RandomVec(rng, 4096);
  auto ca = e.Enc(a), cb = e.Enc(b);
  std::vector<double> prod(4096), sprod(4096), pprod(4096);
  for (size_t i = 0; i < 4096; ++i) {
    prod[i] = a[i] * b[i];
    sprod[i] = a[i] * -3.25;
  }
  auto m = e.ev->Multiply(ca, cb);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->parts.size(), 3u);
  EXPECT_LT(MaxErr(e.Dec(*m), prod), 1e-5);  // 3-part decryption works too
  auto r = e.ev->MultiplyRelinRescale(ca, cb);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->level, 1u);
  EXPECT_LT(MaxErr(e.Dec(*r), prod), 1e-5);
  auto s = e.ev->Rescale(*e.ev->MultiplyScalar(ca, -3.25));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_NEAR(s->scale, ca.scale, ca.scale * 1e-12);
  EXPECT_LT(MaxErr(e.Dec(*s), sprod), 1e-5);
  auto pb = e.enc->Encode(std::span<const double>(b));
  auto mp = e.ev->Rescale(*e.ev->MultiplyPlain(ca, *pb));
  ASSERT_TRUE(mp.ok());
  EXPECT_LT(MaxErr(e.Dec(*mp), prod), 1e-5);
}

TEST(Ckks, LevelExhaustionIsAnErrorNamingOperationAndLevel) {
  auto& e = Env::Get();
  auto x = e.Enc({0.5, 0.25});
  auto y = *e.ev->MultiplyRelinRescale(x, x);
  auto z = *e.ev->MultiplyRelinRescale(y, y);
  EXPECT_EQ(z.level, 0u);
  auto bad = e.ev->Rescale(z);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rescale"), std::string::npos);
  EXPECT_NE(bad.status().message().find("level 0"), std::string::npos);
  auto bad2 = e.ev->Multiply(z, z);
  ASSERT_FALSE(bad2.ok());
  EXPECT_NE(bad2.status().message().find("multiply"), std::string::npos);
  EXPECT_NE(bad2.status().message().find("level 0"), std::string::npos);
  auto v = e.Dec(z);
  EXPECT_NEAR(v[0], std::pow(0.5, 4), 1e-4);
}

TEST(Ckks, ModSwitchKeepsValuesAndScaleAndRefusesGoingUp) {
  auto& e = Env::Get();
  Rng rng(13);
  auto a = RandomVec(rng, 4096);
  auto ca = e.Enc(a);
  auto low = e.ev->ModSwitchTo(ca, 0);
  ASSERT_TRUE(low.ok()) << low.status();
  EXPECT_EQ(low->level, 0u);
  EXPECT_EQ(low->scale, ca.scale);
  EXPECT_LT(MaxErr(e.Dec(*low), a), 1e-6);
  auto up = e.ev->ModSwitchTo(*low, 1);
  ASSERT_FALSE(up.ok());
  EXPECT_NE(up.status().message().find("mod_switch"), std::string::npos);
  // Operands at different levels are aligned automatically.
  auto sum = e.ev->Add(ca, *low);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->level, 0u);
  std::vector<double> twice(a.size());
  for (size_t i = 0; i < a.size(); ++i) twice[i] = 2 * a[i];
  EXPECT_LT(MaxErr(e.Dec(*sum), twice), 1e-6);
  // Scale mismatch is refused with both scales named.
  auto prod = *e.ev->Multiply(ca, ca);
  auto bad = e.ev->Add(*e.ev->Relinearize(prod), ca);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("scales differ"), std::string::npos);
  // Relinearization without a key is refused.
  CkksEvaluator bare(e.ctx);
  auto norelin = bare.Relinearize(prod);
  ASSERT_FALSE(norelin.ok());
  EXPECT_NE(norelin.status().message().find("relinearization key"), std::string::npos);
}

TEST(Ckks, RotateConjugateSumDot) {
  auto& e = Env::Get();
  Rng rng(8);
  const size_t S = 4096;
  auto a = RandomVec(rng, S), b = RandomVec(rng, S);
  auto ca = e.Enc(a), cb = e.Enc(b);
  for (int k : {1, 4, -1}) {
    auto r = e.ev->Rotate(ca, k);
    ASSERT_TRUE(r.ok()) << r.status();
    std::vector<double> want(S);
    for (size_t i = 0; i < S; ++i) want[i] = a[(i + S + k) % S];
    EXPECT_LT(MaxErr(e.Dec(*r), want), 1e-5) << k;
  }
  EXPECT_TRUE(e.ev->CanRotate(4));
  EXPECT_TRUE(e.ev->CanRotate(0));
  EXPECT_FALSE(e.ev->CanRotate(9));
  EXPECT_TRUE(e.ev->CanConjugate());
  EXPECT_TRUE(e.ev->CanRelinearize());
  auto missing = e.ev->Rotate(ca, 9);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("Galois key"), std::string::npos);

  std::vector<std::complex<double>> z(S);
  for (auto& c : z) c = {rng.UniformDouble(-1, 1), rng.UniformDouble(-1, 1)};
  auto cz = e.encryptor->Encrypt(*e.enc->Encode(std::span<const std::complex<double>>(z)));
  auto conj = e.ev->Conjugate(*cz);
  ASSERT_TRUE(conj.ok()) << conj.status();
  auto dz = *e.enc->DecodeComplex(*e.dec->Decrypt(*conj));
  double err = 0;
  for (size_t i = 0; i < S; ++i) err = std::max(err, std::abs(dz[i] - std::conj(z[i])));
  EXPECT_LT(err, 1e-5);

  double sum = 0, dot = 0;
  for (size_t i = 0; i < S; ++i) {
    sum += a[i];
    dot += a[i] * b[i];
  }
  auto cs = e.ev->SumSlots(ca);
  ASSERT_TRUE(cs.ok()) << cs.status();
  EXPECT_NEAR(e.Dec(*cs)[17], sum, 1e-3);
  auto cd = e.ev->Dot(ca, cb);
  ASSERT_TRUE(cd.ok()) << cd.status();
  EXPECT_NEAR(e.Dec(*cd)[0], dot, 1e-3);
}

TEST(Ckks, MatVecDiagonalMethod) {
  auto& e = Env::Get();
  Rng rng(9);
  const size_t rows = 5, cols = 7;
  auto m = RandomVec(rng, rows * cols), x = RandomVec(rng, cols);
  auto cx = e.Enc(x);
  auto y = e.ev->MatVec(*e.enc, cx, m, rows, cols);
  ASSERT_TRUE(y.ok()) << y.status();
  auto got = e.Dec(*y);
  for (size_t r = 0; r < rows; ++r) {
    double want = 0;
    for (size_t c = 0; c < cols; ++c) want += m[r * cols + c] * x[c];
    EXPECT_NEAR(got[r], want, 1e-4) << r;
  }
  EXPECT_FALSE(e.ev->MatVec(*e.enc, cx, m, rows, cols + 1).ok());
}

TEST(Ckks, PolynomialEvaluation) {
  auto& e = Env::Get();
  Rng rng(10);
  auto x = RandomVec(rng, 4096);
  auto cx = e.Enc(x);
  const std::vector<double> c = {0.5, -1.25, 0.75};  // degree 2: depth 2
  auto y = e.ev->EvalPolynomial(cx, c);
  ASSERT_TRUE(y.ok()) << y.status();
  std::vector<double> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = c[0] + c[1] * x[i] + c[2] * x[i] * x[i];
  EXPECT_LT(MaxErr(e.Dec(*y), want), 1e-4);
  auto deep = e.ev->EvalPolynomial(cx, {1, 1, 1, 1});  // degree 3 needs depth 3 > level 2
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("depth 3"), std::string::npos) << deep.status();
}

TEST(Ckks, WrongKeyAndMismatchedParametersAreDetected) {
  auto& e = Env::Get();
  auto ct = e.Enc({1.0, 2.0});
  KeyGenerator kg2(e.ctx, Prng::FromSeed(Seed(2)));
  SecretKey other = kg2.GenerateSecretKey();
  auto d2 = Decryptor::Create(e.ctx, other);
  ASSERT_TRUE(d2.ok());
  auto bad = d2->Decrypt(ct);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("key id"), std::string::npos);
  auto ctx4 = Context::Create(*CkksPreset(4096));
  ASSERT_TRUE(ctx4.ok());
  EXPECT_FALSE(Decryptor::Create(*ctx4, e.sk).ok());
  auto other_ct = Encryptor::Create(e.ctx, other)->Encrypt(*e.enc->Encode(std::vector<double>{1.0}));
  ASSERT_TRUE(other_ct.ok());
  auto mixed = e.ev->Add(ct, *other_ct);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("different keys"), std::string::npos);
}

// Measured max error per operation and depth at scale 2^40 (N = 16384,
// q = 60 + 6 x 40 bits): printed as a table and bounded.
TEST(CkksErrorTable, MeasuredMaxErrorPerDepthAtScale2To40) {
  auto spec = *CkksPreset(16384);
  auto ctx = *Context::Create(spec);
  KeyGenerator kg(ctx, Prng::FromSeed(Seed(7)));
  SecretKey sk = kg.GenerateSecretKey();
  auto rk = std::make_shared<RelinKey>(*kg.GenerateRelinKey(sk));
  auto gk = std::make_shared<GaloisKeys>(*kg.GenerateGaloisKeys(sk, {1}, false));
  CkksEncoder enc(ctx);
  auto encr = *Encryptor::Create(ctx, *kg.GeneratePublicKey(sk));
  encr.SetPrngForTesting(Prng::FromSeed(Seed(8)));
  auto dec = *Decryptor::Create(ctx, sk);
  CkksEvaluator ev(ctx, rk, gk);
  Rng rng(12);
  const size_t S = enc.slot_count();
  auto enc_vec = [&](const std::vector<double>& v) { return *encr.Encrypt(*enc.Encode(std::span<const double>(v))); };
  auto dec_vec = [&](const Ciphertext& c) { return *enc.Decode(*dec.Decrypt(c)); };
  std::printf("\n| operation (values in [-1,1], N=16384, scale 2^40) | depth | max abs error | bound asserted |\n|---|---|---|---|\n");
  auto row = [&](const char* op, int depth, double err, double bound) {
    std::printf("| %s | %d | %.3e | %.0e |\n", op, depth, err, bound);
    EXPECT_LT(err, bound) << op << " depth " << depth;
  };
  auto a = RandomVec(rng, S), b = RandomVec(rng, S);
  auto ca = enc_vec(a), cb = enc_vec(b);
  row("encode+encrypt+decrypt", 0, MaxErr(dec_vec(ca), a), 1e-6);
  std::vector<double> want(S);
  for (size_t i = 0; i < S; ++i) want[i] = a[i] + b[i];
  row("add", 0, MaxErr(dec_vec(*ev.Add(ca, cb)), want), 1e-6);
  for (size_t i = 0; i < S; ++i) want[i] = a[i + 1 < S ? i + 1 : 0];
  row("rotate by 1", 0, MaxErr(dec_vec(*ev.Rotate(ca, 1)), want), 1e-5);
  for (size_t i = 0; i < S; ++i) want[i] = a[i] * 0.7;
  row("multiply by scalar 0.7 + rescale", 1, MaxErr(dec_vec(*ev.Rescale(*ev.MultiplyScalar(ca, 0.7))), want), 1e-6);
  auto pb = *enc.Encode(std::span<const double>(b));
  for (size_t i = 0; i < S; ++i) want[i] = a[i] * b[i];
  row("ct x pt + rescale", 1, MaxErr(dec_vec(*ev.Rescale(*ev.MultiplyPlain(ca, pb))), want), 1e-6);
  // Chain of ct x ct products: y_d = y_{d-1} * x_d.
  Ciphertext y = ca;
  std::vector<double> yv = a;
  for (int d = 1; d <= static_cast<int>(ctx->max_level()); ++d) {
    auto x = RandomVec(rng, S);
    auto cx = ev.ModSwitchTo(enc_vec(x), y.level);
    y = *ev.MultiplyRelinRescale(y, *cx);
    for (size_t i = 0; i < S; ++i) yv[i] *= x[i];
    row("ct x ct + relin + rescale (chain)", d, MaxErr(dec_vec(y), yv), 1e-5 * d);
  }
  // Squaring chain x^(2^d) (errors grow with the derivative).
  auto h = RandomVec(rng, S, -1, 1);
  Ciphertext sq = enc_vec(h);
  for (int d = 1; d <= 3; ++d) {
    sq = *ev.MultiplyRelinRescale(sq, sq);
    for (auto& v : h) v *= v;
    row("squaring x^(2^d)", d, MaxErr(dec_vec(sq), h), 1e-5 * d);
  }
  std::printf("\n");
}

}  // namespace
}  // namespace swarm::fhe
