// CKKS bootstrapping (fhe/bootstrap.h) on small, insecure test parameters
// (N = 1024, sparse secret h = 32, asked for with allow_insecure): each stage
// against its plaintext equivalent, decrypt-after-bootstrap precision on
// uniform inputs in [-1, 1], a 30-step squaring circuit that runs only with
// bootstrapping, and bad input refused before any work.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "fhe/bootstrap.h"
#include "fhe/ntt.h"
#include "fhe/rns_util.h"

namespace swarm::fhe {
namespace {

using Cd = std::complex<double>;

BootstrapConfig TestConfig() {
  BootstrapConfig c;
  c.poly_degree = 1024;
  c.secret_hamming_weight = 32;
  c.user_levels = 2;
  c.slots_to_coeff_levels = 2;
  c.coeff_to_slot_levels = 2;
  c.slots_to_coeff_prime_bits = 45;
  c.eval_mod_prime_bits = 52;
  c.coeff_to_slot_prime_bits = 56;
  c.double_angle = 3;
  c.allow_insecure = true;
  return c;
}

// One key set for the whole binary (key generation is the slow part).
struct Fixture {
  BootstrapConfig cfg = TestConfig();
  BootstrapPlan plan;
  ContextPtr ctx;
  std::unique_ptr<SecretKey> sk;
  std::shared_ptr<const RelinKey> rk;
  std::shared_ptr<const GaloisKeys> gk;
  std::unique_ptr<CkksEncoder> enc;
  std::unique_ptr<Encryptor> encr;
  std::unique_ptr<Decryptor> dec;
  std::unique_ptr<CkksEvaluator> ev;
  std::unique_ptr<Bootstrapper> boot;

  Fixture() {
    plan = *PlanBootstrap(cfg);
    ctx = *Context::Create(plan.spec);
    std::array<uint8_t, 32> seed{};
    seed[0] = 19;
    KeyGenerator kg(ctx, Prng::FromSeed(seed));
    sk = std::make_unique<SecretKey>(kg.GenerateSecretKey());
    rk = std::make_shared<RelinKey>(*kg.GenerateRelinKey(*sk));
    gk = std::make_shared<GaloisKeys>(*kg.GenerateGaloisKeys(*sk, *Bootstrapper::RotationSteps(cfg), true));
    enc = std::make_unique<CkksEncoder>(ctx);
    encr = std::make_unique<Encryptor>(*Encryptor::Create(ctx, *kg.GeneratePublicKey(*sk)));
    dec = std::make_unique<Decryptor>(*Decryptor::Create(ctx, *sk));
    ev = std::make_unique<CkksEvaluator>(ctx, rk, gk);
    boot = *Bootstrapper::Create(ctx, cfg, rk, gk);
  }
  Ciphertext Encrypt(std::span<const Cd> v, double scale, size_t level) {
    return *encr->Encrypt(*enc->Encode(v, scale, level));
  }
  std::vector<Cd> Decrypt(const Ciphertext& c) { return *enc->DecodeComplex(*dec->Decrypt(c)); }
};

Fixture& F() {
  static Fixture* f = new Fixture();
  return *f;
}

double MaxErr(const std::vector<Cd>& a, const std::vector<Cd>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

TEST(BootstrapParams, InsecureOnlyWhenAskedAndReported) {
  BootstrapConfig cfg = TestConfig();
  cfg.allow_insecure = false;
  auto plan = *PlanBootstrap(cfg);
  auto refused = Context::Create(plan.spec);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("poly_degree 1024"), std::string::npos) << refused.status();
  EXPECT_TRUE(F().ctx->insecure());
  auto secure = *Context::Create(*CkksPreset(8192));
  EXPECT_FALSE(secure->insecure());
}

TEST(BootstrapParams, SecurityBoundsAt65536) {
  EXPECT_EQ(*SecurityBoundBits(65536), 1747);
  EXPECT_TRUE(CheckSecurity(65536, 1747.0).ok());
  EXPECT_FALSE(CheckSecurity(65536, 1747.5).ok());
  EXPECT_TRUE(CheckSecurity(65536, 1550.0, 192).ok());
  auto s = CheckSecurity(65536, 1600.0, 192);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Hamming weight 192"), std::string::npos) << s;
  EXPECT_FALSE(CheckSecurity(16384, 100.0, 64).ok());  // no published estimate: refused
  // The N = 2^16 plan with 8 user levels fits the sparse bound (checked on the spec's bit sizes).
  BootstrapConfig big;  // defaults: N = 65536, h = 192, 8 user levels
  auto plan = *PlanBootstrap(big);
  double bits = plan.spec.special_prime_bits;
  for (int b : plan.spec.data_prime_bits) bits += b;
  EXPECT_LE(bits, 1550.0);
  EXPECT_EQ(plan.output_level, 8u);
  // Both contexts build at N = 2^16 (primes ≡ 1 mod 2^17, NTT tables) and pass the checker.
  auto bctx = Context::Create(plan.spec);
  ASSERT_TRUE(bctx.ok()) << bctx.status();
  EXPECT_FALSE((*bctx)->insecure());
  EXPECT_LE((*bctx)->log2_qp(), 1550.0);
  auto dense = Context::Create(*CkksPreset(65536));
  ASSERT_TRUE(dense.ok()) << dense.status();
  EXPECT_LE((*dense)->log2_qp(), 1747.0);
  // The sparse bound is not granted to a uniform secret's chain, nor beyond it.
  ParamSpec over = plan.spec;
  for (int i = 0; i < 6; ++i) over.data_prime_bits.push_back(50);
  auto refused = Context::Create(over);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("Hamming weight 192"), std::string::npos) << refused.status();
}

TEST(BootstrapStages, CoeffToSlotMatchesPlainCoefficients) {
  auto& f = F();
  const size_t n = f.ctx->slot_count();
  std::mt19937 g(1);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<Cd> v(n);
  for (auto& x : v) x = {u(g), 0};
  Ciphertext ct = *f.ev->ModSwitchTo(f.Encrypt(v, 0, f.ctx->max_level()), 0);
  Ciphertext raised = *f.boot->ModRaise(ct);
  // Plain equivalent: the raised ciphertext's decrypted coefficients t.
  Plaintext pt = *f.dec->Decrypt(raised);
  RnsPoly p = pt.poly;
  FromNtt(*f.ctx, DataBasis(pt.level), p);
  std::vector<double> t = CenteredToDouble(*f.ctx, p, pt.level);
  const double q0 = f.boot->base_prime(), B = f.boot->eval_mod_range();
  const int logn = __builtin_ctzll(n);
  std::vector<Cd> want(n);
  double max_i = 0;
  for (size_t j = 0; j < n; ++j) {
    const size_t k = BitReverse(static_cast<uint32_t>(j), logn);
    want[j] = Cd(t[k], t[k + n]) / (2 * B * q0);
    max_i = std::max(max_i, std::fabs(t[k]) / q0);
  }
  EXPECT_GT(max_i, 0.5) << "ModRaise should leave a nonzero overflow I";
  EXPECT_LT(max_i, B - 0.5) << "overflow beyond EvalMod's range";
  Ciphertext z = *f.boot->CoeffToSlot(raised);
  EXPECT_EQ(z.level, f.plan.eval_mod_top);
  EXPECT_LT(MaxErr(f.Decrypt(z), want), 1e-8);
}

TEST(BootstrapStages, EvalModMatchesSine) {
  auto& f = F();
  const size_t n = f.ctx->slot_count();
  const double B = f.boot->eval_mod_range();
  std::mt19937 g(2);
  std::uniform_int_distribution<int> I(-f.plan.k_bound, f.plan.k_bound);
  std::uniform_real_distribution<double> m(-1e-3, 1e-3);
  std::vector<Cd> z(n), want(n);
  for (size_t j = 0; j < n; ++j) {
    const double xr = I(g) + m(g), xi = I(g) + m(g);
    z[j] = Cd(xr, xi) / (2 * B);
    want[j] = Cd(std::sin(2 * M_PI * xr), std::sin(2 * M_PI * xi));
  }
  Ciphertext in = f.Encrypt(z, std::ldexp(1.0, f.cfg.eval_mod_prime_bits), f.plan.eval_mod_top);
  Ciphertext out = *f.boot->EvalMod(in);
  EXPECT_EQ(out.level, f.plan.slots_to_coeff_top);
  EXPECT_LT(MaxErr(f.Decrypt(out), want), 1e-7);
}

TEST(BootstrapStages, SlotToCoeffMatchesPlainDft) {
  auto& f = F();
  const size_t n = f.ctx->slot_count(), N = f.ctx->n();
  std::mt19937 g(3);
  std::uniform_real_distribution<double> u(-1e-4, 1e-4);
  std::vector<Cd> v(n);
  for (auto& x : v) x = {u(g), u(g)};
  const double out_scale = f.ctx->spec().scale;
  Ciphertext in = f.Encrypt(v, std::ldexp(1.0, f.cfg.eval_mod_prime_bits), f.plan.slots_to_coeff_top);
  Ciphertext out = *f.boot->SlotToCoeff(in, out_scale);
  EXPECT_EQ(out.level, f.plan.output_level);
  EXPECT_EQ(out.scale, out_scale);
  // Plain equivalent: slot j = c2 * sum_k a_k zeta^(5^j k), a = BR(v), zeta = exp(i pi / N).
  const double c2 = f.boot->base_prime() / (2 * M_PI * out_scale);
  const int logn = __builtin_ctzll(n);
  std::vector<Cd> a(n), want(n);
  for (size_t j = 0; j < n; ++j) a[BitReverse(static_cast<uint32_t>(j), logn)] = v[j];
  uint64_t g5 = 1;
  double mag = 0;
  for (size_t j = 0; j < n; ++j) {
    Cd s = 0;
    for (size_t k = 0; k < n; ++k) s += a[k] * std::polar(1.0, M_PI * static_cast<double>((g5 * k) % (2 * N)) / N);
    want[j] = c2 * s;
    mag = std::max(mag, std::abs(want[j]));
    g5 = (g5 * 5) % (2 * N);
  }
  EXPECT_LT(MaxErr(f.Decrypt(out), want), 1e-6 * mag) << "magnitude " << mag;
}

struct Bits {
  double mean = 0, median = 0, worst = 0;
};
Bits PrecisionBits(const std::vector<double>& err) {
  std::vector<double> b;
  for (double e : err) b.push_back(-std::log2(std::max(e, 1e-300)));
  std::sort(b.begin(), b.end());
  Bits r;
  for (double x : b) r.mean += x;
  r.mean /= static_cast<double>(b.size());
  r.median = b[b.size() / 2];
  r.worst = b.front();
  return r;
}

// Stated precision (docs/fhe.md): at these test parameters, mean ≥ 20 bits and
// worst ≥ 16 bits per slot on uniform real inputs in [-1, 1].
TEST(Bootstrap, DecryptsWithinStatedPrecision) {
  auto& f = F();
  const size_t n = f.ctx->slot_count();
  std::mt19937 g(4);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> errs;
  for (int run = 0; run < 3; ++run) {
    std::vector<Cd> v(n);
    for (auto& x : v) x = {u(g), 0};
    Ciphertext ct = *f.ev->ModSwitchTo(f.Encrypt(v, 0, f.plan.output_level), 0);
    auto out = f.boot->Bootstrap(ct);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->level, f.plan.output_level);
    EXPECT_EQ(out->scale, f.ctx->spec().scale);
    auto got = f.Decrypt(*out);
    for (size_t j = 0; j < n; ++j) errs.push_back(std::abs(got[j].real() - v[j].real()));
  }
  Bits b = PrecisionBits(errs);
  std::printf("bootstrap precision (N=%zu insecure test params): mean %.2f median %.2f worst %.2f bits\n",
              f.ctx->n(), b.mean, b.median, b.worst);
  EXPECT_GE(b.mean, 20.0);
  EXPECT_GE(b.worst, 16.0);
}

// x <- x^2 + c (x_0 in [-0.6, 0.6], per-slot c in [-0.3, 0.1]: each slot converges to its
// attracting fixed point (|2x*| < 1), so errors do not grow),
// 30 squarings, each one level: the chain has 2 user levels, so this runs only
// with bootstrapping.
TEST(Bootstrap, ThirtySquaringsRunOnlyWithBootstrapping) {
  auto& f = F();
  const size_t n = f.ctx->slot_count();
  std::mt19937 g(6);
  std::uniform_real_distribution<double> u(-0.6, 0.6), cc(-0.3, 0.1);
  std::vector<Cd> v(n), c(n);
  for (size_t j = 0; j < n; ++j) {
    v[j] = {u(g), 0};
    c[j] = {cc(g), 0};
  }
  std::vector<double> plain(n);
  for (size_t j = 0; j < n; ++j) plain[j] = v[j].real();
  Ciphertext x = f.Encrypt(v, 0, f.plan.output_level);
  // Without bootstrapping the chain runs out after user_levels squarings.
  {
    Ciphertext y = x;
    Status failed = absl::OkStatus();
    int done = 0;
    for (; done < 30; ++done) {
      auto sq = f.ev->MultiplyRelinRescale(y, y);
      if (!sq.ok()) {
        failed = sq.status();
        break;
      }
      y = *sq;
    }
    EXPECT_EQ(done, f.cfg.user_levels);
    EXPECT_FALSE(failed.ok());
  }
  int bootstraps = 0;
  for (int step = 0; step < 30; ++step) {
    if (x.level == 0) {
      auto b = f.boot->Bootstrap(x);
      ASSERT_TRUE(b.ok()) << b.status();
      x = *b;
      ++bootstraps;
    }
    x = *f.ev->MultiplyRelinRescale(x, x);
    Plaintext pc = *f.enc->Encode(std::span<const Cd>(c), x.scale, x.level);
    x = *f.ev->AddPlain(x, pc);
    for (size_t j = 0; j < n; ++j) plain[j] = plain[j] * plain[j] + c[j].real();
  }
  EXPECT_GE(bootstraps, 14);
  auto got = f.Decrypt(x);
  double worst = 0;
  for (size_t j = 0; j < n; ++j) worst = std::max(worst, std::fabs(got[j].real() - plain[j]));
  std::printf("30 squarings with %d bootstraps: worst error %.3g\n", bootstraps, worst);
  EXPECT_LT(worst, 1e-5);
}

TEST(BootstrapBadInput, RefusedBeforeWorkWithReason) {
  auto& f = F();
  // No keys.
  auto no_keys = Bootstrapper::Create(f.ctx, f.cfg, nullptr, nullptr);
  ASSERT_FALSE(no_keys.ok());
  EXPECT_NE(no_keys.status().message().find("keys missing"), std::string::npos) << no_keys.status();
  // Galois keys without the bootstrapping rotations.
  std::array<uint8_t, 32> seed{};
  KeyGenerator kg(f.ctx, Prng::FromSeed(seed));
  auto few = std::make_shared<GaloisKeys>(*kg.GenerateGaloisKeys(*f.sk, {1}, true));
  auto missing = Bootstrapper::Create(f.ctx, f.cfg, f.rk, few);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no Galois key for rotation"), std::string::npos) << missing.status();
  // Parameters that cannot bootstrap: a context not made from the plan, a dense secret.
  auto other = *Context::Create(*CkksPreset(8192));
  auto wrong_ctx = Bootstrapper::Create(other, f.cfg, f.rk, f.gk);
  ASSERT_FALSE(wrong_ctx.ok());
  EXPECT_NE(wrong_ctx.status().message().find("cannot bootstrap"), std::string::npos) << wrong_ctx.status();
  BootstrapConfig dense = f.cfg;
  dense.secret_hamming_weight = 0;
  auto dense_plan = PlanBootstrap(dense);
  ASSERT_FALSE(dense_plan.ok());
  EXPECT_NE(dense_plan.status().message().find("secret_hamming_weight 0"), std::string::npos);
  // Wrong level: above the level bootstrapping returns.
  const size_t n = f.ctx->slot_count();
  std::vector<Cd> v(n, Cd(0.5, 0));
  Ciphertext fresh = f.Encrypt(v, 0, f.ctx->max_level());
  auto high = f.boot->Bootstrap(fresh);
  ASSERT_FALSE(high.ok());
  EXPECT_NE(high.status().message().find("above the level bootstrapping returns"), std::string::npos) << high.status();
  // Wrong scale: too close to q_0.
  Ciphertext big = f.Encrypt(v, std::ldexp(1.0, 45), 0);
  auto scale = f.boot->Bootstrap(big);
  ASSERT_FALSE(scale.ok());
  EXPECT_NE(scale.status().message().find("scale 2^45"), std::string::npos) << scale.status();
  // Three parts.
  Ciphertext low = f.Encrypt(v, 0, 1);
  Ciphertext three = *f.ev->Multiply(low, low);
  auto parts = f.boot->Bootstrap(three);
  ASSERT_FALSE(parts.ok());
  EXPECT_NE(parts.status().message().find("3 parts"), std::string::npos) << parts.status();
}

}  // namespace
}  // namespace swarm::fhe
