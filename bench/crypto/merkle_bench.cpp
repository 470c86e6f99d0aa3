// Merkle root throughput (MB/s) over a 64 MiB blob at two chunk sizes, beside
// raw SHA3-256 of the same blob (one pass, OpenSSL), measured in the same run.
// The machine is shared and noisy: the figures are measured in alternation,
// several rounds, keeping each one's best, so that both see the same load.
#include <algorithm>
#include <chrono>

#include "bench_util.h"
#include "benches.h"
#include "common/rng.h"
#include "crypto/merkle.h"

namespace {

double MbPerSecondOnce(double mb, const std::function<void()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return mb / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void RunMerkleBenchmarks() {
  constexpr size_t kBlobBytes = size_t{64} << 20;
  constexpr int kRounds = 3;
  constexpr size_t kChunks[] = {4096, 65536};
  swarm::Bytes blob(kBlobBytes);
  swarm::Rng rng(1);
  for (size_t i = 0; i < blob.size(); i += 8) {
    const uint64_t v = rng.Next();
    for (size_t j = 0; j < 8; ++j) blob[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  const double mb = static_cast<double>(kBlobBytes) / 1e6;
  double raw = 0, merkle[2] = {0, 0};
  for (int round = 0; round < kRounds; ++round) {
    raw = std::max(raw, MbPerSecondOnce(mb, [&] { (void)swarm::crypto::Sha3_256(blob); }));
    for (int c = 0; c < 2; ++c) {
      merkle[c] = std::max(merkle[c], MbPerSecondOnce(mb, [&] {
        SWARM_ASSERT(swarm::crypto::MerkleRootOfBlob(blob, kChunks[c]).ok());
      }));
    }
  }
  for (int c = 0; c < 2; ++c) {
    swarm::bench::Emit({.section = "crypto",
                        .figure = "Merkle root, 64 MiB blob, " +
                                  std::to_string(kChunks[c] / 1024) + " KiB chunks",
                        .value = merkle[c],
                        .unit = "MB/s",
                        .anchor = "raw SHA3-256 of the same blob",
                        .anchor_value = raw,
                        .note = "ratio = Merkle MB/s / one-pass SHA3-256 MB/s (best of 3 "
                                "alternating rounds); the gap is per-chunk hashing overhead "
                                "plus the inner nodes",
                        .command = "build/bench/crypto/bench_crypto"});
  }
}
