// Unit tests of ML-KEM arithmetic and API contract (vectors: ml_kem_acvp_test.cpp).
#include "crypto/ml_kem.h"

#include <gtest/gtest.h>

#include "common/rng.h"
#include "crypto/hash.h"
#include "crypto/ml_kem_poly.h"

namespace swarm::crypto {
namespace {

using mlkem::kQ;
using mlkem::Poly;

constexpr MlKemParameterSet kAllSets[] = {MlKemParameterSet::k512, MlKemParameterSet::k768,
                                          MlKemParameterSet::k1024};

TEST(MlKemPoly, ReduceMatchesModulo) {
  Rng rng(7);
  for (uint32_t x = 0; x < 3 * kQ * kQ; x += 97) ASSERT_EQ(mlkem::Reduce(x), x % kQ) << x;
  for (int i = 0; i < 200000; ++i) {
    const uint32_t x = static_cast<uint32_t>(rng.Next());
    ASSERT_EQ(mlkem::Reduce(x), x % kQ) << x;
  }
  ASSERT_EQ(mlkem::Reduce(0xffffffffu), 0xffffffffu % kQ);
}

TEST(MlKemPoly, CompressMatchesExactRationalRoundingForAllInputs) {
  for (unsigned d = 1; d <= 11; ++d) {
    for (uint32_t x = 0; x < kQ; ++x) {
      // round(2^d x / q) mod 2^d with exact integer arithmetic.
      const uint64_t num = (uint64_t{x} << d) * 2 + kQ;
      const uint64_t expected = (num / (2 * kQ)) % (uint64_t{1} << d);
      ASSERT_EQ(mlkem::Compress(static_cast<uint16_t>(x), d), expected) << "d=" << d << " x=" << x;
    }
    for (uint32_t y = 0; y < (1u << d); ++y) {
      const uint64_t expected = (uint64_t{y} * kQ * 2 + (uint64_t{1} << d)) / (uint64_t{2} << d);
      ASSERT_EQ(mlkem::Decompress(static_cast<uint16_t>(y), d), expected) << "d=" << d;
    }
  }
}

Poly RandomPoly(Rng& rng) {
  Poly p;
  for (auto& c : p) c = static_cast<uint16_t>(rng.Uniform(kQ));
  return p;
}

TEST(MlKemPoly, NttProductEqualsNegacyclicSchoolbookProduct) {
  Rng rng(11);
  for (int trial = 0; trial < 5; ++trial) {
    const Poly f = RandomPoly(rng), g = RandomPoly(rng);
    std::array<int64_t, 256> ref{};
    for (size_t i = 0; i < 256; ++i) {
      for (size_t j = 0; j < 256; ++j) {
        const int64_t prod = int64_t{f[i]} * g[j];
        if (i + j < 256) ref[i + j] += prod;
        else ref[i + j - 256] -= prod;  // X^256 = -1
      }
    }
    Poly fh = f, gh = g;
    mlkem::Ntt(fh);
    mlkem::Ntt(gh);
    Poly h = mlkem::MulNtt(fh, gh);
    mlkem::InvNtt(h);
    for (size_t i = 0; i < 256; ++i) {
      const int64_t want = ((ref[i] % kQ) + kQ) % kQ;
      ASSERT_EQ(h[i], want) << "coefficient " << i;
    }
    Poly back = fh;
    mlkem::InvNtt(back);
    ASSERT_EQ(back, f);
  }
}

TEST(MlKemPoly, ByteEncodeDecodeRoundTrip) {
  Rng rng(3);
  for (unsigned d = 1; d <= 12; ++d) {
    Poly p;
    for (auto& c : p) c = static_cast<uint16_t>(rng.Uniform(d == 12 ? kQ : (1u << d)));
    Bytes enc(32 * d);
    mlkem::ByteEncode(p, d, enc);
    Poly q{};
    mlkem::ByteDecode(enc, d, q);
    ASSERT_EQ(p, q) << "d=" << d;
  }
}

TEST(MlKem, RoundTripAllParameterSets) {
  for (auto set : kAllSets) {
    const auto& p = MlKemParamsOf(set);
    for (int i = 0; i < 5; ++i) {
      auto kp = MlKemKeyGen(set);
      ASSERT_TRUE(kp.ok()) << kp.status();
      ASSERT_EQ(kp->encaps_key.size(), p.encaps_key_bytes);
      ASSERT_EQ(kp->decaps_key.size(), p.decaps_key_bytes);
      auto enc = MlKemEncaps(set, kp->encaps_key);
      ASSERT_TRUE(enc.ok()) << enc.status();
      ASSERT_EQ(enc->ciphertext.size(), p.ciphertext_bytes);
      auto k = MlKemDecaps(set, kp->decaps_key.span(), enc->ciphertext);
      ASSERT_TRUE(k.ok()) << k.status();
      ASSERT_EQ(Bytes(k->span().begin(), k->span().end()),
                Bytes(enc->shared_secret.span().begin(), enc->shared_secret.span().end()))
          << p.name;
    }
  }
}

TEST(MlKem, TamperedCiphertextGivesImplicitRejectionKey) {
  for (auto set : kAllSets) {
    const Bytes d(32, 1), z(32, 2), m(32, 3);
    auto kp = MlKemKeyGen(set, d, z);
    ASSERT_TRUE(kp.ok());
    auto enc = MlKemEncaps(set, kp->encaps_key, m);
    ASSERT_TRUE(enc.ok());
    Bytes c = enc->ciphertext;
    c[c.size() / 2] ^= 0x10;
    auto k = MlKemDecaps(set, kp->decaps_key.span(), c);
    ASSERT_TRUE(k.ok());
    // K_bar = J(z || c) = SHAKE256(z || c, 32)
    Bytes zc = z;
    zc.insert(zc.end(), c.begin(), c.end());
    EXPECT_EQ(Bytes(k->span().begin(), k->span().end()), Xof::Shake256(zc, 32));
    EXPECT_NE(Bytes(k->span().begin(), k->span().end()),
              Bytes(enc->shared_secret.span().begin(), enc->shared_secret.span().end()));
  }
}

TEST(MlKem, DeterministicKeyGenAndEncaps) {
  const Bytes d(32, 9), z(32, 8), m(32, 7);
  auto a = MlKemKeyGen(MlKemParameterSet::k768, d, z);
  auto b = MlKemKeyGen(MlKemParameterSet::k768, d, z);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->encaps_key, b->encaps_key);
  auto e1 = MlKemEncaps(MlKemParameterSet::k768, a->encaps_key, m);
  auto e2 = MlKemEncaps(MlKemParameterSet::k768, a->encaps_key, m);
  ASSERT_TRUE(e1.ok() && e2.ok());
  EXPECT_EQ(e1->ciphertext, e2->ciphertext);
}

TEST(MlKem, WrongLengthsAreClearErrors) {
  const auto set = MlKemParameterSet::k768;
  auto kp = MlKemKeyGen(set);
  ASSERT_TRUE(kp.ok());
  auto enc = MlKemEncaps(set, kp->encaps_key);
  ASSERT_TRUE(enc.ok());

  auto bad_seed = MlKemKeyGen(set, Bytes(31), Bytes(32));
  EXPECT_EQ(bad_seed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_seed.status().message().find("seed d must be 32 bytes, got 31"),
            std::string::npos)
      << bad_seed.status();

  Bytes short_ek(kp->encaps_key.begin(), kp->encaps_key.end() - 1);
  auto e = MlKemEncaps(set, short_ek);
  EXPECT_NE(e.status().message().find("ML-KEM-768 encapsulation key must be 1184 bytes, got 1183"),
            std::string::npos)
      << e.status();
  EXPECT_FALSE(MlKemEncaps(set, kp->encaps_key, Bytes(33)).ok());

  Bytes long_c = enc->ciphertext;
  long_c.push_back(0);
  auto k = MlKemDecaps(set, kp->decaps_key.span(), long_c);
  EXPECT_NE(k.status().message().find("ciphertext must be 1088 bytes, got 1089"),
            std::string::npos)
      << k.status();
  auto k2 = MlKemDecaps(set, ByteSpan(kp->decaps_key.span()).first(100), enc->ciphertext);
  EXPECT_NE(k2.status().message().find("decapsulation key must be 2400 bytes, got 100"),
            std::string::npos)
      << k2.status();
  // An empty span must not be read.
  EXPECT_FALSE(MlKemDecaps(set, ByteSpan(), ByteSpan()).ok());
}

TEST(MlKem, InputChecksOfSection7) {
  for (auto set : kAllSets) {
    auto kp = MlKemKeyGen(set);
    ASSERT_TRUE(kp.ok());
    EXPECT_TRUE(MlKemCheckEncapsKey(set, kp->encaps_key).ok());
    EXPECT_TRUE(MlKemCheckDecapsKey(set, kp->decaps_key.span()).ok());
    // Coefficient 0 := 0xfff (>= q): modulus check fails, Encaps refuses.
    Bytes ek = kp->encaps_key;
    ek[0] = 0xff;
    ek[1] |= 0x0f;
    auto st = MlKemCheckEncapsKey(set, ek);
    EXPECT_NE(st.message().find("modulus check"), std::string::npos) << st;
    EXPECT_FALSE(MlKemEncaps(set, ek).ok());
    // Flip a bit of the stored H(ek): hash check fails, Decaps refuses.
    Bytes dk(kp->decaps_key.span().begin(), kp->decaps_key.span().end());
    const auto& p = MlKemParamsOf(set);
    dk[384 * p.k + p.encaps_key_bytes] ^= 1;
    auto st2 = MlKemCheckDecapsKey(set, dk);
    EXPECT_NE(st2.message().find("hash check"), std::string::npos) << st2;
    auto enc = MlKemEncaps(set, kp->encaps_key);
    ASSERT_TRUE(enc.ok());
    EXPECT_FALSE(MlKemDecaps(set, dk, enc->ciphertext).ok());
  }
}

TEST(MlKem, ParameterSetNames) {
  EXPECT_EQ(*ParseMlKemParameterSet("ML-KEM-1024"), MlKemParameterSet::k1024);
  EXPECT_EQ(*ParseMlKemParameterSet("ml-kem-512"), MlKemParameterSet::k512);
  auto bad = ParseMlKemParameterSet("ML-KEM-2048");
  EXPECT_NE(bad.status().message().find("ML-KEM-2048"), std::string::npos);
}

}  // namespace
}  // namespace swarm::crypto
