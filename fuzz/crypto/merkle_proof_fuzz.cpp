// Merkle proof verification on arbitrary proofs, indices and sizes: never
// crashes, never accepts a proof that does not match the real tree.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "crypto/merkle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swarm::crypto;
  if (size < 4) return 0;
  const uint64_t n = 1 + data[0] % 40, idx = data[1] % 48, old_size = data[2] % 48;
  const bool use_real = data[3] & 1;
  std::vector<MerkleHash> leaves;
  for (uint64_t i = 0; i < n; ++i) {
    const uint8_t b = static_cast<uint8_t>(i);
    leaves.push_back(MerkleLeafHash(swarm::ByteSpan(&b, 1)));
  }
  const MerkleHash root = MerkleRoot(leaves);
  std::vector<MerkleHash> proof;
  if (use_real && idx < n) proof = MerkleInclusionProof(leaves, idx).value();
  for (size_t off = 4; off + 32 <= size; off += 32) {
    MerkleHash h;
    std::memcpy(h.data(), data + off, 32);
    proof.push_back(h);
  }
  const bool extended = size >= 36;
  const swarm::Status st = MerkleVerifyInclusion(idx < n ? leaves[idx] : root, idx, n, proof, root);
  // A real proof with garbage appended must not verify.
  if (use_real && extended) SWARM_ASSERT(!st.ok());
  const auto old_root = MerkleRoot(std::span(leaves).first(std::min<uint64_t>(old_size, n)));
  (void)MerkleVerifyConsistency(old_size, n, old_root, root, proof);
  return 0;
}
