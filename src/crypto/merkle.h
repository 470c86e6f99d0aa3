// Merkle trees in the style of RFC 6962 (Certificate Transparency) with
// SHA3-256 in place of SHA-256:
//   leaf hash  = SHA3-256(0x00 || data)
//   node hash  = SHA3-256(0x01 || left || right)
//   MTH({})    = SHA3-256("")
//   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n.
// The domain separation makes a leaf never collide with an inner node.
//
// Functions take the leaf hashes (not the data) so callers can keep them and
// prove membership later; MerkleChunkLeaves/MerkleRootOfBlob cut a blob into
// fixed-size chunks (the last one may be shorter; an empty blob has no
// leaves). Proofs: inclusion (audit path, RFC 6962 §2.1.1) and consistency
// between an older and a newer tree size (§2.1.2); verification follows the
// algorithms of RFC 9162 §2.1.3.2 / §2.1.4.2.
//
// A proof does not bind the tree size by itself (leaf 0 of a 3-leaf tree has
// the same path shape as in a 4-leaf tree): authenticate (size, root) together,
// e.g. inside a signed ledger record.
// Costs: roots are O(n) hashes; a proof is O(n) hashes to build (subtree
// roots are recomputed), O(log n) to verify.
// Errors: out-of-range indices or sizes, proofs longer than
// kMerkleProofHashesMax, and proofs that do not verify give
// InvalidArgumentError saying which; nothing here aborts on bad input.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/hash.h"

namespace swarm::crypto {

using MerkleHash = Digest256;

// No tree of 2^64 leaves has a longer inclusion proof than 64 hashes; a
// consistency proof has at most 2 * 64.
constexpr size_t kMerkleProofHashesMax = 128;
constexpr size_t kMerkleChunkBytesMin = 1;

MerkleHash MerkleEmptyRoot();
MerkleHash MerkleLeafHash(ByteSpan data);
MerkleHash MerkleNodeHash(const MerkleHash& left, const MerkleHash& right);

// MTH over the given leaf hashes.
MerkleHash MerkleRoot(std::span<const MerkleHash> leaves);

// Leaf hashes of `blob` cut into chunks of `chunk_bytes` (>= 1).
StatusOr<std::vector<MerkleHash>> MerkleChunkLeaves(ByteSpan blob, size_t chunk_bytes);
StatusOr<MerkleHash> MerkleRootOfBlob(ByteSpan blob, size_t chunk_bytes);

// Audit path of leaf `index` in the tree over `leaves`.
StatusOr<std::vector<MerkleHash>> MerkleInclusionProof(std::span<const MerkleHash> leaves,
                                                       uint64_t index);
// OK iff `proof` shows that `leaf_hash` is leaf `index` of the tree of
// `tree_size` leaves whose root is `root`.
Status MerkleVerifyInclusion(const MerkleHash& leaf_hash, uint64_t index, uint64_t tree_size,
                             std::span<const MerkleHash> proof, const MerkleHash& root);

// Consistency proof that the first `old_size` leaves of `leaves` form the
// tree of size old_size (0 <= old_size <= leaves.size()). Empty when
// old_size is 0 or equals leaves.size().
StatusOr<std::vector<MerkleHash>> MerkleConsistencyProof(std::span<const MerkleHash> leaves,
                                                         uint64_t old_size);
// OK iff `proof` shows the tree (old_size, old_root) is a prefix of the tree
// (new_size, new_root).
Status MerkleVerifyConsistency(uint64_t old_size, uint64_t new_size, const MerkleHash& old_root,
                               const MerkleHash& new_root, std::span<const MerkleHash> proof);

}  // namespace swarm::crypto
