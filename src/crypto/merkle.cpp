#include "crypto/merkle.h"

#include <openssl/crypto.h>

namespace swarm::crypto {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// Largest power of two strictly less than n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

bool Equal(const MerkleHash& a, const MerkleHash& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status CheckProofLength(std::span<const MerkleHash> proof) {
  if (proof.size() <= kMerkleProofHashesMax) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("Merkle proof has ", proof.size(),
                                                 " hashes; at most ", kMerkleProofHashesMax,
                                                 " are possible"));
}

void InclusionPath(std::span<const MerkleHash> d, uint64_t m, std::vector<MerkleHash>& out) {
  if (d.size() <= 1) return;
  const uint64_t k = SplitPoint(d.size());
  if (m < k) {
    InclusionPath(d.first(k), m, out);
    out.push_back(MerkleRoot(d.subspan(k)));
  } else {
    InclusionPath(d.subspan(k), m - k, out);
    out.push_back(MerkleRoot(d.first(k)));
  }
}

// RFC 6962 §2.1.2 SUBPROOF(m, D[n], b).
void SubProof(uint64_t m, std::span<const MerkleHash> d, bool complete,
              std::vector<MerkleHash>& out) {
  const uint64_t n = d.size();
  if (m == n) {
    if (!complete) out.push_back(MerkleRoot(d));
    return;
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(m, d.first(k), complete, out);
    out.push_back(MerkleRoot(d.subspan(k)));
  } else {
    SubProof(m - k, d.subspan(k), false, out);
    out.push_back(MerkleRoot(d.first(k)));
  }
}

}  // namespace

MerkleHash MerkleEmptyRoot() { return Sha3_256(ByteSpan()); }

MerkleHash MerkleLeafHash(ByteSpan data) {
  const uint8_t prefix = kLeafPrefix;
  return Sha3_256({ByteSpan(&prefix, 1), data});
}

MerkleHash MerkleNodeHash(const MerkleHash& left, const MerkleHash& right) {
  const uint8_t prefix = kNodePrefix;
  return Sha3_256({ByteSpan(&prefix, 1), ByteSpan(left), ByteSpan(right)});
}

MerkleHash MerkleRoot(std::span<const MerkleHash> leaves) {
  if (leaves.empty()) return MerkleEmptyRoot();
  // Level by level; an odd last node moves up unchanged. This builds exactly
  // the RFC 6962 left-balanced tree (checked against the recursive definition
  // in tests/crypto/merkle_test.cpp).
  std::vector<MerkleHash> level(leaves.begin(), leaves.end());
  while (level.size() > 1) {
    size_t out = 0;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      level[out++] = MerkleNodeHash(level[i], level[i + 1]);
    }
    if (level.size() % 2 == 1) level[out++] = level.back();
    level.resize(out);
  }
  return level[0];
}

StatusOr<std::vector<MerkleHash>> MerkleChunkLeaves(ByteSpan blob, size_t chunk_bytes) {
  if (chunk_bytes < kMerkleChunkBytesMin) {
    return absl::InvalidArgumentError(
        absl::StrCat("Merkle chunk_bytes must be >= ", kMerkleChunkBytesMin, ", got ", chunk_bytes));
  }
  std::vector<MerkleHash> leaves;
  leaves.reserve(blob.size() / chunk_bytes + 1);
  for (size_t off = 0; off < blob.size(); off += chunk_bytes) {
    leaves.push_back(MerkleLeafHash(blob.subspan(off, std::min(chunk_bytes, blob.size() - off))));
  }
  return leaves;
}

StatusOr<MerkleHash> MerkleRootOfBlob(ByteSpan blob, size_t chunk_bytes) {
  SWARM_ASSIGN_OR_RETURN(std::vector<MerkleHash> leaves, MerkleChunkLeaves(blob, chunk_bytes));
  return MerkleRoot(leaves);
}

StatusOr<std::vector<MerkleHash>> MerkleInclusionProof(std::span<const MerkleHash> leaves,
                                                       uint64_t index) {
  if (index >= leaves.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Merkle inclusion proof: leaf index ", index,
                                                   " is out of range for tree size ",
                                                   leaves.size()));
  }
  std::vector<MerkleHash> path;
  InclusionPath(leaves, index, path);
  return path;
}

Status MerkleVerifyInclusion(const MerkleHash& leaf_hash, uint64_t index, uint64_t tree_size,
                             std::span<const MerkleHash> proof, const MerkleHash& root) {
  SWARM_RETURN_IF_ERROR(CheckProofLength(proof));
  if (index >= tree_size) {
    return absl::InvalidArgumentError(absl::StrCat("Merkle inclusion: leaf index ", index,
                                                   " is out of range for tree size ", tree_size));
  }
  uint64_t fn = index, sn = tree_size - 1;
  MerkleHash r = leaf_hash;
  for (const MerkleHash& p : proof) {
    if (sn == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("Merkle inclusion proof is too long for leaf ", index, " of ", tree_size));
    }
    if ((fn & 1) || fn == sn) {
      r = MerkleNodeHash(p, r);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Merkle inclusion proof is too short for leaf ", index, " of ", tree_size));
  }
  if (!Equal(r, root)) {
    return absl::InvalidArgumentError(absl::StrCat("Merkle inclusion proof for leaf ", index, " of ",
                                                   tree_size, " does not lead to the root"));
  }
  return absl::OkStatus();
}

StatusOr<std::vector<MerkleHash>> MerkleConsistencyProof(std::span<const MerkleHash> leaves,
                                                         uint64_t old_size) {
  if (old_size > leaves.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Merkle consistency proof: old size ", old_size,
                                                   " exceeds tree size ", leaves.size()));
  }
  std::vector<MerkleHash> proof;
  if (old_size == 0 || old_size == leaves.size()) return proof;
  SubProof(old_size, leaves, true, proof);
  return proof;
}

Status MerkleVerifyConsistency(uint64_t old_size, uint64_t new_size, const MerkleHash& old_root,
                               const MerkleHash& new_root, std::span<const MerkleHash> proof) {
  SWARM_RETURN_IF_ERROR(CheckProofLength(proof));
  if (old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat("Merkle consistency: old size ", old_size,
                                                   " exceeds new size ", new_size));
  }
  if (old_size == 0 || old_size == new_size) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Merkle consistency proof between sizes ", old_size, " and ", new_size,
          " must be empty, has ", proof.size(), " hashes"));
    }
    const bool ok = old_size == 0 ? Equal(old_root, MerkleEmptyRoot()) : Equal(old_root, new_root);
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Merkle consistency: roots of sizes ", old_size, " and ", new_size, " are inconsistent"));
    }
    return absl::OkStatus();
  }
  if (proof.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("Merkle consistency proof between sizes ",
                                                   old_size, " and ", new_size, " is empty"));
  }
  // RFC 9162 §2.1.4.2.
  std::vector<MerkleHash> path;
  const bool old_is_power_of_two = (old_size & (old_size - 1)) == 0;
  if (old_is_power_of_two) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  MerkleHash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const MerkleHash& c = path[i];
    if (sn == 0) {
      return absl::InvalidArgumentError(absl::StrCat("Merkle consistency proof between sizes ",
                                                     old_size, " and ", new_size,
                                                     " is too long"));
    }
    if ((fn & 1) || fn == sn) {
      fr = MerkleNodeHash(c, fr);
      sr = MerkleNodeHash(c, sr);
      while (fn != 0 && !(fn & 1)) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = MerkleNodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError(absl::StrCat("Merkle consistency proof between sizes ",
                                                   old_size, " and ", new_size, " is too short"));
  }
  if (!Equal(fr, old_root)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Merkle consistency proof does not lead to the old root (size ", old_size, ")"));
  }
  if (!Equal(sr, new_root)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Merkle consistency proof does not lead to the new root (size ", new_size, ")"));
  }
  return absl::OkStatus();
}

}  // namespace swarm::crypto
