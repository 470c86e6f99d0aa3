#include "consensus/client_table.h"

#include <gtest/gtest.h>

#include "consensus/authenticator.h"

namespace swarm::consensus {
namespace {

TEST(ClientTableTest, AtMostOnceAndCompactsContiguousRuns) {
  ClientTable t;
  EXPECT_TRUE(t.Insert(1, 2));
  EXPECT_FALSE(t.Insert(1, 2));
  EXPECT_TRUE(t.Insert(1, 1));
  EXPECT_TRUE(t.Contains(1, 1));
  EXPECT_TRUE(t.Contains(1, 2));
  EXPECT_FALSE(t.Contains(1, 3));
  EXPECT_FALSE(t.Contains(2, 1));
}

TEST(ClientTableTest, BoundedPerClient) {
  ClientTable t;
  // Every other sequence number: nothing is contiguous, the bound forgets the oldest.
  for (uint64_t s = 2; s <= 2 * (ClientTable::kAboveMax + 10); s += 2) t.Insert(7, s);
  EXPECT_TRUE(t.Contains(7, 1)) << "below the advanced low mark counts as applied";
  Bytes out;
  t.Encode(out);
  EXPECT_LT(out.size(), 8 * (ClientTable::kAboveMax + 16));
}

TEST(ClientTableTest, StateRoundTripAndErrors) {
  ClientTable t;
  t.Insert(1, 1);
  t.Insert(1, 5);
  t.Insert(9, 3);
  const Bytes app{1, 2, 3};
  const Bytes state = EncodeState(app, t);
  Bytes app2;
  ClientTable t2;
  ASSERT_TRUE(DecodeState(state, app2, t2).ok());
  EXPECT_EQ(app2, app);
  EXPECT_TRUE(t2.Contains(1, 5));
  EXPECT_TRUE(t2.Contains(9, 3));
  EXPECT_FALSE(t2.Contains(1, 4));
  for (size_t len = 0; len < state.size(); ++len) {
    Bytes a;
    ClientTable x;
    EXPECT_FALSE(DecodeState(ByteSpan(state.data(), len), a, x).ok()) << "prefix " << len;
  }
  Bytes longer = state;
  longer.push_back(0);
  Bytes a;
  ClientTable x;
  const Status s = DecodeState(longer, a, x);
  EXPECT_NE(std::string(s.message()).find("trailing"), std::string::npos) << s;
}

TEST(KeyedHashAuthenticatorTest, VerifiesOwnAndRejectsOthers) {
  const auto keys = KeyedHashAuthenticator::DeriveKeys(4, 3);
  KeyedHashAuthenticator a(ReplicaId(0), keys), b(ReplicaId(1), keys);
  const Bytes msg{1, 2, 3};
  const Bytes sig = a.Sign(msg);
  EXPECT_TRUE(b.Verify(ReplicaId(0), msg, sig));
  EXPECT_FALSE(b.Verify(ReplicaId(1), msg, sig));
  EXPECT_FALSE(b.Verify(ReplicaId(7), msg, sig));
  EXPECT_FALSE(b.Verify(ReplicaId(0), Bytes{1, 2, 4}, sig));
  EXPECT_FALSE(b.Verify(ReplicaId(0), msg, Bytes(sig.begin(), sig.end() - 1)));
  EXPECT_NE(KeyedHashAuthenticator::DeriveKeys(4, 4)[0], keys[0]);
}

}  // namespace
}  // namespace swarm::consensus
