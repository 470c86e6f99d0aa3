#include "store/ledger_record.h"

namespace swarm::store {
namespace {

constexpr char kMagic[4] = {'S', 'W', 'L', 'R'};

void PutU16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void PutU32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
void PutU64(Bytes& b, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}
void PutBytes(Bytes& b, ByteSpan s) { b.insert(b.end(), s.begin(), s.end()); }

Status CheckText(const char* field, const std::string& s, size_t max) {
  if (s.empty() || s.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat("ledger record field '", field, "' must be 1..",
                                                   max, " bytes, got ", s.size()));
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat("ledger record field '", field, "' has a non-printable or space byte 0x",
                       absl::Hex(c), " at position ", i));
    }
  }
  return absl::OkStatus();
}

Status CheckBlob(const char* field, size_t size, size_t max) {
  if (size == 0 || size > max) {
    return absl::InvalidArgumentError(absl::StrCat("ledger record field '", field, "' must be 1..",
                                                   max, " bytes, got ", size));
  }
  return absl::OkStatus();
}

// Bounds-checked reader; every error names the field and offset.
class Reader {
 public:
  explicit Reader(ByteSpan b) : b_(b) {}
  Status Need(const char* field, size_t n) const {
    if (b_.size() - pos_ >= n) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("ledger record truncated in field '", field,
                                                   "' at offset ", pos_, ": need ", n,
                                                   " bytes, have ", b_.size() - pos_));
  }
  StatusOr<uint64_t> Uint(const char* field, int bytes) {
    SWARM_RETURN_IF_ERROR(Need(field, static_cast<size_t>(bytes)));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | b_[pos_++];
    return v;
  }
  StatusOr<ByteSpan> Take(const char* field, size_t n) {
    SWARM_RETURN_IF_ERROR(Need(field, n));
    ByteSpan s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  // A length prefix of `len_bytes`, checked against [1, max], then the bytes.
  StatusOr<ByteSpan> Sized(const char* field, int len_bytes, size_t max) {
    const size_t at = pos_;
    SWARM_ASSIGN_OR_RETURN(uint64_t len, Uint(field, len_bytes));
    if (len == 0 || len > max) {
      return absl::InvalidArgumentError(absl::StrCat("ledger record field '", field,
                                                     "' has length ", len, " at offset ", at,
                                                     "; allowed 1..", max));
    }
    return Take(field, static_cast<size_t>(len));
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return b_.size() - pos_; }

 private:
  ByteSpan b_;
  size_t pos_ = 0;
};

}  // namespace

Status ValidateLedgerFields(const LedgerRecord& r) {
  SWARM_RETURN_IF_ERROR(CheckText("kind", r.kind, kLedgerKindBytesMax));
  SWARM_RETURN_IF_ERROR(CheckText("signature_scheme", r.signature_scheme, kLedgerSchemeBytesMax));
  SWARM_RETURN_IF_ERROR(CheckBlob("public_key", r.public_key.size(), kLedgerPublicKeyBytesMax));
  return CheckBlob("signature", r.signature.size(), kLedgerSignatureBytesMax);
}

Bytes LedgerSigningBytes(const LedgerRecord& r) {
  Bytes b;
  b.reserve(200 + r.public_key.size() + r.signature.size());
  PutBytes(b, AsBytes(std::string_view(kMagic, 4)));
  b.push_back(kLedgerRecordVersion);
  PutU64(b, r.index);
  PutBytes(b, r.author_id);
  PutU64(b, r.epoch);
  PutU16(b, static_cast<uint16_t>(r.kind.size()));
  PutBytes(b, AsBytes(r.kind));
  PutBytes(b, r.payload_root);
  PutBytes(b, r.prev_hash);
  PutU16(b, static_cast<uint16_t>(r.signature_scheme.size()));
  PutBytes(b, AsBytes(r.signature_scheme));
  PutU32(b, static_cast<uint32_t>(r.public_key.size()));
  PutBytes(b, r.public_key);
  return b;
}

Bytes EncodeLedgerRecord(const LedgerRecord& r) {
  Bytes b = LedgerSigningBytes(r);
  PutU32(b, static_cast<uint32_t>(r.signature.size()));
  PutBytes(b, r.signature);
  return b;
}

Digest256 LedgerRecordHash(const LedgerRecord& r) { return crypto::Sha3_256(EncodeLedgerRecord(r)); }

StatusOr<LedgerRecord> ParseLedgerRecord(ByteSpan bytes) {
  Reader rd(bytes);
  SWARM_ASSIGN_OR_RETURN(ByteSpan magic, rd.Take("magic", 4));
  if (!std::equal(magic.begin(), magic.end(), kMagic)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ledger record: bad magic ", ToHex(magic), " (expected 53574c52 \"SWLR\")"));
  }
  SWARM_ASSIGN_OR_RETURN(uint64_t version, rd.Uint("version", 1));
  if (version != kLedgerRecordVersion) {
    return absl::InvalidArgumentError(absl::StrCat("ledger record: unsupported version ", version,
                                                   " (supported: ", kLedgerRecordVersion, ")"));
  }
  LedgerRecord r;
  SWARM_ASSIGN_OR_RETURN(r.index, rd.Uint("index", 8));
  SWARM_ASSIGN_OR_RETURN(ByteSpan author, rd.Take("author_id", 32));
  std::copy(author.begin(), author.end(), r.author_id.begin());
  SWARM_ASSIGN_OR_RETURN(r.epoch, rd.Uint("epoch", 8));
  SWARM_ASSIGN_OR_RETURN(ByteSpan kind, rd.Sized("kind", 2, kLedgerKindBytesMax));
  r.kind.assign(kind.begin(), kind.end());
  SWARM_ASSIGN_OR_RETURN(ByteSpan root, rd.Take("payload_root", 32));
  std::copy(root.begin(), root.end(), r.payload_root.begin());
  SWARM_ASSIGN_OR_RETURN(ByteSpan prev, rd.Take("prev_hash", 32));
  std::copy(prev.begin(), prev.end(), r.prev_hash.begin());
  SWARM_ASSIGN_OR_RETURN(ByteSpan scheme, rd.Sized("signature_scheme", 2, kLedgerSchemeBytesMax));
  r.signature_scheme.assign(scheme.begin(), scheme.end());
  SWARM_ASSIGN_OR_RETURN(ByteSpan pk, rd.Sized("public_key", 4, kLedgerPublicKeyBytesMax));
  r.public_key.assign(pk.begin(), pk.end());
  SWARM_ASSIGN_OR_RETURN(ByteSpan sig, rd.Sized("signature", 4, kLedgerSignatureBytesMax));
  r.signature.assign(sig.begin(), sig.end());
  if (rd.remaining() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("ledger record: ", rd.remaining(),
                                                   " trailing bytes after the signature at offset ",
                                                   rd.pos()));
  }
  SWARM_RETURN_IF_ERROR(ValidateLedgerFields(r));
  return r;
}

nlohmann::json LedgerRecordToJson(const LedgerRecord& r, bool full) {
  nlohmann::json j = {{"index", r.index},
                      {"hash", ToHex(LedgerRecordHash(r))},
                      {"author_id", ToHex(r.author_id)},
                      {"epoch", r.epoch},
                      {"kind", r.kind},
                      {"payload_root", ToHex(r.payload_root)},
                      {"prev_hash", ToHex(r.prev_hash)},
                      {"signature_scheme", r.signature_scheme},
                      {"public_key_bytes", r.public_key.size()},
                      {"signature_bytes", r.signature.size()}};
  if (full) {
    j["public_key"] = ToHex(r.public_key);
    j["signature"] = ToHex(r.signature);
  }
  return j;
}

std::string LedgerRecordSummary(const LedgerRecord& r) {
  auto short_hex = [](ByteSpan b) { return ToHex(b.first(4)) + ".."; };
  return absl::StrCat("#", r.index, " epoch ", r.epoch, " ", r.kind, " root ",
                      short_hex(r.payload_root), " by ", short_hex(r.author_id), " (",
                      r.signature_scheme, ") hash ", short_hex(LedgerRecordHash(r)));
}

}  // namespace swarm::store
