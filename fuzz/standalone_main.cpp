// Drives a libFuzzer-style target without libFuzzer (for g++ builds and CTest):
// random inputs, then mutations (bit flips, truncation, splices, byte runs) of
// inputs that did not crash. A crash aborts the process, failing the test and
// printing the seed and run number so the input can be regenerated.
//   fuzz_X [--runs N] [--seed S] [--max-len L] [FILE...]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/rng.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  uint64_t runs = 20000, seed = 1, max_len = 4096;
  std::vector<std::vector<uint8_t>> pool;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> uint64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (a == "--runs") runs = next();
    else if (a == "--seed") seed = next();
    else if (a == "--max-len") max_len = next();
    else {
      std::ifstream in(a, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "cannot read seed input '%s'\n", a.c_str());
        return 2;
      }
      pool.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  swarm::Rng rng(seed);
  for (const auto& p : pool) LLVMFuzzerTestOneInput(p.data(), p.size());
  for (uint64_t r = 0; r < runs; ++r) {
    std::vector<uint8_t> in;
    if (pool.empty() || rng.Bernoulli(0.3)) {
      in.resize(rng.Uniform(max_len + 1));
      for (auto& b : in) b = static_cast<uint8_t>(rng.Next());
    } else {
      in = pool[rng.Uniform(pool.size())];
      const int edits = 1 + static_cast<int>(rng.Uniform(8));
      for (int e = 0; e < edits; ++e) {
        switch (rng.Uniform(5)) {
          case 0:
            if (!in.empty()) in[rng.Uniform(in.size())] ^= uint8_t(1u << rng.Uniform(8));
            break;
          case 1:
            if (!in.empty()) in.resize(rng.Uniform(in.size()));
            break;
          case 2: {
            const auto& other = pool[rng.Uniform(pool.size())];
            if (!other.empty()) {
              size_t from = rng.Uniform(other.size());
              in.insert(in.begin() + static_cast<long>(in.empty() ? 0 : rng.Uniform(in.size())),
                        other.begin() + static_cast<long>(from), other.end());
            }
            break;
          }
          case 3:
            if (!in.empty()) in[rng.Uniform(in.size())] = static_cast<uint8_t>(rng.Next());
            break;
          default: {
            const uint8_t v = rng.Bernoulli(0.5) ? 0xff : 0x00;
            in.insert(in.end(), rng.Uniform(16), v);
          }
        }
      }
      if (in.size() > max_len) in.resize(max_len);
    }
    LLVMFuzzerTestOneInput(in.data(), in.size());
    if (pool.size() < 256 && rng.Bernoulli(0.05)) pool.push_back(in);
  }
  std::printf("fuzz: %llu runs, seed %llu, no crash\n", (unsigned long long)runs,
              (unsigned long long)seed);
  return 0;
}
