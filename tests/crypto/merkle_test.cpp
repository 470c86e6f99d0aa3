#include "crypto/merkle.h"

#include <gtest/gtest.h>

#include <string>

namespace swarm::crypto {
namespace {

// The RFC 6962 definition, written recursively over the data itself.
MerkleHash NaiveRoot(const std::vector<std::string>& d, size_t lo, size_t hi) {
  const size_t n = hi - lo;
  if (n == 0) return Sha3_256(ByteSpan());
  if (n == 1) {
    std::string in = std::string(1, '\0') + d[lo];
    return Sha3_256(AsBytes(in));
  }
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  const MerkleHash l = NaiveRoot(d, lo, lo + k), r = NaiveRoot(d, lo + k, hi);
  Bytes in = {0x01};
  in.insert(in.end(), l.begin(), l.end());
  in.insert(in.end(), r.begin(), r.end());
  return Sha3_256(in);
}

std::vector<std::string> Data(size_t n) {
  std::vector<std::string> d;
  for (size_t i = 0; i < n; ++i) d.push_back("leaf-" + std::to_string(i * 7919));
  return d;
}

std::vector<MerkleHash> Leaves(const std::vector<std::string>& d) {
  std::vector<MerkleHash> l;
  for (const auto& s : d) l.push_back(MerkleLeafHash(AsBytes(s)));
  return l;
}

constexpr size_t kMaxSize = 70;

TEST(Merkle, RootMatchesRecursiveDefinitionForSizes0To70) {
  for (size_t n = 0; n <= kMaxSize; ++n) {
    const auto d = Data(n);
    ASSERT_EQ(MerkleRoot(Leaves(d)), NaiveRoot(d, 0, n)) << "size " << n;
  }
  EXPECT_EQ(MerkleEmptyRoot(), Sha3_256(ByteSpan()));
}

TEST(Merkle, InclusionProofsForAllSizesAndIndicesAndTamperRejection) {
  for (size_t n = 1; n <= kMaxSize; ++n) {
    const auto leaves = Leaves(Data(n));
    const MerkleHash root = MerkleRoot(leaves);
    for (size_t i = 0; i < n; ++i) {
      auto proof = MerkleInclusionProof(leaves, i);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(MerkleVerifyInclusion(leaves[i], i, n, *proof, root).ok()) << n << " " << i;
      // Every tampered element, the wrong leaf, index, size or root fails.
      for (size_t j = 0; j < proof->size(); ++j) {
        auto bad = *proof;
        bad[j][j % 32] ^= 0x01;
        ASSERT_FALSE(MerkleVerifyInclusion(leaves[i], i, n, bad, root).ok()) << n << " " << i;
      }
      if (n > 1) {
        ASSERT_FALSE(MerkleVerifyInclusion(leaves[(i + 1) % n], i, n, *proof, root).ok());
        ASSERT_FALSE(MerkleVerifyInclusion(leaves[i], (i + 1) % n, n, *proof, root).ok());
      }
      // (A different tree_size can give the same path shape, e.g. leaf 0 of
      // 3 and of 4, so (tree_size, root) must be authenticated together.)
      ASSERT_FALSE(MerkleVerifyInclusion(leaves[i], i, n, *proof, MerkleEmptyRoot()).ok());
      ASSERT_FALSE(MerkleVerifyInclusion(leaves[i], n, n, *proof, root).ok());
      auto longer = *proof;
      longer.push_back(root);
      ASSERT_FALSE(MerkleVerifyInclusion(leaves[i], i, n, longer, root).ok());
      if (!proof->empty()) {
        auto shorter = *proof;
        shorter.pop_back();
        ASSERT_FALSE(MerkleVerifyInclusion(leaves[i], i, n, shorter, root).ok());
      }
    }
    EXPECT_FALSE(MerkleInclusionProof(leaves, n).ok());
  }
}

TEST(Merkle, ConsistencyProofsForAllSizePairsAndTamperRejection) {
  const auto all = Leaves(Data(kMaxSize));
  std::vector<MerkleHash> roots;
  for (size_t n = 0; n <= kMaxSize; ++n) roots.push_back(MerkleRoot(std::span(all).first(n)));
  for (size_t n = 1; n <= kMaxSize; ++n) {
    const auto leaves = std::span(all).first(n);
    for (size_t m = 0; m <= n; ++m) {
      auto proof = MerkleConsistencyProof(leaves, m);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(MerkleVerifyConsistency(m, n, roots[m], roots[n], *proof).ok())
          << m << " -> " << n << ": "
          << MerkleVerifyConsistency(m, n, roots[m], roots[n], *proof);
      for (size_t j = 0; j < proof->size(); ++j) {
        auto bad = *proof;
        bad[j][0] ^= 0x80;
        ASSERT_FALSE(MerkleVerifyConsistency(m, n, roots[m], roots[n], bad).ok()) << m << " " << n;
      }
      if (m > 0 && m < n) {
        // A different old tree (the same size, other leaves) is not a prefix.
        ASSERT_FALSE(MerkleVerifyConsistency(m, n, roots[m - 1], roots[n], *proof).ok());
        ASSERT_FALSE(MerkleVerifyConsistency(m, n, roots[m], roots[n - 1], *proof).ok());
        auto shorter = *proof;
        shorter.pop_back();
        ASSERT_FALSE(MerkleVerifyConsistency(m, n, roots[m], roots[n], shorter).ok());
        auto longer = *proof;
        longer.push_back(roots[n]);
        ASSERT_FALSE(MerkleVerifyConsistency(m, n, roots[m], roots[n], longer).ok());
      }
    }
    EXPECT_FALSE(MerkleConsistencyProof(leaves, n + 1).ok());
  }
  EXPECT_FALSE(MerkleVerifyConsistency(5, 4, roots[5], roots[4], {}).ok());
  EXPECT_FALSE(MerkleVerifyConsistency(4, 4, roots[4], roots[5], {}).ok());
}

TEST(Merkle, BlobChunking) {
  Bytes blob(10);
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<uint8_t>(i);
  auto leaves = MerkleChunkLeaves(blob, 3);
  ASSERT_TRUE(leaves.ok());
  ASSERT_EQ(leaves->size(), 4u);
  EXPECT_EQ((*leaves)[3], MerkleLeafHash(ByteSpan(blob).subspan(9, 1)));
  EXPECT_EQ(*MerkleRootOfBlob(blob, 3), MerkleRoot(*leaves));
  EXPECT_EQ(*MerkleRootOfBlob(blob, 100), MerkleLeafHash(blob));
  EXPECT_EQ(*MerkleRootOfBlob(ByteSpan(), 4), MerkleEmptyRoot());
  EXPECT_NE(*MerkleRootOfBlob(blob, 3), *MerkleRootOfBlob(blob, 4));
  auto bad = MerkleRootOfBlob(blob, 0);
  EXPECT_NE(bad.status().message().find("chunk_bytes must be >= 1, got 0"), std::string::npos);
}

TEST(Merkle, LeafAndNodeHashesAreDomainSeparated) {
  const MerkleHash a = MerkleLeafHash(AsBytes("a")), b = MerkleLeafHash(AsBytes("b"));
  Bytes concat(a.begin(), a.end());
  concat.insert(concat.end(), b.begin(), b.end());
  EXPECT_NE(MerkleNodeHash(a, b), MerkleLeafHash(concat));
}

TEST(Merkle, OverlongProofsAreRejectedWithoutWork) {
  std::vector<MerkleHash> proof(kMerkleProofHashesMax + 1);
  auto st = MerkleVerifyInclusion(MerkleHash{}, 0, 1, proof, MerkleHash{});
  EXPECT_NE(st.message().find("at most 128"), std::string::npos) << st;
  EXPECT_FALSE(MerkleVerifyConsistency(1, 2, MerkleHash{}, MerkleHash{}, proof).ok());
}

}  // namespace
}  // namespace swarm::crypto
