// The circuit op "bootstrap" (jobs/circuit.h): a circuit deeper than the
// chain runs through jobs::Evaluate when the keys carry a bootstrapper, and is
// refused before any work, with the reason, when they do not. Small insecure
// parameters (N = 1024, fhe/bootstrap.h test configuration).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fhe/bootstrap.h"
#include "fixtures.h"
#include "jobs/evaluate.h"

namespace swarm::jobs {
namespace {

using testing::CircuitToml;
using testing::OpText;

struct BootFixture {
  fhe::BootstrapConfig cfg;
  EvalKeys keys;
  std::unique_ptr<fhe::SecretKey> sk;
  std::unique_ptr<fhe::Encryptor> enc;
  std::unique_ptr<fhe::Decryptor> dec;
  BootFixture() {
    cfg.poly_degree = 1024;
    cfg.secret_hamming_weight = 32;
    cfg.user_levels = 2;
    cfg.slots_to_coeff_levels = 2;
    cfg.coeff_to_slot_levels = 2;
    cfg.slots_to_coeff_prime_bits = 45;
    cfg.eval_mod_prime_bits = 52;
    cfg.allow_insecure = true;
    auto plan = *fhe::PlanBootstrap(cfg);
    keys.ctx = *fhe::Context::Create(plan.spec);
    std::array<uint8_t, 32> seed{};
    seed[0] = 7;
    fhe::KeyGenerator kg(keys.ctx, fhe::Prng::FromSeed(seed));
    sk = std::make_unique<fhe::SecretKey>(kg.GenerateSecretKey());
    keys.relin = std::make_shared<const fhe::RelinKey>(*kg.GenerateRelinKey(*sk));
    keys.galois = std::make_shared<const fhe::GaloisKeys>(
        *kg.GenerateGaloisKeys(*sk, *fhe::Bootstrapper::RotationSteps(cfg), true));
    keys.bootstrapper = *fhe::Bootstrapper::Create(keys.ctx, cfg, keys.relin, keys.galois);
    enc = std::make_unique<fhe::Encryptor>(*fhe::Encryptor::Create(keys.ctx, *sk));
    dec = std::make_unique<fhe::Decryptor>(*fhe::Decryptor::Create(keys.ctx, *sk));
  }
};

BootFixture& F() {
  static BootFixture* f = new BootFixture();
  return *f;
}

// x <- x^2 - 0.25 six times (each a mul, relinearize, rescale: one level), with a
// bootstrap before every second square: 6 levels on a chain with 2 user levels.
std::string DeepCircuit(bool with_bootstrap) {
  std::vector<OpText> ops;
  std::string prev = "x";
  for (int i = 0; i < 6; ++i) {
    const std::string k = std::to_string(i);
    if (with_bootstrap && i > 0 && i % 2 == 0) {
      ops.push_back({"b" + k, "bootstrap", {prev}, ""});
      prev = "b" + k;
    }
    ops.push_back({"m" + k, "mul", {prev, prev}, ""});
    ops.push_back({"r" + k, "relinearize", {"m" + k}, ""});
    ops.push_back({"s" + k, "rescale", {"r" + k}, ""});
    ops.push_back({"a" + k, "add_scalar", {"s" + k}, "value = -0.25"});
    prev = "a" + k;
  }
  return CircuitToml("ckks", {"x"}, {prev}, ops);
}

TEST(BootstrapCircuit, DeepCircuitRunsWithBootstrapOps) {
  auto& f = F();
  fhe::CkksEncoder encoder(f.keys.ctx);
  const size_t n = f.keys.ctx->slot_count();
  std::mt19937 g(3);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<double> x(n);
  for (auto& v : x) v = u(g);
  Values in = {{"x", *f.enc->Encrypt(*encoder.Encode(std::span<const double>(x), 0, f.cfg.user_levels))}};
  auto circuit = ParseCircuit(DeepCircuit(true));
  ASSERT_TRUE(circuit.ok()) << circuit.status();
  auto out = Evaluate(*circuit, f.keys, in);
  ASSERT_TRUE(out.ok()) << out.status();
  auto got = *encoder.Decode(*f.dec->Decrypt(out->begin()->second));
  double worst = 0;
  for (size_t j = 0; j < n; ++j) {
    double p = x[j];
    for (int i = 0; i < 6; ++i) p = p * p - 0.25;
    worst = std::max(worst, std::fabs(got[j] - p));
  }
  EXPECT_LT(worst, 1e-4);
}

TEST(BootstrapCircuit, RefusedBeforeWorkWithoutBootstrapping) {
  auto& f = F();
  fhe::CkksEncoder encoder(f.keys.ctx);
  std::vector<double> x(8, 0.25);
  Values in = {{"x", *f.enc->Encrypt(*encoder.Encode(std::span<const double>(x), 0, f.cfg.user_levels))}};
  EvalKeys no_boot = f.keys;
  no_boot.bootstrapper = nullptr;
  // The bootstrap op itself, without a bootstrapper.
  auto with_op = Evaluate(*ParseCircuit(DeepCircuit(true)), no_boot, in);
  ASSERT_FALSE(with_op.ok());
  EXPECT_NE(with_op.status().message().find("bootstrapping is unavailable"), std::string::npos) << with_op.status();
  // A circuit deeper than the chain: the depth refusal, and with a bootstrapper the hint to bootstrap.
  auto deep = Evaluate(*ParseCircuit(DeepCircuit(false)), no_boot, in);
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("depth budget"), std::string::npos) << deep.status();
  EXPECT_EQ(deep.status().message().find("insert a 'bootstrap' op"), std::string::npos) << deep.status();
  auto hinted = CheckCircuit(*ParseCircuit(DeepCircuit(false)), f.keys, in);
  ASSERT_FALSE(hinted.ok());
  EXPECT_NE(hinted.message().find("insert a 'bootstrap' op"), std::string::npos) << hinted;
  // Bootstrapping a value above the output level.
  Values top = {{"x", *f.enc->Encrypt(*encoder.Encode(std::span<const double>(x)))}};
  auto high = CheckCircuit(*ParseCircuit(CircuitToml("ckks", {"x"}, {"b"}, {{"b", "bootstrap", {"x"}, ""}})), f.keys, top);
  ASSERT_FALSE(high.ok());
  EXPECT_NE(high.message().find("above the level bootstrapping returns"), std::string::npos) << high;
}

}  // namespace
}  // namespace swarm::jobs
