// node/envelope_admission.h: size, job, derived-name and trust-on-first-use
// checks, each refusal counted by its reason.
#include "node/envelope_admission.h"

#include <gtest/gtest.h>

namespace swarm::node {
namespace {

crypto::PeerIdBytes Id(uint8_t b) {
  crypto::PeerIdBytes id{};
  id.fill(b);
  return id;
}

TEST(EnvelopeAdmission, RefusesOversizedPayloadsAndCountsThem) {
  std::vector<std::string> seen;
  EnvelopeAdmission a({.payload_bytes_max = 4, .on_refusal = [&](const std::string& r) { seen.push_back(r); }});
  net::OpenedEnvelope env;
  env.payload = Bytes(4, 0);
  EXPECT_TRUE(a.CheckSize(env).ok());
  env.payload = Bytes(5, 0);
  Status st = a.CheckSize(env);
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_EQ(RefusalReason(st), "oversized");
  EXPECT_NE(st.message().find("5 bytes"), absl::string_view::npos) << st;
  EXPECT_EQ(a.counts().at("oversized"), 1);
  EXPECT_EQ(seen, std::vector<std::string>{"oversized"});
}

TEST(EnvelopeAdmission, RefusesAnotherJobNamingBoth) {
  EnvelopeAdmission a({});
  EXPECT_TRUE(a.CheckJob(7, 7, "contribution").ok());
  Status st = a.CheckJob(8, 7, "contribution");
  EXPECT_EQ(RefusalReason(st), "wrong_job");
  EXPECT_NE(st.message().find("job 8"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("job 7"), absl::string_view::npos) << st;
  EXPECT_EQ(a.counts().at("wrong_job"), 1);
}

TEST(EnvelopeAdmission, DerivedNameMustBeTheSigners) {
  EnvelopeAdmission a({});
  EXPECT_TRUE(a.SignerMustBe("abc", "abc", "name_hijack").ok());
  Status st = a.SignerMustBe("abc", "xyz", "name_hijack");
  EXPECT_EQ(RefusalReason(st), "name_hijack");
  EXPECT_EQ(a.counts().at("name_hijack"), 1);
}

TEST(EnvelopeAdmission, TrustOnFirstUseBindsTheFirstSigner) {
  EnvelopeAdmission a({});
  int delivered = 0;
  auto ok = [&] {
    ++delivered;
    return absl::OkStatus();
  };
  EXPECT_TRUE(a.AdmitAs("t0", Id(1), "not_a_trainer", ok).ok());
  EXPECT_TRUE(a.AdmitAs("t0", Id(1), "not_a_trainer", ok).ok());
  Status st = a.AdmitAs("t0", Id(2), "not_a_trainer", ok);
  EXPECT_EQ(RefusalReason(st), "not_a_trainer");
  EXPECT_EQ(delivered, 2);  // the other identity never reaches the protocol
  EXPECT_EQ(a.counts().at("not_a_trainer"), 1);
}

TEST(EnvelopeAdmission, AFreshBindingIsUndoneWhenTheProtocolDoesNotKnowTheName) {
  EnvelopeAdmission a({});
  auto unknown = [] { return absl::InvalidArgumentError("not_a_trainer: 'x' is not in trainers"); };
  EXPECT_EQ(RefusalReason(a.AdmitAs("x", Id(1), "not_a_trainer", unknown)), "not_a_trainer");
  EXPECT_EQ(a.bound_names(), 0u);
  // Another identity may still claim it later (it was never bound).
  EXPECT_TRUE(a.AdmitAs("x", Id(2), "not_a_trainer", [] { return absl::OkStatus(); }).ok());
  EXPECT_EQ(a.bound_names(), 1u);
}

TEST(EnvelopeAdmission, ProtocolRefusalsAreCountedByTheirReason) {
  EnvelopeAdmission a({});
  Status st = a.AdmitAs("t0", Id(1), "not_a_trainer", [] { return absl::InvalidArgumentError("late: round 3"); });
  EXPECT_EQ(RefusalReason(st), "late");
  EXPECT_EQ(a.counts().at("late"), 1);
  EXPECT_EQ(a.bound_names(), 1u);  // a late contribution still came from a trainer
}

TEST(EnvelopeAdmission, NotReadyIsNeitherCountedNorBound) {
  EnvelopeAdmission a({});
  Status st = a.AdmitAs("t0", Id(1), "not_a_trainer", [] { return absl::UnavailableError("trainer not started"); });
  EXPECT_TRUE(absl::IsUnavailable(st));
  EXPECT_TRUE(a.counts().empty());
  EXPECT_EQ(a.bound_names(), 0u);
}

struct FakeHeader {
  uint64_t job = 0;
  std::string sender;
};
struct FakeMessage {
  FakeHeader header;
  int value = 0;
};

TEST(EnvelopeAdmission, AdmitPayloadChecksDecodingJobAndName) {
  EnvelopeAdmission a({});
  net::OpenedEnvelope env;
  env.sender = Id(1);
  int got = 0;
  auto deliver = [&](FakeMessage& m) {
    got = m.value;
    return absl::OkStatus();
  };
  EXPECT_EQ(RefusalReason(a.AdmitPayload<FakeMessage>(env, absl::InvalidArgumentError("short"), 7, "x",
                                                      "not_a_trainer", deliver)),
            "malformed");
  EXPECT_EQ(RefusalReason(a.AdmitPayload<FakeMessage>(env, FakeMessage{{8, "t0"}, 1}, 7, "x", "not_a_trainer",
                                                      deliver)),
            "wrong_job");
  EXPECT_TRUE(a.AdmitPayload<FakeMessage>(env, FakeMessage{{7, "t0"}, 5}, 7, "x", "not_a_trainer", deliver).ok());
  EXPECT_EQ(got, 5);
  env.sender = Id(2);
  EXPECT_EQ(RefusalReason(a.AdmitPayload<FakeMessage>(env, FakeMessage{{7, "t0"}, 6}, 7, "x", "not_a_trainer",
                                                      deliver)),
            "not_a_trainer");
  EXPECT_EQ(got, 5);
  EXPECT_EQ(a.counts().at("malformed"), 1);
  EXPECT_EQ(a.counts().at("wrong_job"), 1);
  EXPECT_EQ(a.counts().at("not_a_trainer"), 1);
}

TEST(EnvelopeAdmission, BoundNamesAreCapped) {
  EnvelopeAdmission a({.bound_names_max = 2});
  auto ok = [] { return absl::OkStatus(); };
  EXPECT_TRUE(a.AdmitAs("a", Id(1), "not_a_trainer", ok).ok());
  EXPECT_TRUE(a.AdmitAs("b", Id(2), "not_a_trainer", ok).ok());
  EXPECT_EQ(RefusalReason(a.AdmitAs("c", Id(3), "not_a_trainer", ok)), "too_many_names");
  EXPECT_TRUE(a.AdmitAs("a", Id(1), "not_a_trainer", ok).ok());  // bound names still pass
}

TEST(EnvelopeAdmission, RefusalReasonStopsAtColonOrSpace) {
  EXPECT_EQ(RefusalReason(absl::InvalidArgumentError("late: x")), "late");
  EXPECT_EQ(RefusalReason(absl::InvalidArgumentError("stale sum")), "stale");
  EXPECT_EQ(RefusalReason(absl::InvalidArgumentError("plain")), "plain");
}

}  // namespace
}  // namespace swarm::node
