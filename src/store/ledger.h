// The ledger: an append-only, hash-chained log of signed records
// (store/ledger_record.h) in one SQLite database file.
//
//   auto ledger = Ledger::Open("ledger.db");            // creates if missing
//   auto rec = (*ledger)->Append({epoch, "update", merkle_root}, signer);
//   auto report = (*ledger)->Verify();   // first bad record and why, or ok
//
// Durability: WAL journal, synchronous=FULL; when Append returns OK the record
// is on stable storage (it survives a SIGKILL or power loss right after;
// tests/store/ledger_crash_test.cpp checks the SIGKILL case, power loss is
// not simulated).
// Append runs in one IMMEDIATE transaction (read head, insert), so several
// processes may append to one file; records are never updated or deleted.
//
// Integrity: record i stores prev_hash = hash of record i-1 (zeros for 0);
// author_id must be the peer id of (scheme, public_key) (store/signers.h:
// LedgerAuthorId, = crypto::PeerIdOf); the signature covers every field
// (LedgerSigningBytes). Verify walks all records in order and reports the
// first index where a record is missing (gap), unparsable (malformed), its
// stored hash differs from the recomputed one, its prev_hash differs from the
// previous record's hash (broken chain), its author id is not its key's peer id,
// or its signature does not verify.
//
// Signing is pluggable: a RecordSigner signs, a SignatureVerifier checks by
// scheme name. DefaultSignatureVerifier() knows the identity schemes of
// crypto/signer.h ("ml-dsa-65", "ml-dsa-87", "hybrid") and "ed25519"
// (store/signers.h; IdentityRecordSigner adapts a crypto::Identity).
//
// Errors: I/O and SQLite failures are InternalError/UnavailableError naming
// the path and the SQLite message; bad arguments are InvalidArgumentError;
// opening another application's SQLite file is FailedPreconditionError;
// Get of a missing index is NotFoundError.
// Thread-safety: a Ledger object is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "store/ledger_record.h"

struct sqlite3;

namespace swarm::store {

// Produces signatures for Append. Implementations: store/signers.h.
class RecordSigner {
 public:
  virtual ~RecordSigner() = default;
  virtual std::string Scheme() const = 0;   // recorded as signature_scheme
  virtual Bytes PublicKey() const = 0;      // recorded as public_key
  virtual StatusOr<Bytes> Sign(ByteSpan message) const = 0;
};

// OK iff `signature` is valid for `message` under (scheme, public_key);
// otherwise an error saying why (unknown scheme, bad key, bad signature).
using SignatureVerifier = std::function<Status(std::string_view scheme, ByteSpan public_key,
                                               ByteSpan message, ByteSpan signature)>;
SignatureVerifier DefaultSignatureVerifier();

// What to append; the ledger fills in index, prev_hash, author and signature.
struct LedgerEntry {
  uint64_t epoch = 0;
  std::string kind;
  Digest256 payload_root{};
};

struct LedgerHead {
  uint64_t size = 0;   // number of records; the next index
  Digest256 hash{};    // hash of the last record; zeros when empty
};

enum class LedgerFault { kNone, kGap, kMalformed, kHashMismatch, kBrokenChain, kAuthorMismatch,
                         kBadSignature };
std::string_view LedgerFaultName(LedgerFault f);  // "gap", "hash mismatch", ...

struct LedgerVerifyReport {
  bool ok = true;
  uint64_t records_checked = 0;  // records found valid before the first fault
  uint64_t first_bad_index = 0;  // meaningful when !ok
  LedgerFault fault = LedgerFault::kNone;
  std::string detail;            // human-readable why
  // "ok: 12 records" or "record 5: broken chain: prev_hash ... != ...".
  std::string ToString() const;
};

class Ledger {
 public:
  // Opens or creates the ledger at `path`. `verifier` checks signatures in
  // Verify and AppendRecord.
  static StatusOr<std::unique_ptr<Ledger>> Open(
      const std::string& path, SignatureVerifier verifier = DefaultSignatureVerifier());
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Signs and appends the next record; returns it once durable.
  StatusOr<LedgerRecord> Append(const LedgerEntry& entry, const RecordSigner& signer);
  // Appends a record made elsewhere (replication, state transfer) after
  // checking index, chain, author and signature against the current head.
  Status AppendRecord(const LedgerRecord& record);

  StatusOr<LedgerRecord> Get(uint64_t index) const;
  StatusOr<LedgerHead> Head() const;
  // Canonical bytes of record `index` as stored (for the wire).
  StatusOr<Bytes> GetEncoded(uint64_t index) const;
  // Walks the whole chain. A Status error only for I/O failures; integrity
  // faults are reported in the LedgerVerifyReport.
  StatusOr<LedgerVerifyReport> Verify() const;

  const std::string& path() const { return path_; }

 private:
  Ledger(std::string path, sqlite3* db, SignatureVerifier verifier);
  Status Exec(const char* sql) const;
  Status SqlError(const char* what) const;
  Status InsertLocked(const LedgerRecord& record, const Digest256& hash);
  Status CheckAgainstHead(const LedgerRecord& r, const LedgerHead& head) const;

  std::string path_;
  sqlite3* db_;
  SignatureVerifier verifier_;
};

}  // namespace swarm::store
