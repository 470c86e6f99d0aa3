// One record of the hash-chained ledger and its canonical byte encoding.
//
// A record says: author `author_id` (the peer id of signature_scheme and
// public_key, store/signers.h LedgerAuthorId), in `epoch`,
// committed `payload_root` (the Merkle root of the payload, crypto/merkle.h)
// under the label `kind`; it is record number `index` and follows the record
// whose hash is `prev_hash` (all zeros for index 0); `signature` by
// `public_key` under `signature_scheme` covers every other field.
//
// Canonical encoding (all integers big-endian), version 1:
//   "SWLR" 0x01 | index u64 | author_id 32 | epoch u64 | kind_len u16 | kind
//   | payload_root 32 | prev_hash 32 | scheme_len u16 | scheme
//   | public_key_len u32 | public_key                  <- signed bytes end here
//   | signature_len u32 | signature
// record hash = SHA3-256(canonical encoding).
//
// ParseLedgerRecord is the decoder for bytes from peers and disk: every length
// is checked against the named limits below before anything is read, and a
// bad magic, version, truncation, over-long field, bad character or trailing
// bytes is an InvalidArgumentError naming the field, offset and value.
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/hash.h"

namespace swarm::store {

using crypto::Digest256;

constexpr size_t kLedgerKindBytesMax = 64;
constexpr size_t kLedgerSchemeBytesMax = 32;
constexpr size_t kLedgerPublicKeyBytesMax = 8192;
constexpr size_t kLedgerSignatureBytesMax = 16384;
constexpr uint8_t kLedgerRecordVersion = 1;

struct LedgerRecord {
  uint64_t index = 0;
  Digest256 author_id{};
  uint64_t epoch = 0;
  std::string kind;  // 1..64 printable ASCII characters, no spaces
  Digest256 payload_root{};
  Digest256 prev_hash{};
  std::string signature_scheme;  // 1..32 printable ASCII, e.g. "ml-dsa-65", "hybrid", "ed25519"
  Bytes public_key;
  Bytes signature;

  bool operator==(const LedgerRecord&) const = default;
};

// The bytes the signature covers (the encoding up to and including public_key).
Bytes LedgerSigningBytes(const LedgerRecord& r);
// The whole canonical encoding.
Bytes EncodeLedgerRecord(const LedgerRecord& r);
Digest256 LedgerRecordHash(const LedgerRecord& r);
StatusOr<LedgerRecord> ParseLedgerRecord(ByteSpan bytes);
// Field limits and character set (also used before encoding/appending).
Status ValidateLedgerFields(const LedgerRecord& r);

// For `swarm ledger show`: {"index", "hash", "author_id", "epoch", "kind",
// "payload_root", "prev_hash", "signature_scheme", "public_key_bytes",
// "signature_bytes"} with hashes in lower-case hex (keys and signatures are
// summarised by length; `full` adds "public_key" and "signature" hex).
nlohmann::json LedgerRecordToJson(const LedgerRecord& r, bool full = false);
// One line: "#12 epoch 3 update root 1a2b3c4d.. by 9f8e7d6c.. (ml-dsa-65) hash 0a1b2c3d..".
std::string LedgerRecordSummary(const LedgerRecord& r);

}  // namespace swarm::store
