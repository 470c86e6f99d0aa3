// Signed request headers and signed replies (net/call_auth.h).
#include "net/call_auth.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"

namespace swarm::net {
namespace {

const crypto::Identity& Alice() {
  static auto* id = new crypto::Identity(*crypto::Identity::Generate());
  return *id;
}
const crypto::Identity& Bob() {
  static auto* id = new crypto::Identity(*crypto::Identity::Generate());
  return *id;
}

RequestAuth Signed() {
  RequestAuth a;
  a.method = "/swarm.v1.ExpertService/Backward";
  a.body_sha3 = crypto::Sha3_256(AsBytes("request"));
  a.unix_ms = 1'700'000'000'000ull;
  for (size_t i = 0; i < a.nonce.size(); ++i) a.nonce[i] = static_cast<uint8_t>(i);
  a.grant_sha3 = crypto::Sha3_256(AsBytes("grant"));
  EXPECT_TRUE(SignRequestAuth(Alice(), a).ok());
  return a;
}

TEST(CallAuth, SignedHeaderRoundTripsAndVerifies) {
  RequestAuth a = Signed();
  auto d = DecodeRequestAuth(EncodeRequestAuth(a));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->method, a.method);
  EXPECT_EQ(d->body_sha3, a.body_sha3);
  EXPECT_EQ(d->unix_ms, a.unix_ms);
  EXPECT_EQ(d->nonce, a.nonce);
  EXPECT_FALSE(d->tls_cert_sha256.has_value());
  EXPECT_TRUE(VerifyRequestAuthSignature(*d).ok());
  EXPECT_EQ(PeerIdOfRequest(*d), Alice().peer_id());
}

TEST(CallAuth, CertificateHashIsCoveredBySignature) {
  RequestAuth a;
  a.method = "/swarm.v1.Node/Ping";
  a.tls_cert_sha256 = crypto::Sha3_256(AsBytes("cert"));
  ASSERT_TRUE(SignRequestAuth(Alice(), a).ok());
  auto d = DecodeRequestAuth(EncodeRequestAuth(a));
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->tls_cert_sha256.has_value());
  EXPECT_TRUE(VerifyRequestAuthSignature(*d).ok());
  (*d->tls_cert_sha256)[0] ^= 1;
  EXPECT_TRUE(absl::IsUnauthenticated(VerifyRequestAuthSignature(*d)));
}

TEST(CallAuth, EveryTamperedFieldFailsVerification) {
  const RequestAuth good = Signed();
  std::vector<std::function<void(RequestAuth&)>> tamper = {
      [](RequestAuth& a) { a.method = "/swarm.v1.ExpertService/Forward"; },
      [](RequestAuth& a) { a.body_sha3[3] ^= 1; },
      [](RequestAuth& a) { a.unix_ms += 1; },
      [](RequestAuth& a) { a.nonce[0] ^= 1; },
      [](RequestAuth& a) { a.grant_sha3[31] ^= 1; },
      [](RequestAuth& a) { a.signature[10] ^= 1; },
      [](RequestAuth& a) { a.public_key = Bob().public_key(); },  // claims to be Bob
  };
  for (size_t i = 0; i < tamper.size(); ++i) {
    RequestAuth a = good;
    tamper[i](a);
    Status s = VerifyRequestAuthSignature(a);
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << "tamper " << i << ": " << s;
    EXPECT_NE(std::string(s.message()).find("unauthenticated"), std::string::npos);
  }
}

TEST(CallAuth, DecoderNamesTheField) {
  const Bytes wire = EncodeRequestAuth(Signed());
  // Truncated anywhere: an error naming a field, never a crash.
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{100}, wire.size() - 1}) {
    auto d = DecodeRequestAuth(ByteSpan(wire).first(n));
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_NE(std::string(d.status().message()).find("field"), std::string::npos) << d.status();
  }
  Bytes trailing = wire;
  trailing.push_back(0);
  EXPECT_NE(std::string(DecodeRequestAuth(trailing).status().message()).find("trailing"), std::string::npos);
  Bytes version = wire;
  version[0] = 7;
  EXPECT_NE(std::string(DecodeRequestAuth(version).status().message()).find("'version' is 7"), std::string::npos);
  Bytes scheme = wire;
  scheme[1] = 99;
  EXPECT_NE(std::string(DecodeRequestAuth(scheme).status().message()).find("'scheme' has unknown value 99"),
            std::string::npos);
  EXPECT_FALSE(DecodeRequestAuth(Bytes(kAuthHeaderBytesMax + 1, 0)).ok());
}

TEST(CallAuth, ReplySignatureBindsNonceMethodAndBodyAndPeer) {
  Nonce nonce{};
  nonce[5] = 9;
  const Digest32 h = crypto::Sha3_256(AsBytes("reply"));
  auto r = SignReply(Bob(), nonce, "/swarm.v1.ExpertService/Forward", h);
  ASSERT_TRUE(r.ok());
  auto d = DecodeReplyAuth(EncodeReplyAuth(*r));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(VerifyReplyAuth(*d, nonce, "/swarm.v1.ExpertService/Forward", h, Bob().peer_id()).ok());
  EXPECT_TRUE(VerifyReplyAuth(*d, nonce, "/swarm.v1.ExpertService/Forward", h, std::nullopt).ok());
  // The peer we meant to reach is not the one that signed.
  Status wrong_peer = VerifyReplyAuth(*d, nonce, "/swarm.v1.ExpertService/Forward", h, Alice().peer_id());
  EXPECT_TRUE(absl::IsUnauthenticated(wrong_peer));
  EXPECT_NE(std::string(wrong_peer.message()).find("expected peer " + ShortPeerId(Alice().peer_id())),
            std::string::npos)
      << wrong_peer;
  Nonce other = nonce;
  other[0] ^= 1;
  EXPECT_FALSE(VerifyReplyAuth(*d, other, "/swarm.v1.ExpertService/Forward", h, Bob().peer_id()).ok());
  EXPECT_FALSE(VerifyReplyAuth(*d, nonce, "/swarm.v1.ExpertService/Backward", h, Bob().peer_id()).ok());
  Digest32 h2 = h;
  h2[0] ^= 1;
  EXPECT_FALSE(VerifyReplyAuth(*d, nonce, "/swarm.v1.ExpertService/Forward", h2, Bob().peer_id()).ok());
}

}  // namespace
}  // namespace swarm::net
