#include "store/ledger.h"

#include "store/signers.h"

#include <sqlite3.h>

#include <openssl/crypto.h>

#include <utility>

namespace swarm::store {
namespace {

constexpr int kBusyTimeoutMs = 10000;

const char* const kSchema =
    "CREATE TABLE IF NOT EXISTS ledger_records("
    "  idx INTEGER PRIMARY KEY NOT NULL,"
    "  record BLOB NOT NULL,"        // canonical encoding (ledger_record.h)
    "  record_hash BLOB NOT NULL);"  // SHA3-256(record)
    "CREATE TABLE IF NOT EXISTS ledger_meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
    "INSERT OR IGNORE INTO ledger_meta(key, value) VALUES ('format', 'swarm-ledger-v1');";

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

bool SameHash(const Digest256& a, ByteSpan b) {
  return b.size() == a.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

ByteSpan ColumnBlob(sqlite3_stmt* s, int col) {
  const void* p = sqlite3_column_blob(s, col);
  const int n = sqlite3_column_bytes(s, col);
  if (p == nullptr || n <= 0) return {};
  return {static_cast<const uint8_t*>(p), static_cast<size_t>(n)};
}

LedgerVerifyReport Fault(uint64_t index, uint64_t checked, LedgerFault f, std::string detail) {
  LedgerVerifyReport r;
  r.ok = false;
  r.first_bad_index = index;
  r.records_checked = checked;
  r.fault = f;
  r.detail = std::move(detail);
  return r;
}

std::string ShortHex(ByteSpan h) { return ToHex(h.first(std::min<size_t>(h.size(), 8))); }

}  // namespace

std::string_view LedgerFaultName(LedgerFault f) {
  switch (f) {
    case LedgerFault::kNone: return "none";
    case LedgerFault::kGap: return "gap";
    case LedgerFault::kMalformed: return "malformed record";
    case LedgerFault::kHashMismatch: return "hash mismatch";
    case LedgerFault::kBrokenChain: return "broken chain";
    case LedgerFault::kAuthorMismatch: return "author mismatch";
    case LedgerFault::kBadSignature: return "bad signature";
  }
  return "unknown";
}

std::string LedgerVerifyReport::ToString() const {
  if (ok) return absl::StrCat("ok: ", records_checked, " records verified");
  return absl::StrCat("record ", first_bad_index, ": ", std::string(LedgerFaultName(fault)), ": ",
                      detail, " (", records_checked, " records before it verified)");
}

Ledger::Ledger(std::string path, sqlite3* db, SignatureVerifier verifier)
    : path_(std::move(path)), db_(db), verifier_(std::move(verifier)) {}

Ledger::~Ledger() { sqlite3_close(db_); }

Status Ledger::SqlError(const char* what) const {
  return absl::InternalError(
      absl::StrCat("ledger ", path_, ": ", what, ": ", sqlite3_errmsg(db_)));
}

Status Ledger::Exec(const char* sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    Status s = absl::InternalError(absl::StrCat("ledger ", path_, ": ", sql, ": ",
                                                err ? err : sqlite3_errmsg(db_)));
    sqlite3_free(err);
    return s;
  }
  return absl::OkStatus();
}

StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const std::string& path,
                                               SignatureVerifier verifier) {
  if (path.empty()) return absl::InvalidArgumentError("ledger path is empty");
  if (!verifier) return absl::InvalidArgumentError("ledger needs a signature verifier");
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot open ledger '", path, "': ", msg));
  }
  std::unique_ptr<Ledger> ledger(new Ledger(path, db, std::move(verifier)));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // WAL + synchronous=FULL: a committed append is fsynced before COMMIT returns.
  SWARM_RETURN_IF_ERROR(ledger->Exec("PRAGMA journal_mode=WAL"));
  SWARM_RETURN_IF_ERROR(ledger->Exec("PRAGMA synchronous=FULL"));
  {
    // Refuse to add ledger tables to some other application's database.
    Stmt t(db,
           "SELECT sum(name = 'ledger_meta'), sum(name NOT IN ('ledger_meta', 'ledger_records')) "
           "FROM sqlite_master WHERE type = 'table'");
    if (!t.ok() || sqlite3_step(t.get()) != SQLITE_ROW) return ledger->SqlError("read schema");
    if (sqlite3_column_int64(t.get(), 0) == 0 && sqlite3_column_int64(t.get(), 1) > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "'", path, "' is an SQLite database of something else, not a swarm ledger"));
    }
  }
  SWARM_RETURN_IF_ERROR(ledger->Exec(kSchema));
  Stmt fmt(db, "SELECT value FROM ledger_meta WHERE key = 'format'");
  if (!fmt.ok() || sqlite3_step(fmt.get()) != SQLITE_ROW) return ledger->SqlError("read format");
  const auto* v = reinterpret_cast<const char*>(sqlite3_column_text(fmt.get(), 0));
  if (v == nullptr || std::string(v) != "swarm-ledger-v1") {
    return absl::FailedPreconditionError(absl::StrCat(
        "ledger '", path, "' has format '", v ? v : "", "', expected 'swarm-ledger-v1'"));
  }
  return ledger;
}

StatusOr<LedgerHead> Ledger::Head() const {
  Stmt s(db_, "SELECT idx, record_hash FROM ledger_records ORDER BY idx DESC LIMIT 1");
  if (!s.ok()) return SqlError("prepare head");
  const int rc = sqlite3_step(s.get());
  LedgerHead head;
  if (rc == SQLITE_DONE) return head;
  if (rc != SQLITE_ROW) return SqlError("read head");
  head.size = static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0)) + 1;
  const ByteSpan h = ColumnBlob(s.get(), 1);
  if (h.size() != head.hash.size()) {
    return absl::DataLossError(absl::StrCat("ledger ", path_, ": record ", head.size - 1,
                                            " has a stored hash of ", h.size(), " bytes"));
  }
  std::copy(h.begin(), h.end(), head.hash.begin());
  return head;
}

StatusOr<Bytes> Ledger::GetEncoded(uint64_t index) const {
  if (index > static_cast<uint64_t>(INT64_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat("ledger index ", index, " is out of range"));
  }
  Stmt s(db_, "SELECT record FROM ledger_records WHERE idx = ?");
  if (!s.ok()) return SqlError("prepare get");
  sqlite3_bind_int64(s.get(), 1, static_cast<int64_t>(index));
  const int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) {
    SWARM_ASSIGN_OR_RETURN(LedgerHead head, Head());
    return absl::NotFoundError(
        absl::StrCat("ledger ", path_, " has no record ", index, " (size ", head.size, ")"));
  }
  if (rc != SQLITE_ROW) return SqlError("read record");
  const ByteSpan b = ColumnBlob(s.get(), 0);
  return Bytes(b.begin(), b.end());
}

StatusOr<LedgerRecord> Ledger::Get(uint64_t index) const {
  SWARM_ASSIGN_OR_RETURN(Bytes b, GetEncoded(index));
  auto r = ParseLedgerRecord(b);
  if (!r.ok()) {
    return absl::DataLossError(absl::StrCat("ledger ", path_, " record ", index,
                                            " is corrupt: ", r.status().message()));
  }
  return r;
}

Status Ledger::CheckAgainstHead(const LedgerRecord& r, const LedgerHead& head) const {
  SWARM_RETURN_IF_ERROR(ValidateLedgerFields(r));
  if (r.index != head.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("record index ", r.index, " is not the next index ", head.size));
  }
  if (r.prev_hash != head.hash) {
    return absl::InvalidArgumentError(absl::StrCat("record ", r.index, " prev_hash ",
                                                   ShortHex(r.prev_hash), "... != head hash ",
                                                   ShortHex(head.hash), "..."));
  }
  if (r.author_id != LedgerAuthorId(r.signature_scheme, r.public_key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("record ", r.index, " author_id is not the peer id of its scheme and public key"));
  }
  const Status sig =
      verifier_(r.signature_scheme, r.public_key, LedgerSigningBytes(r), r.signature);
  if (!sig.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("record ", r.index, " signature rejected: ", sig.message()));
  }
  return absl::OkStatus();
}

Status Ledger::InsertLocked(const LedgerRecord& record, const Digest256& hash) {
  const Bytes enc = EncodeLedgerRecord(record);
  Stmt s(db_, "INSERT INTO ledger_records(idx, record, record_hash) VALUES (?, ?, ?)");
  if (!s.ok()) return SqlError("prepare insert");
  sqlite3_bind_int64(s.get(), 1, static_cast<int64_t>(record.index));
  sqlite3_bind_blob(s.get(), 2, enc.data(), static_cast<int>(enc.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(s.get(), 3, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(s.get()) != SQLITE_DONE) return SqlError("insert record");
  return absl::OkStatus();
}

StatusOr<LedgerRecord> Ledger::Append(const LedgerEntry& entry, const RecordSigner& signer) {
  LedgerRecord r;
  r.epoch = entry.epoch;
  r.kind = entry.kind;
  r.payload_root = entry.payload_root;
  r.signature_scheme = signer.Scheme();
  r.public_key = signer.PublicKey();
  r.author_id = LedgerAuthorId(r.signature_scheme, r.public_key);
  r.signature = Bytes(1);  // placeholder so field validation can run before signing
  SWARM_RETURN_IF_ERROR(ValidateLedgerFields(r));

  SWARM_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    SWARM_ASSIGN_OR_RETURN(LedgerHead head, Head());
    r.index = head.size;
    r.prev_hash = head.hash;
    SWARM_ASSIGN_OR_RETURN(r.signature, signer.Sign(LedgerSigningBytes(r)));
    SWARM_RETURN_IF_ERROR(ValidateLedgerFields(r));
    SWARM_RETURN_IF_ERROR(InsertLocked(r, LedgerRecordHash(r)));
    return Exec("COMMIT");
  };
  Status st = body();
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return r;
}

Status Ledger::AppendRecord(const LedgerRecord& record) {
  SWARM_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    SWARM_ASSIGN_OR_RETURN(LedgerHead head, Head());
    SWARM_RETURN_IF_ERROR(CheckAgainstHead(record, head));
    SWARM_RETURN_IF_ERROR(InsertLocked(record, LedgerRecordHash(record)));
    return Exec("COMMIT");
  };
  Status st = body();
  if (!st.ok()) (void)Exec("ROLLBACK");
  return st;
}

StatusOr<LedgerVerifyReport> Ledger::Verify() const {
  // One read transaction: a consistent snapshot even while others append.
  SWARM_RETURN_IF_ERROR(Exec("BEGIN"));
  struct EndTxn {
    const Ledger* l;
    ~EndTxn() { (void)l->Exec("COMMIT"); }
  } end{this};
  Stmt s(db_, "SELECT idx, record, record_hash FROM ledger_records ORDER BY idx");
  if (!s.ok()) return SqlError("prepare verify");
  uint64_t expected = 0;
  Digest256 prev{};
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const int64_t idx = sqlite3_column_int64(s.get(), 0);
    if (idx < 0 || static_cast<uint64_t>(idx) != expected) {
      return Fault(expected, expected, LedgerFault::kGap,
                   absl::StrCat("record ", expected, " is missing; the next stored record is ",
                                idx));
    }
    const ByteSpan blob = ColumnBlob(s.get(), 1);
    const ByteSpan stored_hash = ColumnBlob(s.get(), 2);
    auto rec = ParseLedgerRecord(blob);
    if (!rec.ok()) {
      return Fault(expected, expected, LedgerFault::kMalformed, std::string(rec.status().message()));
    }
    if (rec->index != expected) {
      return Fault(expected, expected, LedgerFault::kMalformed,
                   absl::StrCat("record stored at index ", expected, " says index ", rec->index));
    }
    const Digest256 hash = crypto::Sha3_256(blob);
    if (!SameHash(hash, stored_hash)) {
      return Fault(expected, expected, LedgerFault::kHashMismatch,
                   absl::StrCat("SHA3-256 of the record is ", ShortHex(hash),
                                "..., the stored hash is ", ShortHex(stored_hash), "..."));
    }
    if (rec->prev_hash != prev) {
      return Fault(expected, expected, LedgerFault::kBrokenChain,
                   absl::StrCat("prev_hash ", ShortHex(rec->prev_hash),
                                "... != hash of the previous record ", ShortHex(prev), "..."));
    }
    if (rec->author_id != LedgerAuthorId(rec->signature_scheme, rec->public_key)) {
      return Fault(expected, expected, LedgerFault::kAuthorMismatch,
                   absl::StrCat("author_id ", ShortHex(rec->author_id),
                                "... is not the peer id of the record's scheme and public key"));
    }
    const Status sig = verifier_(rec->signature_scheme, rec->public_key, LedgerSigningBytes(*rec),
                                 rec->signature);
    if (!sig.ok()) {
      return Fault(expected, expected, LedgerFault::kBadSignature, std::string(sig.message()));
    }
    prev = hash;
    ++expected;
  }
  if (rc != SQLITE_DONE) return SqlError("read records");
  LedgerVerifyReport ok;
  ok.records_checked = expected;
  return ok;
}

}  // namespace swarm::store
