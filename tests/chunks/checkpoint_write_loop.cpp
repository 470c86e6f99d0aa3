// Helper for checkpoint_crash_test: writes durable checkpoints in a loop into
// DIR and prints each acknowledged label on its own line; every 5 writes it
// runs Gc(keep_latest = 4). Runs until killed.
// Usage: checkpoint_write_loop DIR SEED
#include <cstdio>
#include <cstdlib>
#include <string>

#include "chunks/store.h"
#include "common/rng.h"

int main(int argc, char** argv) {
  using namespace swarm::chunks;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DIR SEED\n", argv[0]);
    return 2;
  }
  CheckpointDirOptions opts;
  opts.chunker = {.min_bytes = 4096, .avg_bytes = 16384, .max_bytes = 65536};
  opts.sync = true;
  auto dir = CheckpointDir::Open(argv[1], opts);
  if (!dir.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(dir.status().message()).c_str());
    return 1;
  }
  uint64_t step = 0;
  if (auto latest = (*dir)->Latest(); latest.ok()) step = latest->step;
  swarm::Rng rng(std::strtoull(argv[2], nullptr, 10) ^ (step * 0x9e3779b97f4a7c15ULL));
  swarm::Bytes params(512 * 1024), opt(1024 * 1024);
  for (auto& b : params) b = static_cast<uint8_t>(rng.Next());
  for (auto& b : opt) b = static_cast<uint8_t>(rng.Next());
  for (;;) {
    ++step;
    // A training step: a contiguous slice of parameters changes, and all of
    // the optimizer state (so every write has many new chunks: a long window
    // in which chunks are being written).
    const size_t at = rng.Uniform(params.size() - 20000);
    for (size_t i = at; i < at + 20000; ++i) params[i] = static_cast<uint8_t>(rng.Next());
    for (auto& b : opt) b = static_cast<uint8_t>(rng.Next());
    swarm::Bytes rng_state(64);
    for (auto& b : rng_state) b = static_cast<uint8_t>(rng.Next());
    const BlobInput blobs[] = {{"params", params}, {"adam.m", opt}, {"rng", rng_state}};
    const std::string label = "step-" + std::to_string(step);
    auto r = (*dir)->Write({.job = "crash-test", .label = label, .step = step}, blobs);
    if (!r.ok()) {
      std::fprintf(stderr, "write %s: %s\n", label.c_str(), std::string(r.status().message()).c_str());
      return 1;
    }
    std::printf("%s\n", label.c_str());
    std::fflush(stdout);
    if (step % 5 == 0) {
      auto g = (*dir)->Gc(4);
      if (!g.ok()) {
        std::fprintf(stderr, "gc: %s\n", std::string(g.status().message()).c_str());
        return 1;
      }
    }
  }
}
