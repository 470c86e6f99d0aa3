// Codec round-trip and every rejection reason of the membership decoder.
#include <gtest/gtest.h>

#include "membership/codec.h"
#include "swarm/v1/membership.pb.h"

namespace swarm::membership {
namespace {

Bytes Serialize(const v1::MembershipMessage& p) {
  Bytes out(p.ByteSizeLong());
  EXPECT_TRUE(p.SerializeToArray(out.data(), static_cast<int>(out.size())));
  return out;
}

v1::MembershipMessage ValidPb() {
  v1::MembershipMessage p;
  p.set_type(v1::MEMBERSHIP_MESSAGE_TYPE_GOSSIP);
  p.set_target("n1");
  auto* u = p.add_updates();
  u->set_state(v1::MEMBER_STATE_ALIVE);
  u->set_member("n2");
  u->set_origin("n2");
  u->set_incarnation(3);
  u->mutable_meta()->set_capacity(2.0f);
  return p;
}

TEST(Codec, RoundTripAllTypesAndFields) {
  PeerDirectory dir;
  for (auto n : {"n0", "n1", "peer-2.eu:7001"}) ASSERT_TRUE(dir.Intern(n).ok());
  for (int t = 0; t < kMessageTypeCount; ++t) {
    Message m;
    m.type = static_cast<MessageType>(t);
    m.seq = 77 + t;
    m.target = 1;
    m.join = t % 2 == 0;
    auto meta = std::make_shared<Metadata>();
    meta->capacity = 1.5f;
    meta->region = "eu-west";
    meta->roles = {"expert-host", "trainer"};
    meta->hosted_version = 42;
    meta->address = "127.0.0.1:7001";
    m.recipient = 2;
    m.updates.push_back(Update{MemberState::kAlive, 2, 9, 0, meta,
                               std::make_shared<const Bytes>(Bytes{1, 2, 3}), std::make_shared<const Bytes>(Bytes{9})});
    m.updates.push_back(Update{MemberState::kSuspect, 1, 4, 2, nullptr});
    m.updates.push_back(Update{MemberState::kDead, 0, 4294967295u, 1, nullptr});
    m.updates.push_back(Update{MemberState::kLeft, 2, 0, 2, nullptr});
    auto bytes = Encode(m, dir);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    PeerDirectory other;  // a different process: different indices, same names
    ASSERT_TRUE(other.Intern("zz").ok());
    std::string reason;
    auto back = Decode(*bytes, other, &reason);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->type, m.type);
    EXPECT_EQ(back->seq, m.seq);
    EXPECT_EQ(other.Name(back->target), "n1");
    EXPECT_EQ(back->join, m.join);
    EXPECT_EQ(other.Name(back->recipient), "peer-2.eu:7001");
    ASSERT_TRUE(back->updates[0].credential && back->updates[0].signature);
    EXPECT_EQ(*back->updates[0].credential, (Bytes{1, 2, 3}));
    EXPECT_EQ(*back->updates[0].signature, (Bytes{9}));
    ASSERT_EQ(back->updates.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(back->updates[i].state, m.updates[i].state);
      EXPECT_EQ(back->updates[i].incarnation, m.updates[i].incarnation);
      EXPECT_EQ(other.Name(back->updates[i].member), dir.Name(m.updates[i].member));
      EXPECT_EQ(other.Name(back->updates[i].origin), dir.Name(m.updates[i].origin));
    }
    ASSERT_NE(back->updates[0].meta, nullptr);
    EXPECT_EQ(*back->updates[0].meta, *meta);
  }
}

TEST(Codec, EncodeUnknownIdIsAnError) {
  PeerDirectory dir;
  Message m;
  m.target = 5;
  EXPECT_FALSE(Encode(m, dir).ok());
}

struct Case {
  const char* reason;
  std::function<void(v1::MembershipMessage&)> mutate;
};

TEST(Codec, EveryRejectionReason) {
  const std::vector<Case> cases = {
      {"bad_type", [](auto& p) { p.set_type(v1::MEMBERSHIP_MESSAGE_TYPE_UNSPECIFIED); }},
      {"bad_type", [](auto& p) { p.set_type(static_cast<v1::MembershipMessageType>(99)); }},
      {"bad_peer_id", [](auto& p) { p.set_target(""); }},
      {"bad_peer_id", [](auto& p) { p.set_target(std::string(200, 'a')); }},
      {"bad_peer_id", [](auto& p) { p.mutable_updates(0)->set_member("bad name"); }},
      {"bad_peer_id", [](auto& p) { p.mutable_updates(0)->set_origin(std::string("x\0y", 3)); }},
      {"bad_state", [](auto& p) { p.mutable_updates(0)->set_state(v1::MEMBER_STATE_UNSPECIFIED); }},
      {"bad_state", [](auto& p) { p.mutable_updates(0)->set_state(static_cast<v1::MemberState>(17)); }},
      {"bad_incarnation", [](auto& p) { p.mutable_updates(0)->set_incarnation(1ull << 32); }},
      {"missing_metadata", [](auto& p) { p.mutable_updates(0)->clear_meta(); }},
      {"bad_metadata", [](auto& p) { p.mutable_updates(0)->mutable_meta()->set_capacity(0); }},
      {"bad_metadata", [](auto& p) { p.mutable_updates(0)->mutable_meta()->set_capacity(-1); }},
      {"bad_metadata", [](auto& p) { p.mutable_updates(0)->mutable_meta()->set_capacity(NAN); }},
      {"bad_metadata", [](auto& p) { p.mutable_updates(0)->mutable_meta()->set_capacity(1e9f); }},
      {"bad_metadata", [](auto& p) { p.mutable_updates(0)->mutable_meta()->set_region(std::string(65, 'r')); }},
      {"bad_metadata", [](auto& p) { for (int i = 0; i < 17; ++i) p.mutable_updates(0)->mutable_meta()->add_roles("x"); }},
      {"bad_metadata", [](auto& p) { p.mutable_updates(0)->mutable_meta()->add_roles(""); }},
      {"bad_metadata", [](auto& p) { p.mutable_updates(0)->mutable_meta()->set_address(std::string(300, 'a')); }},
      {"too_many_updates", [](auto& p) { for (int i = 0; i < 4100; ++i) *p.add_updates() = p.updates(0); }},
  };
  for (const auto& c : cases) {
    auto p = ValidPb();
    c.mutate(p);
    PeerDirectory dir;
    std::string reason;
    auto r = Decode(Serialize(p), dir, &reason);
    ASSERT_FALSE(r.ok()) << c.reason;
    EXPECT_EQ(reason, c.reason) << r.status();
    EXPECT_EQ(dir.size(), 0u) << "nothing interned from a rejected message";
  }
}

TEST(Codec, OversizedMalformedAndDirectoryFull) {
  PeerDirectory dir;
  std::string reason;
  Bytes big(2 << 20, 0);
  auto r = Decode(big, dir, &reason);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(reason, "oversized");
  EXPECT_NE(r.status().message().find("message_bytes_max"), std::string::npos) << r.status();

  Bytes junk = {0xff, 0xff, 0xff, 0xff, 0x0f};
  r = Decode(junk, dir, &reason);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(reason, "malformed");

  PeerDirectory small(2);
  auto p = ValidPb();  // names n1, n2 -> fits
  EXPECT_TRUE(Decode(Serialize(p), small, &reason).ok());
  p.mutable_updates(0)->set_origin("n3");
  r = Decode(Serialize(p), small, &reason);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(reason, "directory_full");
  EXPECT_EQ(small.size(), 2u);
}

TEST(Codec, ErrorNamesFieldAndValue) {
  auto p = ValidPb();
  p.mutable_updates(0)->mutable_meta()->set_capacity(-3);
  PeerDirectory dir;
  std::string reason;
  auto r = Decode(Serialize(p), dir, &reason);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("updates[0].meta.capacity=-3"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace swarm::membership
