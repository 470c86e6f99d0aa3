// CheckpointDir: write/read, deduplication across checkpoints, verify naming
// the first bad chunk, gc, restore that never overwrites, and what is listed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "chunks/chunk.h"
#include "chunks/fetch.h"
#include "chunks/store.h"
#include "common/file.h"
#include "common/rng.h"

namespace swarm::chunks {
namespace {

namespace fs = std::filesystem;

Bytes RandomBytes(size_t n, uint64_t seed) {
  Rng rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng.Next());
  return b;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("swarm_chunks_store_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    // Small chunks so a few hundred KB make many chunks; no fsync (tmpfs-fast).
    opts_.chunker = {.min_bytes = 1024, .avg_bytes = 4096, .max_bytes = 16384};
    opts_.sync = false;
    auto d = CheckpointDir::Open(dir_.string(), opts_);
    ASSERT_TRUE(d.ok()) << d.status();
    store_ = std::move(*d);
  }
  void TearDown() override { fs::remove_all(dir_); }

  WriteResult Write(const std::string& label, uint64_t step, const std::vector<std::pair<std::string, Bytes>>& blobs) {
    std::vector<BlobInput> in;
    for (const auto& [n, b] : blobs) in.push_back({n, b});
    auto r = store_->Write({.job = "job-1", .label = label, .step = step}, in);
    SWARM_ASSERT(r.ok());
    return *r;
  }

  fs::path dir_;
  CheckpointDirOptions opts_;
  std::unique_ptr<CheckpointDir> store_;
};

TEST_F(StoreTest, WriteReadBack) {
  const Bytes w = RandomBytes(300000, 1), m = RandomBytes(70000, 2);
  const auto r = Write("step-1", 1, {{"weights", w}, {"adam.m", m}, {"empty", {}}});
  EXPECT_EQ(r.stats.bytes_raw, w.size() + m.size());
  EXPECT_EQ(r.stats.bytes_new, r.stats.bytes_raw);
  EXPECT_EQ(r.stats.bytes_dedup, 0u);
  EXPECT_GT(r.stats.chunks_new, 20u);
  auto man = store_->ReadManifest("step-1");
  ASSERT_TRUE(man.ok()) << man.status();
  EXPECT_EQ(ManifestRoot(*man), r.root);
  EXPECT_EQ(*store_->ReadBlob(*man, "weights"), w);
  EXPECT_EQ(*store_->ReadBlob(*man, "adam.m"), m);
  EXPECT_TRUE(store_->ReadBlob(*man, "empty")->empty());
  EXPECT_TRUE(absl::IsNotFound(store_->ReadBlob(*man, "nope").status()));
  // A label is written once.
  std::vector<BlobInput> in{{"weights", w}};
  EXPECT_TRUE(absl::IsAlreadyExists(store_->Write({.label = "step-1"}, in).status()));
}

TEST_F(StoreTest, DeduplicatesAcrossSimilarCheckpoints) {
  Bytes params = RandomBytes(1 << 20, 3);
  const auto first = Write("step-1", 1, {{"params", params}});
  // The next checkpoint: a small contiguous share of the vector changed and a
  // few bytes inserted (a resized tensor in the middle).
  Rng rng(4);
  for (size_t i = 500000; i < 510000; ++i) params[i] = static_cast<uint8_t>(rng.Next());
  params.insert(params.begin() + 800000, 16, 0xAB);
  const auto second = Write("step-2", 2, {{"params", params}});
  const double dedup = static_cast<double>(second.stats.bytes_dedup) / second.stats.bytes_raw;
  EXPECT_GT(dedup, 0.9) << "new " << second.stats.bytes_new << " dedup " << second.stats.bytes_dedup;
  EXPECT_EQ(second.stats.bytes_new + second.stats.bytes_dedup, second.stats.bytes_raw);
  // Only the chunks around the two edits are new: at most 2 per edit plus the
  // ones spanned by the 10 KB rewrite (<= 10 KB / min_bytes + 2).
  EXPECT_LE(second.stats.chunks_new, 2u + 10000 / 1024 + 2);
  // A replica of the same blob under another name costs nothing new.
  const auto replica = Write("replica", 3, {{"expert0", params}, {"expert0.copy", params}});
  EXPECT_EQ(replica.stats.chunks_new, 0u);
  EXPECT_EQ(replica.stats.bytes_dedup, 2 * params.size());
  auto man = store_->ReadManifest("step-2");
  EXPECT_EQ(*store_->ReadBlob(*man, "params"), params);
}

TEST_F(StoreTest, VerifyNamesFirstBadChunk) {
  const Bytes w = RandomBytes(200000, 5);
  Write("ck", 1, {{"w", w}});
  auto ok = store_->Verify("ck");
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->ok) << ok->ToString();
  auto man = *store_->ReadManifest("ck");
  // Corrupt the 4th chunk of blob w: replace its file with another chunk's frame.
  const ChunkEntry& c3 = man.chunks[man.blobs[0].refs[3]];
  const ChunkEntry& c5 = man.chunks[man.blobs[0].refs[5]];
  fs::copy_file(store_->ChunkPath(c5.id), store_->ChunkPath(c3.id), fs::copy_options::overwrite_existing);
  auto bad = store_->Verify("ck");
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok);
  ASSERT_TRUE(bad->first_bad.has_value());
  EXPECT_EQ(bad->first_bad->index_in_blob, 3u);
  EXPECT_EQ(bad->first_bad->id, c3.id);
  EXPECT_EQ(bad->first_bad->blob, "w");
  EXPECT_FALSE(bad->first_bad->reason.empty()) << bad->ToString();
  EXPECT_NE(bad->ToString().find("chunk #3"), std::string::npos) << bad->ToString();
  // A missing chunk earlier in the blob is now the first bad one.
  const ChunkEntry& c1 = man.chunks[man.blobs[0].refs[1]];
  fs::remove(store_->ChunkPath(c1.id));
  bad = store_->Verify("ck");
  ASSERT_TRUE(bad->first_bad.has_value());
  EXPECT_EQ(bad->first_bad->index_in_blob, 1u);
  EXPECT_NE(bad->first_bad->reason.find("missing"), std::string::npos) << bad->ToString();
  // ReadBlob refuses too.
  EXPECT_FALSE(store_->ReadBlob(man, "w").ok());
  // A damaged manifest is reported as such.
  Bytes enc = *EncodeManifest(man);
  enc[enc.size() - 1] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(store_->ManifestPath("ck"), enc).ok());
  bad = store_->Verify("ck");
  EXPECT_NE(bad->manifest_error.find("manifest root"), std::string::npos) << bad->ToString();
  EXPECT_TRUE(absl::IsNotFound(store_->Verify("other").status()));
}

TEST_F(StoreTest, GcRemovesOnlyUnreferencedChunks) {
  const Bytes a = RandomBytes(150000, 6), b = RandomBytes(150000, 7);
  Write("one", 1, {{"x", a}});
  const auto two = Write("two", 2, {{"x", a}, {"y", b}});
  // Leftovers of a killed writer: a temp manifest and a temp chunk.
  ASSERT_TRUE(WriteFileAtomic(store_->ManifestPath("three") + ".tmp.1.0", "half").ok());
  auto report = store_->Gc();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->chunks_removed, 0u);
  EXPECT_EQ(report->temp_files_removed, 1u);
  EXPECT_EQ(report->chunks_kept, two.manifest.chunks.size());
  ASSERT_TRUE(store_->Remove("two").ok());
  report = store_->Gc();
  ASSERT_TRUE(report.ok());
  const auto one = *store_->ReadManifest("one");
  EXPECT_EQ(report->chunks_kept, one.chunks.size());
  EXPECT_EQ(report->chunks_removed, two.manifest.chunks.size() - one.chunks.size());
  EXPECT_TRUE(store_->Verify("one")->ok);
  // keep_latest drops older checkpoints first.
  Write("four", 4, {{"y", b}});
  report = store_->Gc(1);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->manifests, 1u);
  EXPECT_TRUE(absl::IsNotFound(store_->ReadManifest("one").status()));
  EXPECT_TRUE(store_->Verify("four")->ok);
  // An undecodable manifest blocks gc (its chunks would look unreferenced).
  ASSERT_TRUE(WriteFileAtomic(store_->ManifestPath("junk"), "garbage").ok());
  auto refused = store_->Gc();
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("junk.swck"), std::string::npos) << refused.status();
}

TEST_F(StoreTest, ListsOnlyCompleteCheckpoints) {
  Write("b", 5, {{"x", RandomBytes(5000, 8)}});
  Write("a", 9, {{"x", RandomBytes(5000, 9)}});
  ASSERT_TRUE(WriteFileAtomic(store_->ManifestPath("c") + ".tmp.99.1", "partial").ok());
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].label, "b");  // by step
  EXPECT_EQ((*list)[1].label, "a");
  EXPECT_EQ(store_->Latest()->label, "a");
  // A manifest under the wrong file name is listed with the reason.
  fs::copy_file(store_->ManifestPath("a"), store_->ManifestPath("z"));
  list = store_->List();
  ASSERT_EQ(list->size(), 3u);
  bool found = false;
  for (const auto& l : *list) {
    if (l.label == "z") {
      found = true;
      EXPECT_FALSE(l.manifest.has_value());
      EXPECT_NE(l.error.find("file name says"), std::string::npos) << l.error;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(StoreTest, LatestForJobRefusesOtherJobsAndUnreadableManifests) {
  EXPECT_TRUE(absl::IsNotFound(store_->LatestForJob("job-1").status()));
  Write("s3", 3, {{"x", RandomBytes(5000, 12)}});
  Write("s7", 7, {{"x", RandomBytes(5000, 13)}});
  auto latest = store_->LatestForJob("job-1");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->label, "s7");
  auto other = store_->LatestForJob("job-2");
  EXPECT_TRUE(absl::IsFailedPrecondition(other.status()));
  EXPECT_NE(other.status().message().find("job 'job-1'"), std::string::npos) << other.status();
  EXPECT_NE(other.status().message().find("job 'job-2'"), std::string::npos) << other.status();
  // A manifest of a newer format: refused with the file and the version named.
  Bytes enc = *EncodeManifest(*latest);
  enc[7] = 2;
  ASSERT_TRUE(WriteFileAtomic(store_->ManifestPath("s9"), enc).ok());
  auto future = store_->LatestForJob("job-1");
  EXPECT_TRUE(absl::IsFailedPrecondition(future.status()));
  EXPECT_NE(future.status().message().find("s9.swck"), std::string::npos) << future.status();
  EXPECT_NE(future.status().message().find("'version' = 2"), std::string::npos) << future.status();
}

// The local half of joining: a newcomer that holds an older checkpoint
// fetches only the missing chunks of the donor's newer one (one donor lies),
// imports them, then the manifest; the result verifies and matches.
TEST_F(StoreTest, ImportFromDonorsThroughTheFetcher) {
  auto donor = CheckpointDir::Open((dir_ / "donor").string(), opts_);
  ASSERT_TRUE(donor.ok());
  Bytes params = RandomBytes(400000, 20);
  const BlobInput v1[] = {{"params", params}};
  ASSERT_TRUE((*donor)->Write({.job = "j", .label = "s1", .step = 1}, v1).ok());
  // The newcomer already has s1 (e.g. from an earlier sync).
  const Manifest m1 = *(*donor)->ReadManifest("s1");
  for (const ChunkEntry& c : m1.chunks) ASSERT_TRUE(store_->ImportChunk(c, *(*donor)->ReadStoredChunk(c)).ok());
  ASSERT_TRUE(store_->ImportManifest(m1).ok());
  for (size_t i = 100000; i < 110000; ++i) params[i] ^= 0xff;
  const BlobInput v2[] = {{"params", params}};
  ASSERT_TRUE((*donor)->Write({.job = "j", .label = "s2", .step = 2}, v2).ok());
  const Manifest m2 = *(*donor)->ReadManifest("s2");
  const auto need = store_->MissingChunks(m2);
  EXPECT_GT(need.size(), 0u);
  EXPECT_LT(need.size(), m2.chunks.size() / 4) << "only the chunks around the edit are missing";
  auto early = store_->ImportManifest(m2);
  EXPECT_TRUE(absl::IsFailedPrecondition(early)) << early;

  ChunkFetcher fetcher(need, {"liar", "donor"}, {.in_flight_per_donor_max = 2});
  int64_t now = 0;
  for (int round = 0; round < 100 && !fetcher.done() && !fetcher.stuck(); ++round, now += 100) {
    fetcher.OnTick(now);
    for (const ChunkRequest& r : fetcher.TakeOutbox()) {
      if (r.donor == "liar") {
        fetcher.OnChunk(r.request_id, CompressChunk(RandomBytes(r.raw_bytes, 99)), now);
      } else {
        auto stored = (*donor)->ReadStoredChunk({r.id, r.raw_bytes});
        ASSERT_TRUE(stored.ok()) << stored.status();
        fetcher.OnChunk(r.request_id, *stored, now);
      }
    }
    for (auto& [entry, stored] : fetcher.TakeVerified()) ASSERT_TRUE(store_->ImportChunk(entry, stored).ok());
  }
  ASSERT_TRUE(fetcher.done());
  ASSERT_FALSE(fetcher.evidence().empty());
  EXPECT_EQ(fetcher.evidence()[0].donor, "liar");
  EXPECT_EQ(fetcher.evidence()[0].reason, "hash_mismatch");
  EXPECT_EQ(fetcher.progress(now).donors_usable, 1u);
  ASSERT_TRUE(store_->ImportManifest(m2).ok());
  EXPECT_TRUE(store_->Verify("s2")->ok);
  EXPECT_EQ(*store_->ReadBlob(*store_->ReadManifest("s2"), "params"), params);
  EXPECT_EQ(ManifestRoot(*store_->ReadManifest("s2")), ManifestRoot(m2));
  // A bad chunk is never imported.
  const ChunkEntry fake{ChunkIdOf(AsBytes("x")), 1};
  EXPECT_FALSE(store_->ImportChunk(fake, CompressChunk(AsBytes("y"))).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(store_->ImportManifest(m2)));
}

TEST_F(StoreTest, RestoreNeverOverwrites) {
  const Bytes w = RandomBytes(100000, 10), r = RandomBytes(3000, 11);
  Write("ck", 1, {{"weights", w}, {"rng", r}});
  const fs::path out = dir_ / "out";
  ASSERT_TRUE(store_->Restore("ck", out.string()).ok());
  auto read = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(read(out / "weights"), w);
  EXPECT_EQ(read(out / "rng"), r);
  // Existing target (even an empty directory): refused, untouched.
  auto again = store_->Restore("ck", out.string());
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  const fs::path empty = dir_ / "empty";
  fs::create_directory(empty);
  EXPECT_TRUE(absl::IsAlreadyExists(store_->Restore("ck", empty.string())));
  // A bad chunk: restore fails, leaves neither the target nor a partial dir.
  const auto man = *store_->ReadManifest("ck");
  fs::remove(store_->ChunkPath(man.chunks[man.blobs[1].refs.back()].id));
  const fs::path out2 = dir_ / "out2";
  auto failed = store_->Restore("ck", out2.string());
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("missing"), std::string::npos) << failed;
  EXPECT_FALSE(fs::exists(out2));
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find("partial"), std::string::npos) << e.path();
  }
}

}  // namespace
}  // namespace swarm::chunks
