#include "store/ledger_record.h"

#include <gtest/gtest.h>

namespace swarm::store {
namespace {

LedgerRecord Sample() {
  LedgerRecord r;
  r.index = 42;
  r.author_id.fill(0xaa);
  r.epoch = 7;
  r.kind = "update";
  r.payload_root.fill(0x11);
  r.prev_hash.fill(0x22);
  r.signature_scheme = "ed25519";
  r.public_key = Bytes(32, 0x33);
  r.signature = Bytes(64, 0x44);
  return r;
}

TEST(LedgerRecord, EncodeParseRoundTrip) {
  const LedgerRecord r = Sample();
  const Bytes enc = EncodeLedgerRecord(r);
  auto back = ParseLedgerRecord(enc);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
  EXPECT_EQ(EncodeLedgerRecord(*back), enc);
  // Signing bytes are a strict prefix; the hash covers the signature too.
  const Bytes sb = LedgerSigningBytes(r);
  EXPECT_TRUE(std::equal(sb.begin(), sb.end(), enc.begin()));
  LedgerRecord r2 = r;
  r2.signature[0] ^= 1;
  EXPECT_NE(LedgerRecordHash(r), LedgerRecordHash(r2));
}

TEST(LedgerRecord, JsonAndSummaryForShow) {
  const LedgerRecord r = Sample();
  const auto j = LedgerRecordToJson(r);
  EXPECT_EQ(j["index"], 42);
  EXPECT_EQ(j["kind"], "update");
  EXPECT_EQ(j["hash"], ToHex(LedgerRecordHash(r)));
  EXPECT_EQ(j["signature_bytes"], 64);
  EXPECT_FALSE(j.contains("signature"));
  EXPECT_EQ(LedgerRecordToJson(r, true)["signature"], ToHex(r.signature));
  EXPECT_EQ(LedgerRecordSummary(r).rfind("#42 epoch 7 update root 11111111.. by aaaaaaaa.. (ed25519)", 0),
            0u)
      << LedgerRecordSummary(r);
}

TEST(LedgerRecord, EveryTruncationIsAClearError) {
  const Bytes enc = EncodeLedgerRecord(Sample());
  for (size_t n = 0; n < enc.size(); ++n) {
    auto r = ParseLedgerRecord(ByteSpan(enc).first(n));
    ASSERT_FALSE(r.ok()) << n;
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  }
  auto r = ParseLedgerRecord(ByteSpan(enc).first(20));
  EXPECT_NE(r.status().message().find("truncated in field 'author_id'"), std::string::npos)
      << r.status();
}

TEST(LedgerRecord, BadFieldsNameTheField) {
  Bytes enc = EncodeLedgerRecord(Sample());
  Bytes trailing = enc;
  trailing.push_back(0);
  EXPECT_NE(ParseLedgerRecord(trailing).status().message().find("1 trailing bytes"),
            std::string::npos);
  Bytes bad_magic = enc;
  bad_magic[0] = 'X';
  EXPECT_NE(ParseLedgerRecord(bad_magic).status().message().find("bad magic"), std::string::npos);
  Bytes bad_version = enc;
  bad_version[4] = 9;
  EXPECT_NE(ParseLedgerRecord(bad_version).status().message().find("unsupported version 9"),
            std::string::npos);
  // kind length (offset 4+1+8+32+8 = 53) set to 0xffff.
  Bytes long_kind = enc;
  long_kind[53] = 0xff;
  long_kind[54] = 0xff;
  auto st = ParseLedgerRecord(long_kind).status();
  EXPECT_NE(st.message().find("field 'kind' has length 65535"), std::string::npos) << st;
  // A space inside kind.
  Bytes space = enc;
  space[55] = ' ';
  st = ParseLedgerRecord(space).status();
  EXPECT_NE(st.message().find("'kind' has a non-printable or space byte"), std::string::npos) << st;
  LedgerRecord r = Sample();
  r.public_key.clear();
  EXPECT_NE(ValidateLedgerFields(r).message().find("'public_key' must be 1.."), std::string::npos);
}

}  // namespace
}  // namespace swarm::store
