// The manifest codec: round trip, canonical form, and every refusal the
// header promises (each naming its reason).
#include <gtest/gtest.h>

#include "chunks/chunk.h"
#include "chunks/manifest.h"

namespace swarm::chunks {
namespace {

ChunkEntry Entry(uint8_t tag, uint32_t size) {
  const Bytes raw(size, tag);
  return {ChunkIdOf(raw), size};
}

Manifest Sample() {
  auto m = BuildManifest("job-7", "step-000010", 10, 1700000000000,
                         {{"weights", {Entry(1, 100), Entry(2, 50), Entry(1, 100)}},
                          {"adam.m", {Entry(3, 7)}},
                          {"rng", {}}});
  SWARM_ASSERT(m.ok());
  return *m;
}

void ExpectRefused(ByteSpan b, const std::string& reason) {
  auto r = DecodeManifest(b);
  ASSERT_FALSE(r.ok()) << "expected refusal: " << reason;
  EXPECT_NE(r.status().message().find(reason), std::string::npos) << r.status();
}

void PutU32At(Bytes& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

TEST(Manifest, RoundTripAndCanonical) {
  const Manifest m = Sample();
  EXPECT_EQ(m.chunks.size(), 3u);  // chunk 1 used twice, stored once in the table
  ASSERT_EQ(m.blobs.size(), 3u);
  EXPECT_EQ(m.blobs[0].name, "adam.m");  // sorted
  EXPECT_EQ(m.blobs[2].name, "weights");
  EXPECT_EQ(m.blobs[2].size, 250u);
  EXPECT_EQ(m.blobs[1].root, crypto::MerkleEmptyRoot());
  auto enc = EncodeManifest(m);
  ASSERT_TRUE(enc.ok()) << enc.status();
  auto dec = DecodeManifest(*enc);
  ASSERT_TRUE(dec.ok()) << dec.status();
  EXPECT_EQ(*dec, m);
  EXPECT_EQ(*EncodeManifest(*dec), *enc);
  EXPECT_EQ(ManifestRoot(*dec), ManifestRoot(m));
}

TEST(Manifest, RootBindsHeaderAndContent) {
  const Manifest m = Sample();
  Manifest other = m;
  other.step = 11;
  EXPECT_NE(ManifestRoot(m), ManifestRoot(other));
  other = m;
  other.job = "job-8";
  EXPECT_NE(ManifestRoot(m), ManifestRoot(other));
  auto changed = BuildManifest("job-7", "step-000010", 10, 1700000000000,
                               {{"weights", {Entry(1, 100), Entry(2, 50), Entry(4, 100)}},
                                {"adam.m", {Entry(3, 7)}},
                                {"rng", {}}});
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(ManifestRoot(m), ManifestRoot(*changed));
}

TEST(Manifest, RefusesEveryTruncation) {
  const Bytes enc = *EncodeManifest(Sample());
  for (size_t n = 0; n < enc.size(); ++n) {
    auto r = DecodeManifest(ByteSpan(enc.data(), n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
  }
  ExpectRefused(ByteSpan(enc.data(), enc.size() - 5), "truncated");
}

TEST(Manifest, RefusesTrailingBytesAndOversize) {
  Bytes enc = *EncodeManifest(Sample());
  enc.push_back(0);
  ExpectRefused(enc, "trailing");
  Bytes big(kManifestBytesMax + 1, 0);
  ExpectRefused(big, "exceeds");
}

TEST(Manifest, RefusesUnknownVersionAndBadMagic) {
  Bytes enc = *EncodeManifest(Sample());
  PutU32At(enc, 4, 2);
  ExpectRefused(enc, "unknown field 'version' = 2");
  enc = *EncodeManifest(Sample());
  enc[0] = 'X';
  ExpectRefused(enc, "magic");
}

TEST(Manifest, RefusesRootMismatch) {
  Bytes enc = *EncodeManifest(Sample());
  enc.back() ^= 1;  // last byte of the manifest root
  ExpectRefused(enc, "manifest root");
  // A chunk size changed: the blob no longer sums to its size.
  Manifest m = Sample();
  m.chunks[0].raw_bytes += 1;
  EXPECT_FALSE(EncodeManifest(m).ok());
  // A blob root changed.
  m = Sample();
  m.blobs[0].root[0] ^= 1;
  auto s = EncodeManifest(m).status();
  EXPECT_NE(s.message().find("does not match its chunks"), std::string::npos) << s;
}

TEST(Manifest, RefusesChunkNamedTwice) {
  Manifest m = Sample();
  m.chunks[1].id = m.chunks[0].id;
  m.chunks[1].raw_bytes = m.chunks[0].raw_bytes;
  auto s = ValidateManifest(m);
  EXPECT_NE(s.message().find("named twice"), std::string::npos) << s;
  // On the wire: copy entry 0's id over entry 1's.
  Bytes enc = *EncodeManifest(Sample());
  const Manifest good = Sample();
  const size_t table = 4 + 4 + 2 + good.job.size() + 2 + good.label.size() + 8 + 8 + 4;
  std::copy(enc.begin() + table, enc.begin() + table + 36, enc.begin() + table + 36);
  ExpectRefused(enc, "named twice");
}

TEST(Manifest, RefusesBadNamesAndLimits) {
  EXPECT_FALSE(BuildManifest("j", "../x", 0, 0, {}).ok());
  EXPECT_FALSE(BuildManifest("j", "", 0, 0, {}).ok());
  EXPECT_FALSE(BuildManifest("j k", "ok", 0, 0, {}).ok());
  EXPECT_FALSE(BuildManifest("j", "ok", 0, 0, {{"a/b", {}}}).ok());
  EXPECT_FALSE(BuildManifest("j", "ok", 0, 0, {{".hidden", {}}}).ok());
  auto dup = BuildManifest("j", "ok", 0, 0, {{"a", {}}, {"a", {}}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("listed twice"), std::string::npos) << dup.status();
  // One id with two sizes is inconsistent.
  ChunkEntry e = Entry(1, 10);
  ChunkEntry e2 = e;
  e2.raw_bytes = 11;
  EXPECT_FALSE(BuildManifest("j", "ok", 0, 0, {{"a", {e}}, {"b", {e2}}}).ok());
  // Declared counts over the limits are refused before anything is allocated.
  Bytes enc = *EncodeManifest(Sample());
  const Manifest good = Sample();
  const size_t n_chunks_at = 4 + 4 + 2 + good.job.size() + 2 + good.label.size() + 8 + 8;
  PutU32At(enc, n_chunks_at, 0xffffffff);
  ExpectRefused(enc, "n_chunks");
  enc = *EncodeManifest(Sample());
  PutU32At(enc, n_chunks_at, 1000);
  ExpectRefused(enc, "truncated");
}

TEST(Manifest, RefusesUnusedTableEntry) {
  Manifest m = Sample();
  m.blobs[2].refs = {m.blobs[2].refs[0]};
  m.blobs[2].size = m.chunks[m.blobs[2].refs[0]].raw_bytes;
  m.blobs[2].root = BlobRoot(BlobChunkIds(m, m.blobs[2]));
  auto s = ValidateManifest(m);
  EXPECT_NE(s.message().find("used by no blob"), std::string::npos) << s;
}

TEST(Chunk, OpenChecksSizeAndHash) {
  const Bytes raw(5000, 9);
  const ChunkId id = ChunkIdOf(raw);
  const Bytes stored = CompressChunk(raw);
  EXPECT_LT(stored.size(), raw.size());
  auto ok = OpenChunk(id, 5000, stored);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, raw);
  auto wrong_size = OpenChunk(id, 4999, stored);
  EXPECT_NE(wrong_size.status().message().find("declares 5000"), std::string::npos) << wrong_size.status();
  ChunkId other = id;
  other[0] ^= 1;
  auto wrong_id = OpenChunk(other, 5000, stored);
  EXPECT_NE(wrong_id.status().message().find("hashes to"), std::string::npos) << wrong_id.status();
  auto junk = OpenChunk(id, 5000, AsBytes("not zstd at all"));
  EXPECT_NE(junk.status().message().find("not a zstd frame"), std::string::npos) << junk.status();
  Bytes cut = stored;
  cut.resize(cut.size() / 2);
  EXPECT_FALSE(OpenChunk(id, 5000, cut).ok());
  EXPECT_FALSE(OpenChunk(id, kChunkBytesMax + 1, stored).ok());
}

}  // namespace
}  // namespace swarm::chunks
