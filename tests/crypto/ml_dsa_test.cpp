// ML-DSA round trips for every parameter set and interface, tampering, and
// clear errors for wrong-length inputs.
#include "crypto/ml_dsa.h"

#include <gtest/gtest.h>

namespace swarm::crypto {
namespace {

constexpr MlDsaLevel kLevels[] = {MlDsaLevel::k44, MlDsaLevel::k65, MlDsaLevel::k87};
constexpr MlDsaHash kAllHashes[] = {
    MlDsaHash::kSha2_224, MlDsaHash::kSha2_256, MlDsaHash::kSha2_384, MlDsaHash::kSha2_512,
    MlDsaHash::kSha2_512_224, MlDsaHash::kSha2_512_256, MlDsaHash::kSha3_224,
    MlDsaHash::kSha3_256, MlDsaHash::kSha3_384, MlDsaHash::kSha3_512, MlDsaHash::kShake128,
    MlDsaHash::kShake256};

class MlDsaLevelTest : public ::testing::TestWithParam<MlDsaLevel> {
 protected:
  void SetUp() override {
    auto kp = MlDsaKeyGen(GetParam());
    ASSERT_TRUE(kp.ok()) << kp.status();
    kp_ = *kp;
  }
  MlDsaLevel L() const { return GetParam(); }
  MlDsaKeyPair kp_;
  const Bytes msg_ = {'h', 'e', 'l', 'l', 'o', ' ', 's', 'w', 'a', 'r', 'm'};
  const Bytes ctx_ = {'c', 't', 'x'};
};

TEST_P(MlDsaLevelTest, SizesMatchTheNamedConstants) {
  EXPECT_EQ(kp_.public_key.size(), MlDsaSizesOf(L()).public_key);
  EXPECT_EQ(kp_.secret_key.size(), MlDsaSizesOf(L()).secret_key);
  auto sig = MlDsaSign(L(), kp_.secret_key, msg_);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), MlDsaSizesOf(L()).signature);
}

TEST_P(MlDsaLevelTest, PureRoundTripHedgedAndDeterministic) {
  for (auto mode : {MlDsaSigning::kHedged, MlDsaSigning::kDeterministic}) {
    for (const Bytes& ctx : {Bytes{}, ctx_, Bytes(255, 0x7f)}) {
      auto sig = MlDsaSign(L(), kp_.secret_key, msg_, ctx, mode);
      ASSERT_TRUE(sig.ok()) << sig.status();
      EXPECT_TRUE(*MlDsaVerify(L(), kp_.public_key, msg_, *sig, ctx));
      Bytes other_ctx = ctx;
      if (other_ctx.empty()) other_ctx.push_back(0); else other_ctx[0] ^= 1;
      EXPECT_FALSE(*MlDsaVerify(L(), kp_.public_key, msg_, *sig, other_ctx));
    }
  }
}

TEST_P(MlDsaLevelTest, DeterministicRepeatsAndHedgedDiffers) {
  auto d1 = MlDsaSign(L(), kp_.secret_key, msg_, ctx_, MlDsaSigning::kDeterministic);
  auto d2 = MlDsaSign(L(), kp_.secret_key, msg_, ctx_, MlDsaSigning::kDeterministic);
  auto h1 = MlDsaSign(L(), kp_.secret_key, msg_, ctx_, MlDsaSigning::kHedged);
  auto h2 = MlDsaSign(L(), kp_.secret_key, msg_, ctx_, MlDsaSigning::kHedged);
  ASSERT_TRUE(d1.ok() && d2.ok() && h1.ok() && h2.ok());
  EXPECT_EQ(*d1, *d2);
  EXPECT_NE(*h1, *h2);
  // Deterministic = Sign_internal with rnd = 0^32 on M' = 0 || |ctx| || ctx || msg.
  auto m_prime = MlDsaFormatMessage(msg_, ctx_);
  ASSERT_TRUE(m_prime.ok());
  auto internal = MlDsaSignInternal(L(), kp_.secret_key, *m_prime, Bytes(32, 0));
  ASSERT_TRUE(internal.ok());
  EXPECT_EQ(*internal, *d1);
}

TEST_P(MlDsaLevelTest, PreHashRoundTripForEveryHash) {
  for (MlDsaHash h : kAllHashes) {
    auto sig = MlDsaSignPreHash(L(), kp_.secret_key, msg_, ctx_, h);
    ASSERT_TRUE(sig.ok()) << sig.status();
    EXPECT_TRUE(*MlDsaVerifyPreHash(L(), kp_.public_key, msg_, *sig, ctx_, h))
        << MlDsaHashName(h);
    // Domain separation: not valid as a pure signature, nor under another hash.
    EXPECT_FALSE(*MlDsaVerify(L(), kp_.public_key, msg_, *sig, ctx_));
    const MlDsaHash other = h == MlDsaHash::kSha2_256 ? MlDsaHash::kSha2_512 : MlDsaHash::kSha2_256;
    EXPECT_FALSE(*MlDsaVerifyPreHash(L(), kp_.public_key, msg_, *sig, ctx_, other));
  }
}

TEST_P(MlDsaLevelTest, InternalAndExternalMuInterfacesAgree) {
  const Bytes m_prime = {1, 2, 3, 4, 5};
  const Bytes rnd(32, 9);
  auto sig = MlDsaSignInternal(L(), kp_.secret_key, m_prime, rnd);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(*MlDsaVerifyInternal(L(), kp_.public_key, m_prime, *sig));
  auto mu = MlDsaComputeMu(L(), kp_.public_key, m_prime);
  ASSERT_TRUE(mu.ok());
  EXPECT_TRUE(*MlDsaVerifyMu(L(), kp_.public_key, *mu, *sig));
  auto sig_mu = MlDsaSignMu(L(), kp_.secret_key, *mu, rnd);
  ASSERT_TRUE(sig_mu.ok());
  EXPECT_EQ(*sig_mu, *sig);  // same mu and rnd give the same signature
  // A pure signature is an internal signature over the formatted M'.
  auto pure = MlDsaSign(L(), kp_.secret_key, msg_, ctx_);
  ASSERT_TRUE(pure.ok());
  EXPECT_TRUE(*MlDsaVerifyInternal(L(), kp_.public_key, *MlDsaFormatMessage(msg_, ctx_), *pure));
}

TEST_P(MlDsaLevelTest, TamperedMessageSignatureOrKeyIsRejected) {
  auto sig = MlDsaSign(L(), kp_.secret_key, msg_, ctx_);
  ASSERT_TRUE(sig.ok());
  Bytes m = msg_;
  m[0] ^= 1;
  EXPECT_FALSE(*MlDsaVerify(L(), kp_.public_key, m, *sig, ctx_));
  // Flip one bit in each region: c~ (start), z (middle), hint (end).
  const size_t n = sig->size();
  for (size_t pos : {size_t{0}, size_t{40}, n / 2, n - 30, n - 1}) {
    Bytes s = *sig;
    s[pos] ^= 0x01;
    auto ok = MlDsaVerify(L(), kp_.public_key, msg_, s, ctx_);
    ASSERT_TRUE(ok.ok());
    EXPECT_FALSE(*ok) << "flipped byte " << pos;
  }
  Bytes pk = kp_.public_key;
  pk[100] ^= 0x10;
  EXPECT_FALSE(*MlDsaVerify(L(), pk, msg_, *sig, ctx_));
  auto other = MlDsaKeyGen(L());
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*MlDsaVerify(L(), other->public_key, msg_, *sig, ctx_));
}

TEST_P(MlDsaLevelTest, VerifyingKeyAgreesWithVerify) {
  auto vk = MlDsaVerifyingKey::Create(L(), kp_.public_key);
  ASSERT_TRUE(vk.ok()) << vk.status();
  EXPECT_EQ(vk->public_key(), kp_.public_key);
  EXPECT_EQ(vk->level(), L());
  auto sig = MlDsaSign(L(), kp_.secret_key, msg_, ctx_);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(*vk->Verify(msg_, *sig, ctx_));
  EXPECT_FALSE(*vk->Verify(msg_, *sig));
  Bytes bad = *sig;
  bad[bad.size() / 3] ^= 4;
  EXPECT_FALSE(*vk->Verify(msg_, bad, ctx_));
  EXPECT_FALSE(vk->Verify(msg_, ByteSpan(*sig).first(10), ctx_).ok());
  EXPECT_FALSE(vk->Verify(msg_, *sig, Bytes(256, 0)).ok());
  auto copy = *vk;  // copies share the expansion
  EXPECT_TRUE(*copy.Verify(msg_, *sig, ctx_));
  EXPECT_FALSE(MlDsaVerifyingKey::Create(L(), ByteSpan(kp_.public_key).first(5)).ok());
}

TEST_P(MlDsaLevelTest, SigningKeyGivesTheSameSignatures) {
  auto sk = MlDsaSigningKey::Create(L(), kp_.secret_key);
  ASSERT_TRUE(sk.ok()) << sk.status();
  EXPECT_EQ(sk->level(), L());
  auto a = sk->Sign(msg_, ctx_, MlDsaSigning::kDeterministic);
  auto b = MlDsaSign(L(), kp_.secret_key, msg_, ctx_, MlDsaSigning::kDeterministic);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  const Bytes mu(64, 3), rnd(32, 4);
  EXPECT_EQ(*sk->SignMu(mu, rnd), *MlDsaSignMu(L(), kp_.secret_key, mu, rnd));
  auto hedged = sk->Sign(msg_);
  ASSERT_TRUE(hedged.ok());
  EXPECT_TRUE(*MlDsaVerify(L(), kp_.public_key, msg_, *hedged));
  EXPECT_FALSE(sk->Sign(msg_, Bytes(256, 0)).ok());
  EXPECT_FALSE(sk->SignMu(Bytes(63, 0), rnd).ok());
  EXPECT_FALSE(MlDsaSigningKey::Create(L(), ByteSpan(kp_.secret_key).first(100)).ok());
}

TEST_P(MlDsaLevelTest, WrongLengthsAreClearErrors) {
  auto sig = MlDsaSign(L(), kp_.secret_key, msg_);
  ASSERT_TRUE(sig.ok());
  Bytes short_sig(sig->begin(), sig->end() - 1);
  auto r = MlDsaVerify(L(), kp_.public_key, msg_, short_sig);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("signature must be"), std::string::npos) << r.status();
  Bytes long_pk = kp_.public_key;
  long_pk.push_back(0);
  r = MlDsaVerify(L(), long_pk, msg_, *sig);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("public key"), std::string::npos) << r.status();
  auto s = MlDsaSign(L(), ByteSpan(kp_.secret_key).first(10), msg_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("secret key"), std::string::npos) << s.status();
  s = MlDsaSign(L(), kp_.secret_key, msg_, Bytes(256, 0));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("context"), std::string::npos) << s.status();
  EXPECT_FALSE(MlDsaVerify(L(), kp_.public_key, msg_, *sig, Bytes(256, 0)).ok());
  EXPECT_FALSE(MlDsaSignInternal(L(), kp_.secret_key, msg_, Bytes(31, 0)).ok());
  EXPECT_FALSE(MlDsaSignMu(L(), kp_.secret_key, Bytes(63, 0), Bytes(32, 0)).ok());
  EXPECT_FALSE(MlDsaVerifyMu(L(), kp_.public_key, Bytes(65, 0), *sig).ok());
  EXPECT_FALSE(MlDsaKeyGenFromSeed(L(), Bytes(33, 0)).ok());
}

INSTANTIATE_TEST_SUITE_P(AllLevels, MlDsaLevelTest, ::testing::ValuesIn(kLevels),
                         [](const auto& info) { return "ML_DSA_" + std::to_string(int(info.param)); });

TEST(MlDsa, KeyGenFromSeedIsDeterministicAndSeedSensitive) {
  const Bytes a(32, 1), b(32, 2);
  auto k1 = MlDsaKeyGenFromSeed(MlDsaLevel::k65, a);
  auto k2 = MlDsaKeyGenFromSeed(MlDsaLevel::k65, a);
  auto k3 = MlDsaKeyGenFromSeed(MlDsaLevel::k65, b);
  ASSERT_TRUE(k1.ok() && k2.ok() && k3.ok());
  EXPECT_EQ(k1->public_key, k2->public_key);
  EXPECT_EQ(k1->secret_key, k2->secret_key);
  EXPECT_NE(k1->public_key, k3->public_key);
}

TEST(MlDsa, SignatureOfOneLevelIsRejectedByAnotherWithAnError) {
  auto k44 = MlDsaKeyGen(MlDsaLevel::k44);
  ASSERT_TRUE(k44.ok());
  auto sig = MlDsaSign(MlDsaLevel::k44, k44->secret_key, Bytes{1});
  ASSERT_TRUE(sig.ok());
  EXPECT_FALSE(MlDsaVerify(MlDsaLevel::k65, k44->public_key, Bytes{1}, *sig).ok());
}

TEST(MlDsa, CorruptSecretKeyStillSignsOrFailsCleanly) {
  // A secret key of the right length but random content must not crash or hang.
  Bytes sk(kMlDsa65SecretKeyBytes);
  for (size_t i = 0; i < sk.size(); ++i) sk[i] = static_cast<uint8_t>(i * 131 + 7);
  auto sig = MlDsaSign(MlDsaLevel::k65, sk, Bytes{1, 2, 3});
  if (!sig.ok()) EXPECT_EQ(sig.status().code(), absl::StatusCode::kInternal);
}

TEST(MlDsa, NamesParse) {
  EXPECT_EQ(*MlDsaLevelFromName("ml-dsa-87"), MlDsaLevel::k87);
  EXPECT_EQ(MlDsaName(MlDsaLevel::k44), "ML-DSA-44");
  EXPECT_FALSE(MlDsaLevelFromName("ML-DSA-66").ok());
  for (MlDsaHash h : kAllHashes) EXPECT_EQ(*MlDsaHashFromName(MlDsaHashName(h)), h);
  EXPECT_FALSE(MlDsaHashFromName("SHA1").ok());
}

}  // namespace
}  // namespace swarm::crypto
