#include "admission/grant.h"
#include "crypto/hash.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace swarm::admission {
namespace {

using crypto::Identity;

constexpr uint64_t kNow = 1'800'000'000'000;  // a fixed "now" (2027)

const Identity& IssuerId() {
  static Identity* id = new Identity(Identity::Generate().value());
  return *id;
}
const Identity& OtherIssuerId() {
  static Identity* id = new Identity(Identity::Generate().value());
  return *id;
}
const Identity& PeerId() {
  static Identity* id = new Identity(Identity::Generate().value());
  return *id;
}

Grant SampleGrant() {
  Grant g;
  g.swarm_id = "swarm-test";
  g.subject_scheme = PeerId().scheme();
  g.subject_public_key = PeerId().public_key();
  g.subject = PeerId().peer_id();
  g.roles = static_cast<RoleSet>(Role::kTrainer) | static_cast<RoleSet>(Role::kObserver);
  g.capacity = 2.5f;
  g.operator_name = "local op";
  g.region = "eu-west";
  g.address = "127.0.0.1:7000";
  g.not_before_unix_ms = kNow - 1000;
  g.expires_unix_ms = kNow + 3'600'000;
  g.serial = 42;
  return g;
}

Bytes Issued(const Grant& g, const Identity& issuer = IssuerId()) {
  return EncodeSignedGrant(IssueGrant(issuer, g).value());
}

GrantVerifier MakeVerifier(std::string swarm = "swarm-test", size_t cache = kGrantCacheEntriesMax) {
  return GrantVerifier(std::move(swarm), {IssuerKeyOf(IssuerId())}, cache);
}

std::string Msg(const Status& s) { return std::string(s.message()); }

TEST(Roles, NamesRoundTripAndUnknownNamesAreListed) {
  const auto set = RoleSetFromNames("trainer, expert_host,observer");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(HasRole(*set, Role::kTrainer));
  EXPECT_TRUE(HasRole(*set, Role::kExpertHost));
  EXPECT_FALSE(HasRole(*set, Role::kQueen));
  EXPECT_EQ(RoleSetNames(*set), "trainer,expert_host,observer");
  EXPECT_EQ(RoleSetFromNames(RoleSetNames(kAllRolesMask)).value(), kAllRolesMask);
  const auto bad = RoleSetFromNames("trainer,wizard");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(Msg(bad.status()).find("'wizard'"), std::string::npos) << bad.status();
  EXPECT_NE(Msg(bad.status()).find("jobs_worker"), std::string::npos) << bad.status();
  EXPECT_FALSE(RoleSetFromNames(" , ").ok());
}

TEST(GrantCodec, RoundTripIsExactAndCanonical) {
  Grant g = SampleGrant();
  g.issuer = IssuerId().peer_id();
  const Bytes body = EncodeGrant(g);
  const auto d = DecodeGrant(body);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->swarm_id, g.swarm_id);
  EXPECT_EQ(d->issuer, g.issuer);
  EXPECT_EQ(d->subject_scheme, g.subject_scheme);
  EXPECT_EQ(d->subject_public_key, g.subject_public_key);
  EXPECT_EQ(d->subject, g.subject);
  EXPECT_EQ(d->roles, g.roles);
  EXPECT_EQ(d->capacity, g.capacity);
  EXPECT_EQ(d->operator_name, g.operator_name);
  EXPECT_EQ(d->region, g.region);
  EXPECT_EQ(d->address, g.address);
  EXPECT_EQ(d->not_before_unix_ms, g.not_before_unix_ms);
  EXPECT_EQ(d->expires_unix_ms, g.expires_unix_ms);
  EXPECT_EQ(d->serial, g.serial);
  EXPECT_EQ(EncodeGrant(*d), body);

  const SignedGrant sg = IssueGrant(IssuerId(), g).value();
  const auto sd = DecodeSignedGrant(EncodeSignedGrant(sg));
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->body, sg.body);
  EXPECT_EQ(sd->signature, sg.signature);
}

TEST(GrantCodec, EveryTruncationAndTrailingByteIsRefused) {
  Grant g = SampleGrant();
  const Bytes body = EncodeGrant(g);
  for (size_t n = 0; n < body.size(); ++n) {
    const auto d = DecodeGrant(ByteSpan(body).first(n));
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_NE(Msg(d.status()).find("field '"), std::string::npos) << d.status();
  }
  Bytes longer = body;
  longer.push_back(0);
  const auto d = DecodeGrant(longer);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(Msg(d.status()).find("trailing"), std::string::npos) << d.status();
}

// Each field given a bad value: the error names the field and shows the value.
struct BadField {
  const char* field;
  std::function<void(Grant&)> spoil;
  const char* value_shown;
};

TEST(GrantCodec, EveryFieldsBadValueIsNamed) {
  const std::vector<BadField> cases = {
      {"version", [](Grant& g) { g.version = 7; }, "7"},
      {"swarm_id", [](Grant& g) { g.swarm_id = ""; }, "''"},
      {"swarm_id", [](Grant& g) { g.swarm_id = "has space"; }, "'has space'"},
      {"swarm_id", [](Grant& g) { g.swarm_id = std::string(65, 'a'); }, "65"},
      {"subject_scheme", [](Grant& g) { g.subject_scheme = static_cast<crypto::SignatureScheme>(9); }, "9"},
      {"subject_public_key", [](Grant& g) { g.subject_public_key.pop_back(); }, "1951 bytes"},
      {"subject", [](Grant& g) { g.subject[0] ^= 1; }, ""},
      {"roles", [](Grant& g) { g.roles = 0; }, "0"},
      {"roles", [](Grant& g) { g.roles = 1u << 12; }, "0x1000"},
      {"capacity", [](Grant& g) { g.capacity = 0.0f; }, "0"},
      {"capacity", [](Grant& g) { g.capacity = -1.0f; }, "-1"},
      {"capacity", [](Grant& g) { g.capacity = 65.0f; }, "65"},
      {"capacity", [](Grant& g) { g.capacity = std::nanf(""); }, "nan"},
      {"operator", [](Grant& g) { g.operator_name = ""; }, "''"},
      {"operator", [](Grant& g) { g.operator_name = "a\nb"; }, "'a\\x0ab'"},
      {"region", [](Grant& g) { g.region = std::string(70, 'r'); }, "70"},
      {"address", [](Grant& g) { g.address = "nohost"; }, "'nohost'"},
      {"address", [](Grant& g) { g.address = "h:0"; }, "'h:0'"},
      {"address", [](Grant& g) { g.address = "h:65536"; }, "'h:65536'"},
      {"address", [](Grant& g) { g.address = ":80"; }, "':80'"},
      {"expires", [](Grant& g) { g.expires_unix_ms = g.not_before_unix_ms; }, ""},
  };
  for (const BadField& c : cases) {
    Grant g = SampleGrant();
    c.spoil(g);
    const Status v = ValidateGrant(g);
    ASSERT_FALSE(v.ok()) << c.field;
    EXPECT_EQ(v.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(Msg(v).find(absl::StrCat("field '", c.field, "'")), std::string::npos)
        << c.field << ": " << v;
    EXPECT_NE(Msg(v).find(c.value_shown), std::string::npos) << c.field << ": " << v;
    // The decoder refuses the same bytes with the same field named, and IssueGrant
    // refuses to sign them.
    const auto d = DecodeGrant(EncodeGrant(g));
    ASSERT_FALSE(d.ok()) << c.field;
    EXPECT_NE(Msg(d.status()).find(absl::StrCat("'", c.field, "'")), std::string::npos)
        << c.field << ": " << d.status();
    EXPECT_FALSE(IssueGrant(IssuerId(), g).ok()) << c.field;
  }
}

TEST(GrantCodec, SignedFramingErrorsAreNamed) {
  const Bytes good = Issued(SampleGrant());
  Bytes bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_NE(Msg(DecodeSignedGrant(bad_magic).status()).find("'magic'"), std::string::npos);
  Bytes bad_version = good;
  bad_version[4] = 9;
  EXPECT_NE(Msg(DecodeSignedGrant(bad_version).status()).find("'version': 9"), std::string::npos);
  Bytes huge_body = good;
  huge_body[5] = 0x7f;  // body length 0x7f...... > kGrantBytesMax
  EXPECT_NE(Msg(DecodeSignedGrant(huge_body).status()).find("'body': length"), std::string::npos);
  Bytes trailing = good;
  trailing.push_back(1);
  EXPECT_NE(Msg(DecodeSignedGrant(trailing).status()).find("trailing"), std::string::npos);
  for (size_t n = 0; n < good.size(); n += 97) EXPECT_FALSE(DecodeSignedGrant(ByteSpan(good).first(n)).ok());
  const Bytes too_big(kGrantBytesMax + 1, 0);
  EXPECT_FALSE(DecodeSignedGrant(too_big).ok());
}

TEST(GrantVerifier, AcceptsAValidGrant) {
  GrantVerifier v = MakeVerifier();
  const auto g = v.Verify(Issued(SampleGrant()), kNow);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->subject, PeerId().peer_id());
  EXPECT_EQ(g->issuer, IssuerId().peer_id());
  EXPECT_TRUE(HasRole(g->roles, Role::kTrainer));
}

void ExpectRefused(const StatusOr<Grant>& r, std::string_view prefix, std::string_view detail) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_EQ(Msg(r.status()).rfind(prefix, 0), 0u) << r.status();
  EXPECT_NE(Msg(r.status()).find(detail), std::string::npos) << r.status();
}

TEST(GrantVerifier, RefusesWrongIssuer) {
  GrantVerifier v = MakeVerifier();
  ExpectRefused(v.Verify(Issued(SampleGrant(), OtherIssuerId()), kNow), "not_admitted:",
                "field 'issuer'");
  EXPECT_EQ(v.cached_grants(), 0u);
}

TEST(GrantVerifier, RefusesWrongSwarm) {
  GrantVerifier v = MakeVerifier("another-swarm");
  ExpectRefused(v.Verify(Issued(SampleGrant()), kNow), "not_admitted:",
                "'swarm-test' is not this swarm ('another-swarm')");
}

TEST(GrantVerifier, RefusesExpiredAndNotYetValid) {
  GrantVerifier v = MakeVerifier();
  const Bytes b = Issued(SampleGrant());
  ExpectRefused(v.Verify(b, kNow + 3'600'000), "expired:", "expired at");
  ExpectRefused(v.Verify(b, kNow - 1001), "expired:", "not valid before");
  // The signature was checked once; the window is checked on every call.
  EXPECT_TRUE(v.Verify(b, kNow).ok());
  ExpectRefused(v.Verify(b, kNow + 4'000'000), "expired:", "expired at");
}

TEST(GrantVerifier, RefusesTamperedBodyAndSignature) {
  GrantVerifier v = MakeVerifier();
  SignedGrant sg = IssueGrant(IssuerId(), SampleGrant()).value();
  // Raise the capacity in the signed body: still a well-formed grant, bad signature.
  Grant g = DecodeGrant(sg.body).value();
  g.capacity = 60.0f;
  SignedGrant forged = sg;
  forged.body = EncodeGrant(g);
  ExpectRefused(v.Verify(EncodeSignedGrant(forged), kNow), "not_admitted:", "field 'signature'");
  // Flip a serial bit.
  SignedGrant flipped = sg;
  flipped.body.back() ^= 1;
  ExpectRefused(v.Verify(EncodeSignedGrant(flipped), kNow), "not_admitted:", "field 'signature'");
  SignedGrant bad_sig = sg;
  bad_sig.signature[10] ^= 0x40;
  ExpectRefused(v.Verify(EncodeSignedGrant(bad_sig), kNow), "not_admitted:", "field 'signature'");
  EXPECT_EQ(v.cached_grants(), 0u);
  EXPECT_TRUE(v.Verify(EncodeSignedGrant(sg), kNow).ok());
}

TEST(GrantVerifier, RefusesSubjectKeyMismatch) {
  // Someone swaps the subject key in a body for their own key but keeps the id:
  // refused as malformed before any signature is checked.
  GrantVerifier v = MakeVerifier();
  SignedGrant sg = IssueGrant(IssuerId(), SampleGrant()).value();
  Grant g = DecodeGrant(sg.body).value();
  g.subject_public_key = OtherIssuerId().public_key();
  sg.body = EncodeGrant(g);
  ExpectRefused(v.Verify(EncodeSignedGrant(sg), kNow), "not_admitted:", "field 'subject'");
}

TEST(GrantVerifier, ExcludedPeersAreRefused) {
  GrantVerifier v = MakeVerifier();
  const Bytes b = Issued(SampleGrant());
  ASSERT_TRUE(v.Verify(b, kNow).ok());
  EXPECT_FALSE(v.IsExcluded(PeerId().peer_id()));
  v.Exclude(PeerId().peer_id(), "ledger record 17: wrong expert outputs");
  EXPECT_TRUE(v.IsExcluded(PeerId().peer_id()));
  ExpectRefused(v.Verify(b, kNow), "excluded:", "ledger record 17");
}

TEST(GrantVerifier, OnceASetIsCommittedOnlyItsGrantsAreAdmitted) {
  GrantVerifier v = MakeVerifier();
  const Bytes first = Issued(SampleGrant());
  Grant renewed = SampleGrant();
  renewed.serial = 43;
  const Bytes second = Issued(renewed);
  // Genesis: before any committed set, every grant the issuer signed.
  EXPECT_TRUE(v.Verify(first, kNow).ok());
  EXPECT_TRUE(v.Verify(second, kNow).ok());
  EXPECT_EQ(v.CommittedRefusal(crypto::Sha3_256(second), nullptr), "");
  CommittedGrants c;
  c.version = 1;
  c.index = 7;
  c.grants.insert(crypto::Sha3_256(first));
  ASSERT_TRUE(v.SetCommitted(c));
  EXPECT_TRUE(v.Verify(first, kNow).ok());
  ExpectRefused(v.Verify(second, kNow), "not_admitted:", "not in the committed admission set (epoch.admission version 1)");
  EXPECT_EQ(v.CommittedRefusal(crypto::Sha3_256(second), nullptr), "not_committed");
  EXPECT_EQ(v.CommittedRefusal(crypto::Sha3_256(first), nullptr), "");
  // An older version never replaces a newer one.
  CommittedGrants old;
  old.version = 1;
  old.grants.insert(crypto::Sha3_256(second));
  EXPECT_FALSE(v.SetCommitted(old));
  ExpectRefused(v.Verify(second, kNow), "not_admitted:", "not in the committed admission set");
  // Revocation wins over a committed grant of the same subject.
  CommittedGrants revoked;
  revoked.version = 2;
  revoked.index = 9;
  revoked.grants.insert(crypto::Sha3_256(first));
  revoked.revoked.insert(PeerId().peer_id());
  ASSERT_TRUE(v.SetCommitted(revoked));
  ExpectRefused(v.Verify(first, kNow), "excluded:", "revoked by epoch.admission version 2 (ledger index 9)");
  const auto subject = PeerId().peer_id();
  EXPECT_EQ(v.CommittedRefusal(crypto::Sha3_256(first), &subject), "revoked");
  ASSERT_TRUE(v.committed());
  EXPECT_EQ(v.committed()->version, 2u);
}

TEST(GrantVerifier, CacheIsBounded) {
  GrantVerifier v = MakeVerifier("swarm-test", /*cache=*/3);
  std::vector<Bytes> grants;
  for (int i = 0; i < 8; ++i) {
    Grant g = SampleGrant();
    g.serial = static_cast<uint64_t>(i);
    grants.push_back(Issued(g));
  }
  for (const Bytes& b : grants) {
    ASSERT_TRUE(v.Verify(b, kNow).ok());
    EXPECT_LE(v.cached_grants(), 3u);
  }
  EXPECT_EQ(v.cached_grants(), 3u);
  // Evicted grants verify again (signature re-checked), still within the bound.
  for (const Bytes& b : grants) EXPECT_TRUE(v.Verify(b, kNow).ok());
  EXPECT_EQ(v.cached_grants(), 3u);
}

TEST(GrantVerifier, ConcurrentVerifyIsConsistent) {
  GrantVerifier v = MakeVerifier("swarm-test", 2);
  std::vector<Bytes> grants;
  for (int i = 0; i < 4; ++i) {
    Grant g = SampleGrant();
    g.serial = static_cast<uint64_t>(i);
    grants.push_back(Issued(g));
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (!v.Verify(grants[(t + i) % grants.size()], kNow).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(v.cached_grants(), 2u);
}

class GrantFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("admission_test_", ::getpid(), "_", ::testing::UnitTest::GetInstance()->random_seed());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const char* name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(GrantFiles, GrantAndIssuerKeyRoundTrip) {
  const SignedGrant sg = IssueGrant(IssuerId(), SampleGrant()).value();
  ASSERT_TRUE(SaveGrant(Path("peer.grant"), sg).ok());
  const auto loaded = LoadGrant(Path("peer.grant"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->body, sg.body);
  EXPECT_EQ(loaded->signature, sg.signature);

  ASSERT_TRUE(SaveIssuerKey(Path("issuer.pub"), IssuerKeyOf(IssuerId())).ok());
  const auto key = LoadIssuerKey(Path("issuer.pub"));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->id, IssuerId().peer_id());
  EXPECT_EQ(key->public_key, IssuerId().public_key());
  GrantVerifier v("swarm-test", {*key});
  EXPECT_TRUE(v.Verify(EncodeSignedGrant(*loaded), kNow).ok());
}

TEST_F(GrantFiles, BadFilesNameTheFileAndProblem) {
  auto write = [&](const char* name, std::string_view content) {
    std::ofstream(Path(name), std::ios::binary) << content;
    return Path(name);
  };
  const auto missing = LoadGrant(Path("absent.grant"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(Msg(missing.status()).find("absent.grant"), std::string::npos);
  const auto garbage = LoadGrant(write("garbage.grant", "hello world, not a grant"));
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(Msg(garbage.status()).find("garbage.grant"), std::string::npos);
  EXPECT_NE(Msg(garbage.status()).find("'magic'"), std::string::npos) << garbage.status();
  const auto big = LoadGrant(write("big.grant", std::string(kGrantBytesMax + 1, 'x')));
  EXPECT_NE(Msg(big.status()).find("at most"), std::string::npos) << big.status();

  const auto k1 = LoadIssuerKey(write("a.pub", "swarm-issuer/v2 ml-dsa-65 00"));
  EXPECT_NE(Msg(k1.status()).find("'format'"), std::string::npos) << k1.status();
  const auto k2 = LoadIssuerKey(write("b.pub", "swarm-pubkey/v1 rsa 00"));
  EXPECT_NE(Msg(k2.status()).find("'scheme'"), std::string::npos) << k2.status();
  const auto k3 = LoadIssuerKey(write("c.pub", "swarm-pubkey/v1 ml-dsa-65 0011"));
  EXPECT_NE(Msg(k3.status()).find("'public_key': 2 bytes"), std::string::npos) << k3.status();
  const auto k4 = LoadIssuerKey(write("d.pub", "swarm-pubkey/v1 ml-dsa-65 zz"));
  EXPECT_NE(Msg(k4.status()).find("'public_key'"), std::string::npos) << k4.status();
  EXPECT_NE(Msg(k4.status()).find("d.pub"), std::string::npos) << k4.status();
}

TEST(GrantDescribe, ShowsEveryField) {
  Grant g = SampleGrant();
  g.issuer = IssuerId().peer_id();
  const std::string d = DescribeGrant(g);
  for (const char* s : {"swarm-test", "trainer,observer", "2.5", "local op", "eu-west",
                        "127.0.0.1:7000", "serial:     42", "2027-"}) {
    EXPECT_NE(d.find(s), std::string::npos) << s << "\n" << d;
  }
}

}  // namespace
}  // namespace swarm::admission
