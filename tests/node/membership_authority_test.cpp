// MembershipAuthority (node/membership_authority.h): members are admitted from
// grants of this swarm's issuers that name them, or (open mode only) from an
// open credential whose key is theirs; records verify only under the author's
// key, for this swarm, with the credential they were signed with.
#include <gtest/gtest.h>

#include <chrono>

#include "node/membership_authority.h"

namespace swarm::node {
namespace {

using membership::MemberState;
using membership::Update;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

struct Fixture {
  crypto::Identity issuer = crypto::Identity::Generate().value();
  crypto::Identity alice = crypto::Identity::Generate().value();
  crypto::Identity mallory = crypto::Identity::Generate().value();
  std::shared_ptr<admission::GrantVerifier> verifier;
  Bytes alice_grant;
  Fixture() {
    admission::IssuerKey k{issuer.scheme(), issuer.public_key(), issuer.peer_id()};
    verifier = std::make_shared<admission::GrantVerifier>("swarm-a", std::vector<admission::IssuerKey>{k});
    admission::Grant g;
    g.swarm_id = "swarm-a";
    g.subject_scheme = alice.scheme();
    g.subject_public_key = alice.public_key();
    g.subject = alice.peer_id();
    g.roles = static_cast<uint32_t>(admission::Role::kExpertHost);
    g.capacity = 3;
    g.operator_name = "acme";
    g.region = "eu";
    g.address = "127.0.0.1:7001";
    g.not_before_unix_ms = NowMs() - 1000;
    g.expires_unix_ms = NowMs() + 3600 * 1000;
    g.serial = 1;
    alice_grant = admission::EncodeSignedGrant(admission::IssueGrant(issuer, g).value());
  }
  MembershipAdmission Granted(Bytes own = {}) const { return {false, "swarm-a", verifier, std::move(own)}; }
};

TEST(MembershipAuthority, AdmitsFromAGrantNamingTheMemberWithGrantedFacts) {
  Fixture f;
  membership::PeerDirectory dir;
  const auto a = dir.Intern(MembershipAuthority::NameOf(f.alice.peer_id())).value();
  const auto m = dir.Intern(MembershipAuthority::NameOf(f.mallory.peer_id())).value();
  MembershipAuthority auth(f.mallory, dir, f.Granted(), NowMs);
  auto cred = std::make_shared<const Bytes>(f.alice_grant);
  auto facts = auth.Admit(a, cred);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ((*facts)->capacity, 3.0f);
  EXPECT_EQ((*facts)->operator_name, "acme");
  EXPECT_EQ((*facts)->region, "eu");
  EXPECT_EQ((*facts)->address, "127.0.0.1:7001");
  EXPECT_EQ((*facts)->roles, membership::kRoleExpertHost);
  // Alice's grant presented for Mallory: refused, naming why.
  auto stolen = auth.Admit(m, cred);
  ASSERT_FALSE(stolen.ok());
  EXPECT_EQ(stolen.status().message().substr(0, 13), "not_admitted:") << stolen.status();
  EXPECT_NE(stolen.status().message().find("grant subject"), std::string::npos) << stolen.status();
  // Garbage and open credentials in a granted swarm.
  EXPECT_FALSE(auth.Admit(m, std::make_shared<const Bytes>(Bytes{1, 2, 3})).ok());
  MembershipAuthority mallory_open(f.mallory, dir, {true, "swarm-a", nullptr, {}}, NowMs);
  auto open_cred = mallory_open.OwnCredential(64, "r", "127.0.0.1:9").value();
  auto refused = auth.Admit(m, open_cred);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("not open"), std::string::npos) << refused.status();
  // No grant and not open: this peer cannot even build its own credential.
  EXPECT_FALSE(auth.OwnCredential(1, "", "").ok());
}

TEST(MembershipAuthority, RecordsVerifyOnlyUnderTheAuthorsKeyForThisSwarmAndCredential) {
  Fixture f;
  // Alice's side signs; Bob's side (another directory, other indices) verifies.
  membership::PeerDirectory alice_dir, bob_dir;
  (void)bob_dir.Intern("someone-else");
  const auto a_self = alice_dir.Intern(MembershipAuthority::NameOf(f.alice.peer_id())).value();
  const auto a_at_bob = bob_dir.Intern(MembershipAuthority::NameOf(f.alice.peer_id())).value();
  MembershipAuthority alice(f.alice, alice_dir, f.Granted(f.alice_grant), NowMs);
  MembershipAuthority bob(f.mallory, bob_dir, f.Granted(), NowMs);
  auto cred = alice.OwnCredential(1, "", "").value();
  ASSERT_TRUE(alice.Admit(a_self, cred).ok());
  auto meta = std::make_shared<membership::Metadata>();
  meta->roles = {"name:alice"};
  Update rec{MemberState::kAlive, a_self, 4, a_self, meta, cred, nullptr};
  rec.signature = alice.Sign(rec);
  ASSERT_TRUE(rec.signature);
  Update at_bob = rec;
  at_bob.member = at_bob.origin = a_at_bob;
  EXPECT_FALSE(bob.Verify(at_bob)) << "not admitted at bob yet: no key";
  ASSERT_TRUE(bob.Admit(a_at_bob, cred).ok());
  EXPECT_TRUE(bob.Verify(at_bob));
  Update changed = at_bob;
  changed.incarnation = 5;
  EXPECT_FALSE(bob.Verify(changed));
  changed = at_bob;
  changed.credential = std::make_shared<const Bytes>(Bytes{9});  // a relay swaps the credential
  EXPECT_FALSE(bob.Verify(changed));
  // The same record verified by a peer of another swarm id: refused.
  MembershipAuthority other_swarm(f.mallory, bob_dir, {false, "swarm-b", f.verifier, {}}, NowMs);
  (void)other_swarm.Admit(a_at_bob, cred);  // the grant is for swarm-a: refused anyway
  EXPECT_FALSE(other_swarm.Verify(at_bob));
}

TEST(MembershipAuthority, OpenModeAdmitsOnlyTheKeysOwner) {
  Fixture f;
  membership::PeerDirectory dir;
  const auto a = dir.Intern(MembershipAuthority::NameOf(f.alice.peer_id())).value();
  const auto m = dir.Intern(MembershipAuthority::NameOf(f.mallory.peer_id())).value();
  MembershipAuthority alice(f.alice, dir, {true, "", nullptr, {}}, NowMs);
  auto cred = alice.OwnCredential(2.5f, "eu", "127.0.0.1:7001").value();
  auto facts = alice.Admit(a, cred);
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ((*facts)->capacity, 2.5f);
  EXPECT_EQ((*facts)->address, "127.0.0.1:7001");
  auto as_mallory = alice.Admit(m, cred);
  ASSERT_FALSE(as_mallory.ok());
  EXPECT_NE(as_mallory.status().message().find("not member"), std::string::npos) << as_mallory.status();
  // Truncated open credentials are refused with the field named.
  Bytes cut(cred->begin(), cred->begin() + static_cast<long>(cred->size() / 2));
  auto bad = alice.Admit(a, std::make_shared<const Bytes>(cut));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("open credential: bad"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace swarm::node
