// Byte-exact known-answer tests for KeyGen and *deterministic* signing, from
// C2SP/CCTV "accumulated" ML-DSA vectors (ML-DSA/accumulated/README.md): seeds
// are read from one SHAKE128 stream; pk and the deterministic signature of the
// empty message with the empty context are written to another SHAKE128, whose
// first 32 output bytes must equal the published digest (100 iterations).
// This complements the NIST ACVP files, which ship no sigGen vectors.
#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "crypto/ml_dsa.h"

namespace swarm::crypto {
namespace {

std::string Accumulate(MlDsaLevel level, int iterations) {
  Xof seeds(Xof::Kind::kShake128);
  Xof acc(Xof::Kind::kShake128);
  for (int i = 0; i < iterations; ++i) {
    Bytes seed(32);
    seeds.Squeeze(seed);
    auto kp = MlDsaKeyGenFromSeed(level, seed);
    EXPECT_TRUE(kp.ok());
    if (!kp.ok()) return "";
    acc.Absorb(kp->public_key);
    auto sig = MlDsaSign(level, kp->secret_key, ByteSpan{}, ByteSpan{},
                         MlDsaSigning::kDeterministic);
    EXPECT_TRUE(sig.ok());
    if (!sig.ok()) return "";
    acc.Absorb(*sig);
    EXPECT_TRUE(*MlDsaVerify(level, kp->public_key, ByteSpan{}, *sig)) << "iteration " << i;
  }
  Bytes out(32);
  acc.Squeeze(out);
  return ToHex(out);
}

TEST(MlDsaAccumulated, MlDsa44Hundred) {
  EXPECT_EQ(Accumulate(MlDsaLevel::k44, 100),
            "d51148e1f9f4fa1a723a6cf42e25f2a99eb5c1b378b3d2dbbd561b1203beeae4");
}
TEST(MlDsaAccumulated, MlDsa65Hundred) {
  EXPECT_EQ(Accumulate(MlDsaLevel::k65, 100),
            "8358a1843220194417cadbc2651295cd8fc65125b5a5c1a239a16dc8b57ca199");
}
TEST(MlDsaAccumulated, MlDsa87Hundred) {
  EXPECT_EQ(Accumulate(MlDsaLevel::k87, 100),
            "8c3ad714777622b8f21ce31bb35f71394f23bc0fcf3c78ace5d608990f3b061b");
}

}  // namespace
}  // namespace swarm::crypto
