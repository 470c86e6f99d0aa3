// Hoisted rotations (keys.h DecomposeForKeySwitch / ApplyGaloisHoisted) must
// decrypt to the same rotated values as the ordinary key switch, at every level,
// for left and right rotations and conjugation.
#include <gtest/gtest.h>

#include <random>

#include "fhe/ckks.h"

namespace swarm::fhe {
namespace {

TEST(HoistedRotation, MatchesOrdinaryRotationAtEveryLevel) {
  auto ctx = *Context::Create(*CkksPreset(8192));
  std::array<uint8_t, 32> seed{};
  seed[0] = 31;
  KeyGenerator kg(ctx, Prng::FromSeed(seed));
  SecretKey sk = kg.GenerateSecretKey();
  auto rk = std::make_shared<RelinKey>(*kg.GenerateRelinKey(sk));
  const std::vector<int> steps = {1, 3, -2, 17};
  auto gk = std::make_shared<GaloisKeys>(*kg.GenerateGaloisKeys(sk, steps, /*conjugate=*/true));
  CkksEncoder enc(ctx);
  auto encr = *Encryptor::Create(ctx, *kg.GeneratePublicKey(sk));
  auto dec = *Decryptor::Create(ctx, sk);
  CkksEvaluator ev(ctx, rk, gk);
  std::mt19937 g(5);
  std::uniform_real_distribution<double> d(-1, 1);
  std::vector<double> v(enc.slot_count());
  for (auto& x : v) x = d(g);
  Ciphertext x = *encr.Encrypt(*enc.Encode(std::span<const double>(v)));
  for (size_t level = ctx->max_level() + 1; level-- > 0;) {
    Ciphertext at = *ev.ModSwitchTo(x, level);
    RnsPoly c1 = at.parts[1];
    FromNtt(*ctx, DataBasis(level), c1);
    HoistedDigits h = DecomposeForKeySwitch(*ctx, c1, at.parts[1], level);
    std::vector<uint32_t> elements;
    for (int s : steps) elements.push_back(GaloisElementForRotation(ctx->n(), s));
    elements.push_back(GaloisElementForConjugation(ctx->n()));
    for (uint32_t e : elements) {
      Ciphertext hoisted = ApplyGaloisHoisted(*ctx, at, h, e, gk->keys.at(e));
      Ciphertext plain = ApplyGaloisWith(*ctx, at, e, gk->keys.at(e));
      auto a = *enc.Decode(*dec.Decrypt(hoisted));
      auto b = *enc.Decode(*dec.Decrypt(plain));
      double max_diff = 0;
      for (size_t i = 0; i < a.size(); ++i) max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
      EXPECT_LT(max_diff, 1e-5) << "level " << level << " element " << e;
      EXPECT_EQ(hoisted.level, level);
    }
    // And against the plain values for a left rotation by 3.
    auto r3 = *enc.Decode(*dec.Decrypt(ApplyGaloisHoisted(*ctx, at, h, elements[1], gk->keys.at(elements[1]))));
    for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(r3[i], v[(i + 3) % v.size()], 1e-5) << "level " << level;
  }
}

}  // namespace
}  // namespace swarm::fhe
