// Epoch records (consensus/epoch.h) and what the ledger state machine
// (consensus/ledger_machine.h) does with them: canonical encodings, the request
// envelope, and the deterministic rules (one record per change, version
// gaps, unchanged roots, bodies that do not match), snapshot/restore of the
// bodies.
#include <filesystem>

#include <gtest/gtest.h>

#include "consensus/epoch.h"
#include "consensus/ledger_machine.h"
#include "consensus/ml_dsa_record_signer.h"
#include "store/signers.h"

namespace swarm::node {
namespace {

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(EpochEncoding, MembershipIsSortedByAddressAndRoundTrips) {
  auto a = EncodeMembershipEpoch({{"127.0.0.1:7002", "n2"}, {"127.0.0.1:7000", "n0"}, {"127.0.0.1:7001", "n1"}});
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = EncodeMembershipEpoch({{"127.0.0.1:7001", "n1"}, {"127.0.0.1:7000", "n0"}, {"127.0.0.1:7002", "n2"}});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);  // canonical: order of the input does not matter
  EXPECT_EQ(std::string(a->begin(), a->end()),
            "swarm epoch.membership v1\n127.0.0.1:7000 n0\n127.0.0.1:7001 n1\n127.0.0.1:7002 n2\n");
  auto parsed = ParseMembershipEpoch(*a);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0], (EpochMember{"127.0.0.1:7000", "n0"}));
  EXPECT_EQ(EpochRoot(*a), crypto::Sha3_256(*a));
  // A different id changes the root.
  auto c = EncodeMembershipEpoch({{"127.0.0.1:7001", "x"}, {"127.0.0.1:7000", "n0"}, {"127.0.0.1:7002", "n2"}});
  EXPECT_NE(EpochRoot(*c), EpochRoot(*a));
}

TEST(EpochEncoding, MembershipRefusesNonCanonicalInput) {
  EXPECT_FALSE(EncodeMembershipEpoch({{"a:1", "x"}, {"a:1", "y"}}).ok());  // duplicate address
  EXPECT_FALSE(EncodeMembershipEpoch({{"a 1", "x"}}).ok());               // space
  EXPECT_FALSE(EncodeMembershipEpoch({{"", "x"}}).ok());
  EXPECT_FALSE(EncodeMembershipEpoch({{"a:1", std::string(kEpochFieldBytesMax + 1, 'i')}}).ok());
  // Parse accepts only what Encode produces.
  EXPECT_FALSE(ParseMembershipEpoch(B("swarm epoch.membership v1\nb:1 x\na:1 y\n")).ok());  // unsorted
  EXPECT_FALSE(ParseMembershipEpoch(B("swarm epoch.membership v1\na:1 x")).ok());           // no final \n
  EXPECT_FALSE(ParseMembershipEpoch(B("swarm epoch.membership v2\n")).ok());
  EXPECT_FALSE(ParseMembershipEpoch(B("swarm epoch.membership v1\na:1\n")).ok());  // no id
  EXPECT_FALSE(ParseMembershipEpoch(B("swarm epoch.membership v1\na:1 x y\n")).ok());
  EXPECT_FALSE(ParseMembershipEpoch(B("")).ok());
  EXPECT_TRUE(ParseMembershipEpoch(B("swarm epoch.membership v1\n")).ok());  // empty swarm is canonical
  Bytes huge = B("swarm epoch.membership v1\n");
  huge.resize(kEpochBodyBytesMax + 1, 'a');
  auto s = ParseMembershipEpoch(huge);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("kEpochBodyBytesMax"), std::string::npos) << s.status();
}

TEST(EpochEncoding, PlacementRoundTripsAndRefusesNonCanonicalInput) {
  PlacementTable t = {{3, {"b:2", "a:1"}}, {0, {"a:1"}}, {17, {"c:3", "a:1", "b:2"}}};
  auto body = EncodePlacementEpoch(t);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(std::string(body->begin(), body->end()),
            "swarm epoch.placement v1\n0 a:1\n3 b:2,a:1\n17 c:3,a:1,b:2\n");
  auto back = ParsePlacementEpoch(*body);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
  EXPECT_FALSE(EncodePlacementEpoch({{1, {}}}).ok());
  EXPECT_FALSE(ParsePlacementEpoch(B("swarm epoch.placement v1\n3 a:1\n1 a:1\n")).ok());  // unsorted
  EXPECT_FALSE(ParsePlacementEpoch(B("swarm epoch.placement v1\n01 a:1\n")).ok());        // leading zero
  EXPECT_FALSE(ParsePlacementEpoch(B("swarm epoch.placement v1\n4294967296 a:1\n")).ok());
  EXPECT_FALSE(ParsePlacementEpoch(B("swarm epoch.placement v1\n1 a:1,,b:2\n")).ok());
  EXPECT_FALSE(ParsePlacementEpoch(B("swarm epoch.placement v1\n-1 a:1\n")).ok());
}

TEST(EpochEnvelope, CarriesRecordAndBodyAndRefusesTruncation) {
  const Bytes rec = B("SWLR-record-bytes");
  const Bytes body = B("body");
  EXPECT_EQ(EncodeLedgerRequest(rec, {}), rec);  // no body: the bare record
  auto bare = ParseLedgerRequest(rec);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->record, rec);
  EXPECT_TRUE(bare->body.empty());
  const Bytes env = EncodeLedgerRequest(rec, body);
  auto parts = ParseLedgerRequest(env);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->record, rec);
  EXPECT_EQ(parts->body, body);
  for (size_t cut = 1; cut < env.size(); ++cut) {
    Bytes t(env.begin(), env.begin() + cut);
    if (t.size() < 4) continue;  // not recognisable as an envelope: a (bad) bare record
    EXPECT_FALSE(ParseLedgerRequest(t).ok()) << cut;
  }
  Bytes longer = env;
  longer.push_back(0);
  EXPECT_FALSE(ParseLedgerRequest(longer).ok());
}

class Member {
 public:
  Member() : signer_(std::move(testing::MlDsaRecordSigner::Generate()).value()) {}
  consensus::Request Make(uint64_t index, const Digest256& prev, uint64_t client_seq, const std::string& kind,
                          uint64_t epoch, const Bytes& body, std::optional<Digest256> root = std::nullopt) {
    store::LedgerRecord r;
    r.index = index;
    r.signature_scheme = signer_->Scheme();
    r.public_key = signer_->PublicKey();
    r.author_id = store::LedgerAuthorId(r.signature_scheme, r.public_key);
    r.kind = kind;
    r.epoch = epoch;
    r.payload_root = root ? *root : EpochRoot(body);
    r.prev_hash = prev;
    r.signature = signer_->Sign(store::LedgerSigningBytes(r)).value();
    return consensus::Request{LedgerStateMachine::ClientOf(r), client_seq,
                              EncodeLedgerRequest(store::EncodeLedgerRecord(r), body)};
  }

  Digest256 author() const { return store::LedgerAuthorId(signer_->Scheme(), signer_->PublicKey()); }

 private:
  std::unique_ptr<testing::MlDsaRecordSigner> signer_;
};

Bytes Members(std::vector<std::string> addrs) {
  std::vector<EpochMember> m;
  for (auto& a : addrs) m.push_back({a, "id-" + a});
  return EncodeMembershipEpoch(m).value();
}

TEST(LedgerEpochRules, SeveralMembersProposingOneChangeYieldExactlyOneRecord) {
  auto sm = LedgerStateMachine::Open("").value();
  std::vector<Member> members(4);
  const Bytes v1 = Members({"a:1", "b:2", "c:3", "d:4"});
  // All four sign version 1 on the empty head; the first wins.
  std::vector<consensus::Request> reqs;
  for (size_t i = 0; i < members.size(); ++i) reqs.push_back(members[i].Make(0, {}, 1, kEpochMembershipKind, 1, v1));
  for (size_t i = 0; i < reqs.size(); ++i) sm->Apply(i + 1, reqs[i]);
  EXPECT_TRUE(sm->Result(reqs[0].client, 1)->applied) << sm->Result(reqs[0].client, 1)->error;
  EXPECT_EQ(sm->Head().size, 1u);
  EXPECT_EQ(sm->Epoch(EpochKind::kMembership).version, 1u);
  EXPECT_EQ(sm->Epoch(EpochKind::kMembership).root, EpochRoot(v1));
  EXPECT_EQ(sm->Epoch(EpochKind::kPlacement).version, 0u);
  for (size_t i = 1; i < reqs.size(); ++i) {
    auto r = sm->Result(reqs[i].client, 1);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->applied);
    EXPECT_NE(r->error.find("epoch: version 1 but the last committed epoch.membership is 1"), std::string::npos)
        << r->error;
  }
  // Re-signed on the new head, still the same set: refused as unchanged.
  const Digest256 h1 = sm->Head().hash;
  auto again = members[1].Make(1, h1, 2, kEpochMembershipKind, 2, v1);
  sm->Apply(5, again);
  EXPECT_FALSE(sm->Result(again.client, 2)->applied);
  EXPECT_NE(sm->Result(again.client, 2)->error.find("epoch: unchanged"), std::string::npos)
      << sm->Result(again.client, 2)->error;
  EXPECT_EQ(sm->Head().size, 1u);
  ASSERT_TRUE(sm->EpochBody(EpochRoot(v1)));
  EXPECT_EQ(*sm->EpochBody(EpochRoot(v1)), v1);
}

TEST(LedgerEpochRules, VersionGapsBadBodiesAndMisplacedBodiesAreRefusedWithTheirReason) {
  auto sm = LedgerStateMachine::Open("").value();
  Member m;
  const Bytes v1 = Members({"a:1", "b:2"});
  const Bytes v2 = Members({"a:1"});
  struct Case {
    consensus::Request req;
    std::string reason;
  };
  std::vector<Case> cases = {
      {m.Make(0, {}, 1, kEpochMembershipKind, 2, v1), "epoch: version 2 but the last committed"},
      {m.Make(0, {}, 2, kEpochMembershipKind, 0, v1), "epoch: version 0"},
      {m.Make(0, {}, 3, kEpochMembershipKind, 1, v1, Digest256{}), "is not SHA3-256 of the body"},
      {m.Make(0, {}, 4, kEpochMembershipKind, 1, {}, EpochRoot(v1)), "carries no body"},
      {m.Make(0, {}, 5, kEpochPlacementKind, 1, v1), "epoch: bad body"},  // a member list is no table
      {m.Make(0, {}, 6, "epoch.other", 1, v1), "unknown epoch kind"},
      {m.Make(0, {}, 7, "note", 0, v1), "a body on a record of kind 'note'"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    sm->Apply(i + 1, cases[i].req);
    auto r = sm->Result(cases[i].req.client, cases[i].req.client_seq);
    ASSERT_TRUE(r) << i;
    EXPECT_FALSE(r->applied) << i;
    EXPECT_NE(r->error.find(cases[i].reason), std::string::npos) << i << ": " << r->error;
  }
  EXPECT_EQ(sm->Head().size, 0u);
  // The good ones, in order: v1 then v2 (a version per change), placement independently.
  auto ok1 = m.Make(0, {}, 10, kEpochMembershipKind, 1, v1);
  sm->Apply(20, ok1);
  ASSERT_TRUE(sm->Result(ok1.client, 10)->applied) << sm->Result(ok1.client, 10)->error;
  auto ok2 = m.Make(1, sm->Head().hash, 11, kEpochMembershipKind, 2, v2);
  sm->Apply(21, ok2);
  ASSERT_TRUE(sm->Result(ok2.client, 11)->applied) << sm->Result(ok2.client, 11)->error;
  const Bytes table = EncodePlacementEpoch({{0, {"a:1"}}}).value();
  auto ok3 = m.Make(2, sm->Head().hash, 12, kEpochPlacementKind, 1, table);
  sm->Apply(22, ok3);
  ASSERT_TRUE(sm->Result(ok3.client, 12)->applied) << sm->Result(ok3.client, 12)->error;
  EXPECT_EQ(sm->Epoch(EpochKind::kMembership), (EpochState{2, EpochRoot(v2), 1}));
  EXPECT_EQ(sm->Epoch(EpochKind::kPlacement), (EpochState{1, EpochRoot(table), 2}));
  // Going back to an earlier set is a new version (only "unchanged" is refused).
  auto back = m.Make(3, sm->Head().hash, 13, kEpochMembershipKind, 3, v1);
  sm->Apply(23, back);
  EXPECT_TRUE(sm->Result(back.client, 13)->applied) << sm->Result(back.client, 13)->error;
  // Records() hands out bodies beside their epoch records only.
  auto recs = sm->Records(0, 10);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].second, v1);
  EXPECT_EQ(recs[1].second, v2);
  EXPECT_EQ(recs[2].second, table);
  EXPECT_EQ(sm->Records(3, 10).size(), 1u);
  EXPECT_TRUE(sm->Records(9, 10).empty());
}

TEST(LedgerEpochRules, SnapshotCarriesBodiesAndEpochStateToAnotherReplica) {
  auto dir = std::filesystem::temp_directory_path() / ("swarm-epoch-sm-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto a = LedgerStateMachine::Open("").value();
  Member m;
  const Bytes v1 = Members({"a:1", "b:2"});
  const Bytes table = EncodePlacementEpoch({{0, {"a:1", "b:2"}}, {1, {"b:2", "a:1"}}}).value();
  a->Apply(1, m.Make(0, {}, 1, kEpochMembershipKind, 1, v1));
  a->Apply(2, m.Make(1, a->Head().hash, 2, kEpochPlacementKind, 1, table));
  ASSERT_EQ(a->Head().size, 2u);
  const Bytes snap = a->Snapshot();
  auto b = LedgerStateMachine::Open((dir / "ledger.db").string()).value();
  ASSERT_TRUE(b->Restore(snap).ok());
  EXPECT_EQ(b->Epoch(EpochKind::kMembership), a->Epoch(EpochKind::kMembership));
  EXPECT_EQ(b->Epoch(EpochKind::kPlacement), a->Epoch(EpochKind::kPlacement));
  EXPECT_EQ(b->EpochBody(EpochRoot(table)), table);
  EXPECT_EQ(b->Snapshot(), snap);
  // The bodies are also beside the ledger file for offline `swarm ledger show`.
  EXPECT_TRUE(std::filesystem::exists(dir / "epochs" / (ToHex(EpochRoot(v1)) + ".body")));
  // The next version follows the restored state.
  auto next = m.Make(2, b->Head().hash, 3, kEpochMembershipKind, 2, Members({"a:1"}));
  b->Apply(3, next);
  EXPECT_TRUE(b->Result(next.client, 3)->applied) << b->Result(next.client, 3)->error;
  // A body that does not hash to its root is refused.
  Bytes bad = snap;
  bad[bad.size() - 2] ^= 1;
  auto c = LedgerStateMachine::Open("").value();
  EXPECT_FALSE(c->Restore(bad).ok());
  std::filesystem::remove_all(dir);
}


Hash32 H(uint8_t fill) {
  Hash32 h;
  h.fill(fill);
  return h;
}

TEST(EpochEncoding, AdmissionSetIsCanonicalAndRoundTrips) {
  AdmissionEpoch set;
  set.grants[H(0x22)] = H(0xb2);
  set.grants[H(0x11)] = H(0xb1);
  set.revoked.insert(H(0xc3));
  auto body = EncodeAdmissionEpoch(set);
  ASSERT_TRUE(body.ok()) << body.status();
  const std::string text(body->begin(), body->end());
  EXPECT_EQ(text, "swarm epoch.admission v1\ngrant " + std::string(64, '1') + " " + ToHex(H(0xb1)) + "\ngrant " +
                      std::string(64, '2') + " " + ToHex(H(0xb2)) + "\nrevoke " + ToHex(H(0xc3)) + "\n");
  auto parsed = ParseAdmissionEpoch(*body);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, set);
  EXPECT_TRUE(ParseAdmissionEpoch(B("swarm epoch.admission v1\n")).ok());  // nobody admitted: canonical
  const std::string g1 = "grant " + std::string(64, '1') + " " + std::string(64, 'b') + "\n";
  const std::string g2 = "grant " + std::string(64, '2') + " " + std::string(64, 'b') + "\n";
  const std::string r1 = "revoke " + std::string(64, 'c') + "\n";
  struct Bad {
    std::string body, named;
  };
  const std::vector<Bad> bad = {
      {"swarm epoch.admission v1\n" + g2 + g1, "not after the previous one"},           // unsorted
      {"swarm epoch.admission v1\n" + g1 + g1, "not after the previous one"},           // duplicate
      {"swarm epoch.admission v1\n" + r1 + g1, "a grant line after a revoke line"},     // order
      {"swarm epoch.admission v1\n" + r1 + r1, "not after the previous one"},
      {"swarm epoch.admission v1\ngrant " + std::string(64, 'A') + " " + std::string(64, 'b') + "\n", "grant sha3"},
      {"swarm epoch.admission v1\ngrant " + std::string(64, '1') + " xyz\n", "subject 'xyz'"},
      {"swarm epoch.admission v1\nadmit " + std::string(64, '1') + "\n", "'admit' is neither"},
      {"swarm epoch.admission v2\n", "line 1"},
  };
  for (const auto& b : bad) {
    auto r = ParseAdmissionEpoch(B(b.body));
    ASSERT_FALSE(r.ok()) << b.body;
    EXPECT_NE(r.status().message().find(b.named), std::string::npos) << r.status() << " / " << b.named;
  }
  AdmissionEpoch big;
  for (size_t i = 0; i <= kAdmissionEntriesMax; ++i) {
    Hash32 h{};
    h[0] = static_cast<uint8_t>(i);
    h[1] = static_cast<uint8_t>(i >> 8);
    big.grants[h] = h;
  }
  auto too_many = EncodeAdmissionEpoch(big);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("kAdmissionEntriesMax"), std::string::npos) << too_many.status();
}

TEST(LedgerEpochRules, OnlyATrustedIssuerMayAuthorAnAdmissionRecord) {
  Member issuer, member;
  AdmissionEpoch set;
  set.grants[H(0x11)] = H(0xb1);
  const Bytes v1 = EncodeAdmissionEpoch(set).value();
  // No issuer configured: every epoch.admission record is refused.
  auto none = LedgerStateMachine::Open("").value();
  auto a = issuer.Make(0, {}, 1, kEpochAdmissionKind, 1, v1);
  none->Apply(1, a);
  EXPECT_FALSE(none->Result(a.client, 1)->applied);
  EXPECT_NE(none->Result(a.client, 1)->error.find("not a trusted issuer"), std::string::npos)
      << none->Result(a.client, 1)->error;

  auto sm = LedgerStateMachine::Open("").value();
  sm->SetEpochRules(EpochRules{{issuer.author()}});
  // A committee member (not the issuer) cannot admit anyone.
  auto forged = member.Make(0, {}, 1, kEpochAdmissionKind, 1, v1);
  sm->Apply(1, forged);
  EXPECT_FALSE(sm->Result(forged.client, 1)->applied);
  EXPECT_NE(sm->Result(forged.client, 1)->error.find("epoch: epoch.admission authored by"), std::string::npos)
      << sm->Result(forged.client, 1)->error;
  EXPECT_EQ(sm->Epoch(EpochKind::kAdmission).version, 0u);
  // The issuer can; then a revocation is the next version.
  auto ok = issuer.Make(0, {}, 2, kEpochAdmissionKind, 1, v1);
  sm->Apply(2, ok);
  ASSERT_TRUE(sm->Result(ok.client, 2)->applied) << sm->Result(ok.client, 2)->error;
  EXPECT_EQ(sm->Epoch(EpochKind::kAdmission), (EpochState{1, EpochRoot(v1), 0}));
  set.grants.clear();
  set.revoked.insert(H(0xb1));
  const Bytes v2 = EncodeAdmissionEpoch(set).value();
  auto revoke = issuer.Make(1, sm->Head().hash, 3, kEpochAdmissionKind, 2, v2);
  sm->Apply(3, revoke);
  ASSERT_TRUE(sm->Result(revoke.client, 3)->applied) << sm->Result(revoke.client, 3)->error;
  EXPECT_EQ(sm->Epoch(EpochKind::kAdmission).version, 2u);
  EXPECT_EQ(ParseAdmissionEpoch(*sm->EpochBody(EpochRoot(v2))).value(), set);
  // Membership records keep their own version line.
  EXPECT_EQ(sm->Epoch(EpochKind::kMembership).version, 0u);
}

}  // namespace
}  // namespace swarm::node
