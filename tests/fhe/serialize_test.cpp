#include "fhe/serialize.h"

#include <gtest/gtest.h>

#include "fhe/bfv.h"
#include "fhe/ckks.h"

namespace swarm::fhe {
namespace {

std::array<uint8_t, 32> Seed(uint8_t x) {
  std::array<uint8_t, 32> s{};
  s[0] = x;
  s[2] = 0x5e;
  return s;
}

struct Fixture {
  ContextPtr ctx;
  SecretKey sk;
  PublicKey pk;
  RelinKey rk;
  GaloisKeys gk;
  Ciphertext ct;
  Plaintext pt;
};

Fixture Make(ParamSpec spec) {
  Fixture f;
  f.ctx = *Context::Create(spec);
  KeyGenerator kg(f.ctx, Prng::FromSeed(Seed(1)));
  f.sk = kg.GenerateSecretKey();
  f.pk = *kg.GeneratePublicKey(f.sk);
  f.rk = *kg.GenerateRelinKey(f.sk);
  f.gk = *kg.GenerateGaloisKeys(f.sk, {1, 2}, true);
  if (spec.scheme == Scheme::kCkks) {
    f.pt = *CkksEncoder(f.ctx).Encode(std::vector<double>{1.5, -2.25, 3.0});
  } else {
    f.pt = *BfvEncoder(f.ctx).Encode(std::vector<uint64_t>{7, 8, 9});
  }
  f.ct = *Encryptor::Create(f.ctx, f.pk)->Encrypt(f.pt);
  return f;
}

TEST(Serialize, RoundTripsEveryObjectBothSchemes) {
  for (auto spec : {*CkksPreset(4096), *BfvPreset(4096)}) {
    Fixture f = Make(spec);
    const Context& c = *f.ctx;
    auto params = DeserializeParams(SerializeParams(c));
    ASSERT_TRUE(params.ok()) << params.status();
    EXPECT_EQ((*params)->hash(), c.hash());
    auto ct = DeserializeCiphertext(c, Serialize(c, f.ct));
    ASSERT_TRUE(ct.ok()) << ct.status();
    EXPECT_EQ(Serialize(c, *ct), Serialize(c, f.ct));
    auto pt = DeserializePlaintext(c, Serialize(c, f.pt));
    ASSERT_TRUE(pt.ok()) << pt.status();
    EXPECT_EQ(pt->poly, f.pt.poly);
    auto sk = DeserializeSecretKey(c, Serialize(c, f.sk));
    ASSERT_TRUE(sk.ok()) << sk.status();
    EXPECT_EQ(sk->s, f.sk.s);
    EXPECT_EQ(sk->id, f.sk.id);
    auto pk = DeserializePublicKey(c, Serialize(c, f.pk));
    ASSERT_TRUE(pk.ok()) << pk.status();
    EXPECT_EQ(pk->b, f.pk.b);
    auto rk = DeserializeRelinKey(c, Serialize(c, f.rk));
    ASSERT_TRUE(rk.ok()) << rk.status();
    EXPECT_EQ(Serialize(c, *rk), Serialize(c, f.rk));
    auto gk = DeserializeGaloisKeys(c, Serialize(c, f.gk));
    ASSERT_TRUE(gk.ok()) << gk.status();
    EXPECT_EQ(Serialize(c, *gk), Serialize(c, f.gk));
    // A loaded key decrypts a loaded ciphertext under loaded parameters.
    auto dec = Decryptor::Create(*params, *DeserializeSecretKey(**params, Serialize(c, f.sk)));
    ASSERT_TRUE(dec.ok());
    auto back = dec->Decrypt(*DeserializeCiphertext(**params, Serialize(c, f.ct)));
    ASSERT_TRUE(back.ok()) << back.status();
    if (spec.scheme == Scheme::kBfv) {
      EXPECT_EQ((*BfvEncoder(*params).Decode(*back))[1], 8u);
    } else {
      EXPECT_NEAR((*CkksEncoder(*params).Decode(*back))[1], -2.25, 1e-4);
    }
  }
}

TEST(Serialize, RejectsCorruptionWithClearErrors) {
  Fixture f = Make(*CkksPreset(4096));
  const Context& c = *f.ctx;
  const Bytes good = Serialize(c, f.ct);
  auto expect_error = [&](Bytes b, const std::string& needle) {
    auto r = DeserializeCiphertext(c, b);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status();
  };
  expect_error(Bytes(good.begin(), good.begin() + 10), "shorter than");
  expect_error(Bytes(good.begin(), good.end() - 1), "declares");
  Bytes b = good;
  b[0] = 'X';
  expect_error(b, "magic");
  b = good;
  b[4] = 9;
  expect_error(b, "version 9");
  b = good;
  b[6] = static_cast<uint8_t>(BlobKind::kPlaintext);
  expect_error(b, "holds a plaintext");
  b = good;
  b[20] ^= 1;
  expect_error(b, "parameter hash");
  // Coefficient out of range: set the first coefficient of part 0 to 2^64 - 1.
  b = good;
  const size_t coeff0 = kHeaderBytes + 1 + 4 + 8 + 8 + 16 + 8;
  for (int i = 0; i < 8; ++i) b[coeff0 + i] = 0xff;
  expect_error(b, "not below its modulus");
  // Part count and level out of range.
  b = good;
  b[kHeaderBytes] = 4;
  expect_error(b, "part count 4");
  b = good;
  b[kHeaderBytes + 1] = 7;
  expect_error(b, "level 7");
  // Trailing bytes (header length patched to match).
  b = good;
  b.push_back(0);
  const uint64_t body = b.size() - kHeaderBytes;
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(body >> (8 * i));
  expect_error(b, "trailing");
}

TEST(Serialize, MismatchedParametersAreRefused) {
  Fixture a = Make(*CkksPreset(4096));
  auto other = *Context::Create(*BfvPreset(4096));
  auto r = DeserializeCiphertext(*other, Serialize(*a.ctx, a.ct));
  ASSERT_FALSE(r.ok());
  auto spec = *CkksPreset(4096);
  spec.scale = std::ldexp(1.0, 28);  // same primes, different scale: different hash
  auto ctx2 = *Context::Create(spec);
  auto r2 = DeserializeCiphertext(*ctx2, Serialize(*a.ctx, a.ct));
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("parameter hash"), std::string::npos);
  auto rk = DeserializeRelinKey(*ctx2, Serialize(*a.ctx, a.rk));
  EXPECT_FALSE(rk.ok());
  Bytes p = SerializeParams(*a.ctx);
  p[kHeaderBytes + 9] ^= 1;  // flip a bit in the stored fields
  auto pr = DeserializeParams(p);
  ASSERT_FALSE(pr.ok());
}

TEST(Serialize, LargeRingRoundTrip) {
  // N = 32768: one small round trip (a public-key encryption of a few values).
  auto ctx = *Context::Create(*BfvPreset(32768));
  KeyGenerator kg(ctx, Prng::FromSeed(Seed(3)));
  SecretKey sk = kg.GenerateSecretKey();
  auto enc = *Encryptor::Create(ctx, sk);
  BfvEncoder be(ctx);
  auto ct = *enc.Encrypt(*be.Encode(std::vector<uint64_t>{11, 22, 33}));
  auto back = DeserializeCiphertext(*ctx, Serialize(*ctx, ct));
  ASSERT_TRUE(back.ok()) << back.status();
  auto v = *be.Decode(*Decryptor::Create(ctx, sk)->Decrypt(*back));
  EXPECT_EQ(v[0], 11u);
  EXPECT_EQ(v[2], 33u);
}

}  // namespace
}  // namespace swarm::fhe
