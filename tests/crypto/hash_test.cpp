#include "crypto/hash.h"

#include <gtest/gtest.h>

namespace swarm::crypto {
namespace {

TEST(Hash, Sha3_256OfEmptyMatchesFips202) {
  EXPECT_EQ(ToHex(Sha3_256(ByteSpan{})),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
}

TEST(Hash, Shake128StreamingEqualsOneShot) {
  const Bytes msg = {1, 2, 3, 4, 5};
  const Bytes whole = Xof::Shake128(msg, 5000);
  Xof x(Xof::Kind::kShake128);
  x.Absorb(msg);
  Bytes pieces;
  for (size_t n : {1u, 167u, 168u, 1000u, 3664u}) {
    Bytes part(n);
    x.Squeeze(part);
    pieces.insert(pieces.end(), part.begin(), part.end());
  }
  EXPECT_EQ(pieces, whole);
}

TEST(Hash, Shake256OfEmptyMatchesFips202) {
  EXPECT_EQ(ToHex(Xof::Shake256(ByteSpan{}, 32)),
            "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f");
}

}  // namespace
}  // namespace swarm::crypto
