// The replicated ledger state machine (consensus/ledger_machine.h): what Apply
// accepts and refuses, Snapshot/Restore between replicas, and re-execution
// over a ledger file that is ahead of the restored checkpoint (crash case).
#include <filesystem>

#include <gtest/gtest.h>

#include "consensus/ledger_machine.h"
#include "consensus/ml_dsa_record_signer.h"
#include "store/signers.h"

namespace swarm::node {
namespace {

std::string TempPath(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() /
             ("swarm-ledger-sm-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "ledger.db").string();
}

class Author {
 public:
  Author() : signer_(std::move(testing::MlDsaRecordSigner::Generate()).value()) {}
  explicit Author(std::unique_ptr<store::RecordSigner> signer) : signer_(std::move(signer)) {}
  // A signed record on top of (index, prev).
  consensus::Request Make(uint64_t index, const Digest256& prev, uint64_t client_seq,
                          const std::string& kind = "note") {
    store::LedgerRecord r;
    r.index = index;
    r.signature_scheme = signer_->Scheme();
    r.public_key = signer_->PublicKey();
    r.author_id = store::LedgerAuthorId(r.signature_scheme, r.public_key);
    r.kind = kind;
    r.payload_root.fill(static_cast<uint8_t>(client_seq));
    r.prev_hash = prev;
    r.signature = signer_->Sign(store::LedgerSigningBytes(r)).value();
    last_ = r;
    return consensus::Request{LedgerStateMachine::ClientOf(r), client_seq, store::EncodeLedgerRecord(r)};
  }
  const store::LedgerRecord& last() const { return last_; }

 private:
  std::unique_ptr<store::RecordSigner> signer_;
  store::LedgerRecord last_;
};

TEST(LedgerStateMachine, Ed25519AloneIsRefusedAndHybridOnlyByPolicy) {
  // An outsider's throw-away classical key: refused, named, on every replica.
  auto sm = LedgerStateMachine::Open("").value();
  Author classical(std::move(store::Ed25519RecordSigner::Generate()).value());
  auto r = classical.Make(0, {}, 1);
  sm->Apply(1, r);
  ASSERT_FALSE(sm->Result(r.client, 1)->applied);
  EXPECT_EQ(sm->Result(r.client, 1)->error,
            "bad record: signature scheme 'ed25519' is not allowed on this ledger (consensus.ledger_signatures = "
            "ml-dsa: records are signed with ML-DSA, never Ed25519 alone)");
  EXPECT_EQ(sm->Head().size, 0u);

  auto hybrid_id = crypto::Identity::Generate(crypto::SignatureScheme::kHybrid).value();
  auto hybrid_signer = std::make_unique<store::IdentityRecordSigner>(hybrid_id);
  Author hybrid(std::move(hybrid_signer));
  auto h = hybrid.Make(0, {}, 2);
  sm->Apply(2, h);
  EXPECT_FALSE(sm->Result(h.client, 2)->applied);
  EXPECT_NE(sm->Result(h.client, 2)->error.find("signature scheme 'hybrid' is not allowed"), std::string::npos);

  LedgerSchemePolicy allow_hybrid;
  allow_hybrid.allow_hybrid = true;
  auto sm2 = LedgerStateMachine::Open("", allow_hybrid).value();
  sm2->Apply(1, h);
  EXPECT_TRUE(sm2->Result(h.client, 2)->applied) << sm2->Result(h.client, 2)->error;
  auto r2 = classical.Make(1, sm2->Head().hash, 3);
  sm2->Apply(2, r2);
  EXPECT_FALSE(sm2->Result(r2.client, 3)->applied);
  EXPECT_NE(sm2->Result(r2.client, 3)->error.find("'ed25519' is not allowed"), std::string::npos);
}

TEST(LedgerStateMachine, AppliesRecordsOnTheHeadAndRefusesStaleOrForgedOnes) {
  auto sm = LedgerStateMachine::Open("").value();
  Author a;
  auto r0 = a.Make(0, {}, 1);
  sm->Apply(1, r0);
  auto res = sm->Result(r0.client, 1);
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->applied) << res->error;
  EXPECT_EQ(sm->Head().size, 1u);
  const Digest256 h0 = sm->Head().hash;
  EXPECT_EQ(h0, store::LedgerRecordHash(a.last()));

  // Same index again (another client raced): refused as stale, state unchanged.
  auto stale = a.Make(0, {}, 2);
  sm->Apply(2, stale);
  EXPECT_FALSE(sm->Result(stale.client, 2)->applied);
  EXPECT_NE(sm->Result(stale.client, 2)->error.find("stale head"), std::string::npos);
  EXPECT_EQ(sm->Head().size, 1u);

  // A forged signature is refused.
  auto forged = a.Make(1, h0, 3);
  forged.payload[forged.payload.size() - 1] ^= 1;
  sm->Apply(3, forged);
  EXPECT_FALSE(sm->Result(forged.client, 3)->applied);
  EXPECT_NE(sm->Result(forged.client, 3)->error.find("bad record"), std::string::npos);

  // Garbage is refused, not a crash.
  consensus::Request junk{7, 1, Bytes{1, 2, 3}};
  sm->Apply(4, junk);
  EXPECT_FALSE(sm->Result(7, 1)->applied);
  EXPECT_EQ(sm->Head().size, 1u);
}

TEST(LedgerStateMachine, SnapshotRestoresAnotherReplicaAndItsFile) {
  const std::string path = TempPath("restore");
  auto a = LedgerStateMachine::Open("").value();
  Author au;
  Digest256 prev{};
  for (uint64_t i = 0; i < 5; ++i) {
    a->Apply(i + 1, au.Make(i, prev, i + 1));
    prev = a->Head().hash;
  }
  const Bytes snap = a->Snapshot();
  {
    auto b = LedgerStateMachine::Open(path).value();
    ASSERT_TRUE(b->Restore(snap).ok());
    EXPECT_EQ(b->Head().size, 5u);
    EXPECT_EQ(b->Head().hash, a->Head().hash);
    EXPECT_EQ(b->Snapshot(), snap);
  }
  auto ledger = store::Ledger::Open(path).value();
  EXPECT_TRUE(ledger->Verify()->ok);
  EXPECT_EQ(ledger->Head()->hash, a->Head().hash);

  // Malformed snapshots are errors.
  auto c = LedgerStateMachine::Open("").value();
  Bytes cut(snap.begin(), snap.end() - 3);
  EXPECT_FALSE(c->Restore(cut).ok());
  EXPECT_FALSE(c->Restore(Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).ok());
}

TEST(LedgerStateMachine, ReExecutionOverAFileThatIsAheadKeepsItAndRefusesAConflictingSnapshot) {
  const std::string path = TempPath("ahead");
  Author au;
  std::vector<consensus::Request> reqs;
  Bytes snap2;
  {
    auto sm = LedgerStateMachine::Open(path).value();
    Digest256 prev{};
    for (uint64_t i = 0; i < 4; ++i) {
      reqs.push_back(au.Make(i, prev, i + 1));
      sm->Apply(i + 1, reqs.back());
      prev = sm->Head().hash;
      if (i == 1) snap2 = sm->Snapshot();
    }
  }
  // "Crash": restart from the checkpoint after 2 records; the file has 4.
  auto sm = LedgerStateMachine::Open(path).value();
  ASSERT_TRUE(sm->Restore(snap2).ok());
  EXPECT_EQ(sm->Head().size, 2u);
  sm->Apply(3, reqs[2]);
  sm->Apply(4, reqs[3]);
  EXPECT_EQ(sm->Head().size, 4u);
  EXPECT_EQ(sm->replayed_from_disk(), 2u);
  EXPECT_EQ(sm->disk_conflicts(), 0u);

  // A snapshot of another chain does not overwrite the file.
  auto other = LedgerStateMachine::Open("").value();
  Author au2;
  other->Apply(1, au2.Make(0, {}, 1));
  Status s = sm->Restore(other->Snapshot());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

}  // namespace
}  // namespace swarm::node
