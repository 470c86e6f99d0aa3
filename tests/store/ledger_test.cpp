#include "store/ledger.h"

#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "crypto/merkle.h"
#include "store/signers.h"

namespace swarm::store {
namespace {

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("swarm_ledger_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "ledger.db").string();
    auto s = Ed25519RecordSigner::FromSeed(Bytes(32, 5));
    ASSERT_TRUE(s.ok());
    signer_ = std::move(*s);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Ledger> OpenLedger() {
    auto l = Ledger::Open(path_);
    SWARM_ASSERT(l.ok());
    return std::move(*l);
  }

  void AppendN(Ledger& l, int n, const RecordSigner& signer) {
    for (int i = 0; i < n; ++i) {
      const std::string payload = "update " + std::to_string(i);
      auto root = crypto::MerkleRootOfBlob(AsBytes(payload), 4);
      auto r = l.Append({static_cast<uint64_t>(i / 3), "update", *root}, signer);
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }

  // Runs SQL directly on the database file (the tamperer).
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_close(db);
  }

  // Rewrites record `idx` through `edit`, optionally fixing its stored hash.
  void Rewrite(uint64_t idx, const std::function<void(LedgerRecord&)>& edit, bool fix_hash) {
    auto l = OpenLedger();
    auto r = l->Get(idx);
    ASSERT_TRUE(r.ok());
    edit(*r);
    const Bytes enc = EncodeLedgerRecord(*r);
    std::string sql = "UPDATE ledger_records SET record = X'" + ToHex(enc) + "'";
    if (fix_hash) sql += ", record_hash = X'" + ToHex(LedgerRecordHash(*r)) + "'";
    l.reset();
    Sql(sql + " WHERE idx = " + std::to_string(idx));
  }

  LedgerVerifyReport VerifyFresh() {
    auto report = OpenLedger()->Verify();
    SWARM_ASSERT(report.ok());
    return *report;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Ed25519RecordSigner> signer_;
};

TEST_F(LedgerTest, AppendGetHeadVerifyAndReopen) {
  {
    auto l = OpenLedger();
    auto head = l->Head();
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->size, 0u);
    AppendN(*l, 10, *signer_);
    head = l->Head();
    EXPECT_EQ(head->size, 10u);
    auto last = l->Get(9);
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(head->hash, LedgerRecordHash(*last));
    for (uint64_t i = 1; i < 10; ++i) {
      EXPECT_EQ(l->Get(i)->prev_hash, LedgerRecordHash(*l->Get(i - 1)));
    }
    EXPECT_EQ(l->Get(0)->prev_hash, Digest256{});
    EXPECT_EQ(last->author_id, LedgerAuthorId("ed25519", signer_->PublicKey()));
    EXPECT_EQ(last->signature_scheme, "ed25519");
    auto missing = l->Get(10);
    EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
    EXPECT_NE(missing.status().message().find("no record 10 (size 10)"), std::string::npos);
    auto enc = l->GetEncoded(3);
    ASSERT_TRUE(enc.ok());
    EXPECT_EQ(*ParseLedgerRecord(*enc), *l->Get(3));
  }
  {
    // WAL mode is a property of the file: a fresh connection sees it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  auto l = OpenLedger();  // reopened: everything persisted
  auto report = l->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->ToString();
  EXPECT_EQ(report->records_checked, 10u);
  AppendN(*l, 2, *signer_);
  EXPECT_EQ(l->Head()->size, 12u);
}

TEST_F(LedgerTest, TamperedPayloadGivesHashMismatchAtThatRecord) {
  AppendN(*OpenLedger(), 8, *signer_);
  Rewrite(5, [](LedgerRecord& r) { r.payload_root[0] ^= 1; }, /*fix_hash=*/false);
  const auto report = VerifyFresh();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_index, 5u);
  EXPECT_EQ(report.fault, LedgerFault::kHashMismatch) << report.ToString();
  EXPECT_NE(report.ToString().find("record 5: hash mismatch"), std::string::npos)
      << report.ToString();
}

TEST_F(LedgerTest, TamperedRecordWithRecomputedHashFailsItsSignature) {
  AppendN(*OpenLedger(), 8, *signer_);
  Rewrite(3, [](LedgerRecord& r) { r.kind = "forged"; }, /*fix_hash=*/true);
  const auto report = VerifyFresh();
  EXPECT_EQ(report.first_bad_index, 3u) << report.ToString();
  EXPECT_EQ(report.fault, LedgerFault::kBadSignature) << report.ToString();
}

TEST_F(LedgerTest, RewrittenAndReSignedRecordBreaksTheChainAtTheNext) {
  // Even the key holder cannot rewrite history: record 4 still links to the old 3.
  AppendN(*OpenLedger(), 8, *signer_);
  Rewrite(
      3,
      [&](LedgerRecord& r) {
        r.kind = "forged";
        r.signature = *signer_->Sign(LedgerSigningBytes(r));
      },
      /*fix_hash=*/true);
  const auto report = VerifyFresh();
  EXPECT_EQ(report.first_bad_index, 4u) << report.ToString();
  EXPECT_EQ(report.fault, LedgerFault::kBrokenChain) << report.ToString();
  EXPECT_EQ(report.records_checked, 4u);
}

TEST_F(LedgerTest, ReSignedRecordWithWrongPrevHashIsABrokenChain) {
  AppendN(*OpenLedger(), 5, *signer_);
  Rewrite(
      2,
      [&](LedgerRecord& r) {
        r.prev_hash[7] ^= 0x40;
        r.signature = *signer_->Sign(LedgerSigningBytes(r));
      },
      /*fix_hash=*/true);
  const auto report = VerifyFresh();
  EXPECT_EQ(report.first_bad_index, 2u) << report.ToString();
  EXPECT_EQ(report.fault, LedgerFault::kBrokenChain) << report.ToString();
}

TEST_F(LedgerTest, TamperedLastRecordFailsItsSignature) {
  AppendN(*OpenLedger(), 6, *signer_);
  Rewrite(5, [](LedgerRecord& r) { r.epoch += 100; }, /*fix_hash=*/true);
  const auto report = VerifyFresh();
  EXPECT_EQ(report.first_bad_index, 5u) << report.ToString();
  EXPECT_EQ(report.fault, LedgerFault::kBadSignature) << report.ToString();
}

TEST_F(LedgerTest, DeletedRecordIsAGap) {
  AppendN(*OpenLedger(), 6, *signer_);
  Sql("DELETE FROM ledger_records WHERE idx = 2");
  const auto report = VerifyFresh();
  EXPECT_EQ(report.first_bad_index, 2u);
  EXPECT_EQ(report.fault, LedgerFault::kGap) << report.ToString();
  EXPECT_EQ(report.records_checked, 2u);
}

TEST_F(LedgerTest, GarbageRecordIsMalformed) {
  AppendN(*OpenLedger(), 4, *signer_);
  Sql("UPDATE ledger_records SET record = X'0102' WHERE idx = 1");
  const auto report = VerifyFresh();
  EXPECT_EQ(report.first_bad_index, 1u);
  EXPECT_EQ(report.fault, LedgerFault::kMalformed) << report.ToString();
}

TEST_F(LedgerTest, ForeignKeyUnderSomeoneElsesAuthorIdIsAuthorMismatch) {
  AppendN(*OpenLedger(), 3, *signer_);
  auto other = Ed25519RecordSigner::FromSeed(Bytes(32, 6));
  ASSERT_TRUE(other.ok());
  // Record 2 re-signed by another key but still claiming the first author.
  Rewrite(
      2,
      [&](LedgerRecord& r) {
        r.public_key = (*other)->PublicKey();
        r.signature = *(*other)->Sign(LedgerSigningBytes(r));
      },
      /*fix_hash=*/true);
  const auto report = VerifyFresh();
  EXPECT_EQ(report.first_bad_index, 2u);
  EXPECT_EQ(report.fault, LedgerFault::kAuthorMismatch) << report.ToString();
}

TEST_F(LedgerTest, AppendRecordChecksIndexChainAuthorAndSignature) {
  auto src = OpenLedger();
  AppendN(*src, 3, *signer_);
  const std::string other_path = (dir_ / "replica.db").string();
  auto dst = Ledger::Open(other_path);
  ASSERT_TRUE(dst.ok());
  // Out of order: record 1 before record 0.
  auto st = (*dst)->AppendRecord(*src->Get(1));
  EXPECT_NE(st.message().find("is not the next index 0"), std::string::npos) << st;
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE((*dst)->AppendRecord(*src->Get(i)).ok());
  EXPECT_EQ((*dst)->Head()->hash, src->Head()->hash);
  AppendN(*src, 1, *signer_);
  LedgerRecord next = *src->Get(3);
  LedgerRecord forged = next;
  forged.epoch = 999;
  st = (*dst)->AppendRecord(forged);
  EXPECT_NE(st.message().find("signature rejected"), std::string::npos) << st;
  LedgerRecord bad_prev = next;
  bad_prev.prev_hash[0] ^= 1;
  EXPECT_FALSE((*dst)->AppendRecord(bad_prev).ok());
  EXPECT_TRUE((*dst)->AppendRecord(next).ok());
  EXPECT_TRUE((*(*dst)->Verify()).ok);
}

TEST_F(LedgerTest, RealMlDsa65IdentitySignatures) {
  auto id = crypto::Identity::Generate(crypto::SignatureScheme::kMlDsa65);
  ASSERT_TRUE(id.ok()) << id.status();
  IdentityRecordSigner ml(*id);
  EXPECT_EQ(ml.Scheme(), "ml-dsa-65");
  auto l = OpenLedger();
  AppendN(*l, 2, *signer_);  // Ed25519 and ML-DSA authors mixed in one chain
  AppendN(*l, 3, ml);
  auto report = l->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->ToString();
  auto rec = l->Get(4);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->signature.size(), crypto::SchemeSizesOf(crypto::SignatureScheme::kMlDsa65).signature);
  // The ledger's author id is the identity's peer id.
  EXPECT_EQ(rec->author_id, id->peer_id());
  l.reset();
  Rewrite(4, [](LedgerRecord& r) { r.signature[100] ^= 1; }, /*fix_hash=*/true);
  const auto bad = VerifyFresh();
  EXPECT_EQ(bad.first_bad_index, 4u);
  EXPECT_EQ(bad.fault, LedgerFault::kBadSignature) << bad.ToString();
}

TEST_F(LedgerTest, HybridIdentitySignatures) {
  auto id = crypto::Identity::Generate(crypto::SignatureScheme::kHybrid);
  ASSERT_TRUE(id.ok()) << id.status();
  IdentityRecordSigner hybrid(*id);
  auto l = OpenLedger();
  AppendN(*l, 2, hybrid);
  auto report = l->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->ToString();
  EXPECT_EQ(l->Get(1)->signature_scheme, "hybrid");
}

TEST_F(LedgerTest, BadInputsAreClearErrors) {
  auto l = OpenLedger();
  auto r = l->Append({0, "has space", crypto::MerkleEmptyRoot()}, *signer_);
  EXPECT_NE(r.status().message().find("'kind'"), std::string::npos) << r.status();
  r = l->Append({0, std::string(65, 'k'), crypto::MerkleEmptyRoot()}, *signer_);
  EXPECT_NE(r.status().message().find("must be 1..64 bytes, got 65"), std::string::npos);
  EXPECT_EQ(l->Head()->size, 0u);  // nothing half-appended
  std::ofstream(dir_ / "junk.db") << "this is not a database, just text that is long enough....";
  auto bad = Ledger::Open((dir_ / "junk.db").string());
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("junk.db"), std::string::npos) << bad.status();
  EXPECT_FALSE(Ledger::Open((dir_ / "no_such_dir" / "x.db").string()).ok());
  {
    const std::string other = (dir_ / "other.db").string();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE users(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto foreign = Ledger::Open(other);
    EXPECT_NE(foreign.status().message().find("not a swarm ledger"), std::string::npos)
        << foreign.status();
  }
  auto unknown = DefaultSignatureVerifier()("rsa", Bytes(1), Bytes(1), Bytes(1));
  EXPECT_FALSE(DefaultSignatureVerifier()("ML-DSA-65", Bytes(1), Bytes(1), Bytes(1)).ok());
  EXPECT_NE(unknown.message().find("unknown signature scheme 'rsa'"), std::string::npos);
}

}  // namespace
}  // namespace swarm::store
