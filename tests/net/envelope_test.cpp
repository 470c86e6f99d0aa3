#include "net/envelope.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "swarm/v1/envelope.pb.h"

namespace swarm::net {
namespace {

class EnvelopeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    alice_ = new crypto::Identity(*crypto::Identity::Generate());
    mallory_ = new crypto::Identity(*crypto::Identity::Generate());
  }
  static void TearDownTestSuite() {
    delete alice_;
    delete mallory_;
  }
  static crypto::Identity* alice_;
  static crypto::Identity* mallory_;

  // Decodes, lets `edit` change a field, re-encodes.
  static Bytes Edit(const Bytes& wire, const std::function<void(swarm::v1::SignedEnvelope&)>& edit) {
    swarm::v1::SignedEnvelope env;
    EXPECT_TRUE(env.ParseFromArray(wire.data(), static_cast<int>(wire.size())));
    edit(env);
    Bytes out(env.ByteSizeLong());
    env.SerializeToArray(out.data(), static_cast<int>(out.size()));
    return out;
  }
  static std::string Reason(const StatusOr<OpenedEnvelope>& r) {
    if (r.ok()) return "ok";
    const std::string m(r.status().message());
    return m.substr(0, m.find(':'));
  }
};
crypto::Identity* EnvelopeTest::alice_ = nullptr;
crypto::Identity* EnvelopeTest::mallory_ = nullptr;

TEST_F(EnvelopeTest, RoundTripCarriesSenderKindAndPayload) {
  EnvelopeSealer sealer(*alice_, 7);
  EnvelopeOpener opener;
  const Bytes payload = {1, 2, 3};
  auto wire = sealer.Seal("membership", payload);
  ASSERT_TRUE(wire.ok()) << wire.status();
  auto opened = opener.Open(*wire);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->sender, alice_->peer_id());
  EXPECT_EQ(opened->epoch, 7u);
  EXPECT_EQ(opened->sequence, 1u);
  EXPECT_EQ(opened->kind, "membership");
  EXPECT_EQ(opened->payload, payload);
  EXPECT_EQ(opener.accepted(), 1u);
}

TEST_F(EnvelopeTest, ReplayIsRejectedOnceAcceptedAndCounted) {
  EnvelopeSealer sealer(*alice_);
  EnvelopeOpener opener;
  auto wire = *sealer.Seal("pbft", Bytes{9});
  ASSERT_TRUE(opener.Open(wire).ok());
  EXPECT_EQ(Reason(opener.Open(wire)), "replayed");
  EXPECT_EQ(opener.rejected().at("replayed"), 1u);
}

TEST_F(EnvelopeTest, ReorderingWithinTheWindowIsAcceptedButNotTooOld) {
  EnvelopeSealer sealer(*alice_);
  EnvelopeOpener opener({.replay_window = 4});
  std::vector<Bytes> w;
  for (int i = 0; i < 8; ++i) w.push_back(*sealer.Seal("x", Bytes{static_cast<uint8_t>(i)}));
  EXPECT_EQ(Reason(opener.Open(w[2])), "ok");  // seq 3
  EXPECT_EQ(Reason(opener.Open(w[1])), "ok");  // seq 2, late but inside the window
  EXPECT_EQ(Reason(opener.Open(w[7])), "ok");  // seq 8: window is now (4, 8]
  EXPECT_EQ(Reason(opener.Open(w[3])), "replayed");  // seq 4 fell out of the window
  EXPECT_EQ(Reason(opener.Open(w[4])), "ok");  // seq 5 inside
}

TEST_F(EnvelopeTest, EveryTamperedFieldIsCaughtWithItsReason) {
  EnvelopeSealer sealer(*alice_);
  const Bytes wire = *sealer.Seal("expert", Bytes(100, 0x42));
  struct Case {
    const char* name;
    std::function<void(swarm::v1::SignedEnvelope&)> edit;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"payload", [](auto& e) { e.mutable_payload()->at(5) ^= 1; }, "bad_hash"},
      {"payload+hash", [](auto& e) {
         e.mutable_payload()->at(5) ^= 1;
         auto h = crypto::Sha3_256(AsBytes(e.payload()));
         e.set_payload_sha3(h.data(), h.size());
       }, "forged"},
      {"epoch", [](auto& e) { e.set_epoch(e.epoch() + 1); }, "forged"},
      {"sequence", [](auto& e) { e.set_sequence(e.sequence() + 100); }, "forged"},
      {"kind", [](auto& e) { e.set_kind("pbft"); }, "forged"},
      {"signature", [](auto& e) { e.mutable_signature()->at(10) ^= 1; }, "forged"},
      {"sender", [](auto& e) { e.mutable_sender_id()->at(0) ^= 1; }, "bad_sender"},
      {"public key", [&](auto& e) {
         e.set_public_key(std::string(mallory_->public_key().begin(), mallory_->public_key().end()));
       }, "bad_sender"},
      {"short sender", [](auto& e) { e.set_sender_id("abc"); }, "malformed"},
      {"scheme", [](auto& e) { e.set_scheme(9); }, "malformed"},
      {"empty kind", [](auto& e) { e.set_kind(""); }, "malformed"},
  };
  for (const auto& c : cases) {
    EnvelopeOpener opener;
    EXPECT_EQ(Reason(opener.Open(Edit(wire, c.edit))), c.reason) << c.name;
  }
  EnvelopeOpener opener;
  EXPECT_EQ(Reason(opener.Open(Bytes{0xff, 0xff, 0xff})), "malformed");
  EnvelopeOpener small({.envelope_bytes_max = 64});
  EXPECT_EQ(Reason(small.Open(wire)), "oversized");
}

TEST_F(EnvelopeTest, ImpersonationWithOwnKeyFailsTheSignatureOrSenderCheck) {
  // Mallory signs with her key but claims Alice's id: bad_sender.
  EnvelopeSealer mallory(*mallory_);
  const Bytes wire = *mallory.Seal("membership", Bytes{1});
  EnvelopeOpener opener;
  const Bytes claimed = Edit(wire, [&](auto& e) {
    e.set_sender_id(alice_->peer_id().data(), alice_->peer_id().size());
  });
  EXPECT_EQ(Reason(opener.Open(claimed)), "bad_sender");
  // A forged message cannot burn Alice's sequence numbers.
  EnvelopeSealer alice(*alice_);
  const Bytes real = *alice.Seal("membership", Bytes{1});
  const Bytes forged = Edit(real, [](auto& e) { e.mutable_signature()->at(0) ^= 1; });
  EXPECT_EQ(Reason(opener.Open(forged)), "forged");
  EXPECT_EQ(Reason(opener.Open(real)), "ok");
}

TEST_F(EnvelopeTest, AllowlistAndMinimumEpoch) {
  EnvelopeOpener opener({.allowlist = {alice_->peer_id()}});
  EnvelopeSealer mallory(*mallory_);
  EXPECT_EQ(Reason(opener.Open(*mallory.Seal("x", Bytes{}))), "untrusted");
  EnvelopeSealer alice(*alice_, 3);
  opener.set_min_epoch(4);
  EXPECT_EQ(Reason(opener.Open(*alice.Seal("x", Bytes{}))), "stale_epoch");
  alice.set_epoch(4);
  EXPECT_EQ(Reason(opener.Open(*alice.Seal("x", Bytes{}))), "ok");
}

}  // namespace
}  // namespace swarm::net
