#include <gtest/gtest.h>

#include <cstdio>

#include "common/rng.h"
#include "fhe/bfv.h"

namespace swarm::fhe {
namespace {

std::array<uint8_t, 32> Seed(uint8_t x) {
  std::array<uint8_t, 32> s{};
  s[0] = x;
  s[1] = 0xbf;
  return s;
}

struct Env {
  ContextPtr ctx;
  SecretKey sk;
  std::shared_ptr<const RelinKey> rk;
  std::shared_ptr<const GaloisKeys> gk;
  std::unique_ptr<BfvEncoder> enc;
  std::unique_ptr<Encryptor> encryptor;
  std::unique_ptr<Decryptor> dec;
  std::unique_ptr<BfvEvaluator> ev;
  uint64_t t = 0;

  static Env& Get() {
    static Env* env = [] {
      auto* e = new Env();
      e->ctx = *Context::Create(*BfvPreset(8192));
      KeyGenerator kg(e->ctx, Prng::FromSeed(Seed(1)));
      e->sk = kg.GenerateSecretKey();
      e->rk = std::make_shared<RelinKey>(*kg.GenerateRelinKey(e->sk));
      e->gk = std::make_shared<GaloisKeys>(*kg.GenerateGaloisKeys(e->sk, {1, -1, 5}, true));
      e->enc = std::make_unique<BfvEncoder>(e->ctx);
      e->encryptor = std::make_unique<Encryptor>(*Encryptor::Create(e->ctx, *kg.GeneratePublicKey(e->sk)));
      e->encryptor->SetPrngForTesting(Prng::FromSeed(Seed(4)));
      e->dec = std::make_unique<Decryptor>(*Decryptor::Create(e->ctx, e->sk));
      e->ev = std::make_unique<BfvEvaluator>(e->ctx, e->rk, e->gk);
      e->t = e->ctx->plain_modulus();
      return e;
    }();
    return *env;
  }
  std::vector<uint64_t> Rand(Rng& rng) {
    std::vector<uint64_t> v(ctx->n());
    for (auto& x : v) x = rng.Uniform(t);
    return v;
  }
  Ciphertext Enc(const std::vector<uint64_t>& v) { return *encryptor->Encrypt(*enc->Encode(v)); }
  std::vector<uint64_t> Dec(const Ciphertext& c) {
    auto pt = dec->Decrypt(c);
    EXPECT_TRUE(pt.ok()) << pt.status();
    return *enc->Decode(*pt);
  }
  double Budget(const Ciphertext& c) { return *dec->InvariantNoiseBudget(c); }
};

TEST(BfvParams, PresetsWithinBoundAndPlainModulusSplits) {
  for (size_t n : {4096u, 8192u, 16384u, 32768u}) {
    auto ctx = Context::Create(*BfvPreset(n));
    ASSERT_TRUE(ctx.ok()) << n << ": " << ctx.status();
    EXPECT_EQ((*ctx)->plain_modulus() % (2 * n), 1u);
    EXPECT_LE((*ctx)->log2_qp(), *SecurityBoundBits(n));
  }
}

TEST(Bfv, EncodeDecodeAndEncryptDecryptExact) {
  auto& e = Env::Get();
  Rng rng(1);
  auto v = e.Rand(rng);
  auto pt = e.enc->Encode(v);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(*e.enc->Decode(*pt), v);
  EXPECT_EQ(e.Dec(e.Enc(v)), v);
  auto sk_enc = Encryptor::Create(e.ctx, e.sk);
  EXPECT_EQ(e.Dec(*sk_enc->Encrypt(*pt)), v);
  std::vector<int64_t> s = {-5, 7, -(static_cast<int64_t>(e.t) / 2), static_cast<int64_t>(e.t) / 2};
  auto ps = e.enc->EncodeSigned(s);
  ASSERT_TRUE(ps.ok());
  auto back = *e.enc->DecodeSigned(*e.dec->Decrypt(*e.encryptor->Encrypt(*ps)));
  for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(back[i], s[i]);
  std::vector<uint64_t> too_big = {e.t};
  EXPECT_FALSE(e.enc->Encode(too_big).ok());
}

TEST(Bfv, AddSubMultiplyExactOverRandomInputs) {
  auto& e = Env::Get();
  Rng rng(2);
  const Modulus t(e.t);
  for (int trial = 0; trial < 2; ++trial) {
    auto a = e.Rand(rng), b = e.Rand(rng);
    auto ca = e.Enc(a), cb = e.Enc(b);
    std::vector<uint64_t> sum(a.size()), diff(a.size()), prod(a.size()), pprod(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      sum[i] = t.Add(a[i], b[i]);
      diff[i] = t.Sub(a[i], b[i]);
      prod[i] = t.Mul(a[i], b[i]);
    }
    EXPECT_EQ(e.Dec(*e.ev->Add(ca, cb)), sum);
    EXPECT_EQ(e.Dec(*e.ev->Sub(ca, cb)), diff);
    auto m = e.ev->Multiply(ca, cb);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(e.Dec(*m), prod);
    auto mr = e.ev->MultiplyRelin(ca, cb);
    ASSERT_TRUE(mr.ok()) << mr.status();
    EXPECT_EQ(mr->parts.size(), 2u);
    EXPECT_EQ(e.Dec(*mr), prod);
    auto pb = *e.enc->Encode(b);
    EXPECT_EQ(e.Dec(*e.ev->MultiplyPlain(ca, pb)), prod);
    EXPECT_EQ(e.Dec(*e.ev->AddPlain(ca, pb)), sum);
    EXPECT_EQ(e.Dec(*e.ev->SubPlain(ca, pb)), diff);
    std::vector<uint64_t> neg(a.size());
    for (size_t i = 0; i < a.size(); ++i) neg[i] = t.Neg(a[i]);
    EXPECT_EQ(e.Dec(*e.ev->Negate(ca)), neg);
  }
}

TEST(Bfv, RotateRowsAndColumns) {
  auto& e = Env::Get();
  Rng rng(3);
  auto a = e.Rand(rng);
  auto ca = e.Enc(a);
  const size_t h = e.enc->row_size();
  for (int k : {1, -1, 5}) {
    auto r = e.ev->RotateRows(ca, k);
    ASSERT_TRUE(r.ok()) << r.status();
    auto got = e.Dec(*r);
    for (size_t row = 0; row < 2; ++row) {
      for (size_t j = 0; j < h; ++j) {
        ASSERT_EQ(got[row * h + j], a[row * h + (j + h + k) % h]) << "k=" << k << " row " << row << " j " << j;
      }
    }
  }
  auto sw = e.ev->RotateColumns(ca);
  ASSERT_TRUE(sw.ok()) << sw.status();
  auto got = e.Dec(*sw);
  for (size_t j = 0; j < h; ++j) {
    ASSERT_EQ(got[j], a[h + j]);
    ASSERT_EQ(got[h + j], a[j]);
  }
  EXPECT_FALSE(e.ev->RotateRows(ca, 2).ok());
  EXPECT_FALSE(e.ev->CanRotateRows(2));
  EXPECT_TRUE(e.ev->CanRotateRows(5));
  EXPECT_TRUE(e.ev->CanRotateColumns());
}

TEST(Bfv, NoiseBudgetEstimateIsConservativeAndExhaustionIsAnError) {
  auto& e = Env::Get();
  Rng rng(4);
  const Modulus t(e.t);
  auto a = e.Rand(rng);
  Ciphertext acc = e.Enc(a);
  std::vector<uint64_t> want = a;
  std::printf("\n| BFV N=8192, log2 q = %.1f, t = %llu | depth | measured budget (bits) | estimate (bits) |\n|---|---|---|---|\n",
              e.ctx->log2_q_at(e.ctx->max_level()), static_cast<unsigned long long>(e.t));
  int depth = 0;
  for (;;) {
    const double measured = e.Budget(acc);
    std::printf("| x^%d chain | %d | %.1f | %.1f |\n", depth + 1, depth, measured, acc.noise_budget_est_bits);
    EXPECT_LE(acc.noise_budget_est_bits, measured) << "estimate must never exceed the measured budget";
    EXPECT_EQ(e.Dec(acc), want) << "depth " << depth;
    auto x = e.Rand(rng);
    auto next = e.ev->MultiplyRelin(acc, e.Enc(x));
    if (!next.ok()) {
      EXPECT_TRUE(absl::IsOutOfRange(next.status()));
      EXPECT_NE(next.status().message().find("noise budget"), std::string::npos) << next.status();
      EXPECT_NE(next.status().message().find("bfv multiply"), std::string::npos);
      break;
    }
    for (size_t i = 0; i < want.size(); ++i) want[i] = t.Mul(want[i], x[i]);
    acc = *next;
    ++depth;
    ASSERT_LT(depth, 10);
  }
  EXPECT_GE(depth, 1);
}

TEST(Bfv, WrongKeyDetected) {
  auto& e = Env::Get();
  auto ct = e.Enc({1, 2, 3});
  KeyGenerator kg(e.ctx, Prng::FromSeed(Seed(9)));
  auto d2 = *Decryptor::Create(e.ctx, kg.GenerateSecretKey());
  auto r = d2.Decrypt(ct);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("key id"), std::string::npos);
  auto ckks = Context::Create(*CkksPreset(8192));
  EXPECT_FALSE(Decryptor::Create(*ckks, e.sk).ok());
}

}  // namespace
}  // namespace swarm::fhe
