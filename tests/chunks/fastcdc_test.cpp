// FastCDC: parameters, sizes, determinism, and the property deduplication
// rests on: a small edit changes only the chunks around it.
#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "chunks/chunk.h"
#include "chunks/fastcdc.h"
#include "common/rng.h"

namespace swarm::chunks {
namespace {

Bytes RandomBytes(size_t n, uint64_t seed) {
  Rng rng(seed);
  Bytes b(n);
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng.Next();
    for (size_t k = 0; k < 8 && i + k < n; ++k) b[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  return b;
}

std::multiset<ChunkId> ChunkIds(const Chunker& c, ByteSpan data) {
  std::multiset<ChunkId> ids;
  for (uint32_t len : c.Split(data)) {
    ids.insert(ChunkIdOf(data.first(len)));
    data = data.subspan(len);
  }
  return ids;
}

// Chunks present in `after` but not in `before`, and the other way round.
std::pair<size_t, size_t> Changed(const std::multiset<ChunkId>& before, const std::multiset<ChunkId>& after) {
  size_t added = 0, removed = 0;
  for (const auto& id : after) added += before.count(id) == 0;
  for (const auto& id : before) removed += after.count(id) == 0;
  return {added, removed};
}

TEST(FastCdc, RefusesBadParameters) {
  EXPECT_FALSE(Chunker::Create({.min_bytes = 10, .avg_bytes = 1024, .max_bytes = 4096}).ok());
  EXPECT_FALSE(Chunker::Create({.min_bytes = 256, .avg_bytes = 1000, .max_bytes = 4096}).ok());
  EXPECT_FALSE(Chunker::Create({.min_bytes = 2048, .avg_bytes = 1024, .max_bytes = 4096}).ok());
  EXPECT_FALSE(Chunker::Create({.min_bytes = 256, .avg_bytes = 1024, .max_bytes = 1024}).ok());
  EXPECT_FALSE(Chunker::Create({.min_bytes = 256, .avg_bytes = 1024, .max_bytes = kChunkBytesMax + 1}).ok());
  EXPECT_FALSE(Chunker::Create({.min_bytes = 256, .avg_bytes = 1024, .max_bytes = 4096,
                                .normalization_level = 4}).ok());
  auto s = Chunker::Create({.min_bytes = 256, .avg_bytes = 1000, .max_bytes = 4096}).status();
  EXPECT_NE(s.message().find("avg_bytes"), std::string::npos) << s;
  EXPECT_TRUE(Chunker::Create({}).ok());
}

TEST(FastCdc, SizesWithinBoundsAndAverageNearTarget) {
  auto c = Chunker::Create({});
  ASSERT_TRUE(c.ok());
  const Bytes data = RandomBytes(8u << 20, 1);
  const auto lens = c->Split(data);
  ASSERT_FALSE(lens.empty());
  EXPECT_EQ(std::accumulate(lens.begin(), lens.end(), uint64_t{0}), data.size());
  for (size_t i = 0; i + 1 < lens.size(); ++i) {
    EXPECT_GE(lens[i], c->params().min_bytes);
    EXPECT_LE(lens[i], c->params().max_bytes);
  }
  const double mean = static_cast<double>(data.size()) / static_cast<double>(lens.size());
  // Normalized chunking centres sizes on avg_bytes (plus min_bytes skipped).
  EXPECT_GT(mean, 0.5 * c->params().avg_bytes);
  EXPECT_LT(mean, 2.0 * c->params().avg_bytes);
}

TEST(FastCdc, EdgeInputs) {
  auto c = Chunker::Create({});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Split({}).empty());
  const Bytes one(1, 7);
  EXPECT_EQ(c->Split(one), std::vector<uint32_t>{1});
  // Constant data has no content-defined cut: every chunk is max_bytes.
  const Bytes zeros(1u << 20, 0);
  for (uint32_t len : c->Split(zeros)) EXPECT_EQ(len, c->params().max_bytes);
}

TEST(FastCdc, Deterministic) {
  auto c = Chunker::Create({});
  ASSERT_TRUE(c.ok());
  const Bytes data = RandomBytes(2u << 20, 2);
  EXPECT_EQ(c->Split(data), c->Split(data));
}

// A 1-byte insert (or delete, or overwrite) changes at most 2 chunks.
TEST(FastCdc, SmallEditChangesAtMostTwoChunks) {
  auto c = Chunker::Create({});
  ASSERT_TRUE(c.ok());
  const Bytes data = RandomBytes(6u << 20, 3);
  const auto before = ChunkIds(*c, data);
  Rng rng(4);
  for (int trial = 0; trial < 40; ++trial) {
    const size_t pos = rng.Uniform(data.size());
    Bytes edited = data;
    const int kind = trial % 3;
    if (kind == 0) {
      edited.insert(edited.begin() + static_cast<ptrdiff_t>(pos), static_cast<uint8_t>(rng.Next()));
    } else if (kind == 1) {
      edited.erase(edited.begin() + static_cast<ptrdiff_t>(pos));
    } else {
      edited[pos] ^= 0x5a;
    }
    const auto [added, removed] = Changed(before, ChunkIds(*c, edited));
    EXPECT_LE(added, 2u) << "trial " << trial << " kind " << kind << " at " << pos;
    EXPECT_LE(removed, 2u) << "trial " << trial << " kind " << kind << " at " << pos;
    EXPECT_GE(added, 1u) << "the chunk holding the edit must change";
  }
}

// Also with small chunks (many boundaries per MB) and at the very start.
TEST(FastCdc, InsertAtStartAndWithSmallChunks) {
  auto c = Chunker::Create({.min_bytes = 512, .avg_bytes = 2048, .max_bytes = 8192});
  ASSERT_TRUE(c.ok());
  const Bytes data = RandomBytes(4u << 20, 5);
  const auto before = ChunkIds(*c, data);
  Rng rng(6);
  for (int trial = 0; trial < 30; ++trial) {
    const size_t pos = trial == 0 ? 0 : rng.Uniform(data.size());
    Bytes edited = data;
    edited.insert(edited.begin() + static_cast<ptrdiff_t>(pos), static_cast<uint8_t>(trial));
    const auto [added, removed] = Changed(before, ChunkIds(*c, edited));
    EXPECT_LE(added, 2u) << "trial " << trial << " at " << pos;
    EXPECT_LE(removed, 2u) << "trial " << trial << " at " << pos;
  }
}

}  // namespace
}  // namespace swarm::chunks
