// Randomness for key generation and encryption.
//
// Prng is AES-256-CTR (OpenSSL EVP) keyed by a 32-byte seed; FromOsEntropy
// seeds it with RAND_bytes, FromSeed makes a reproducible stream (tests and
// deterministic derivations only). Samplers: uniform residues (rejection
// sampling), uniform ternary secrets {-1, 0, 1}, and errors from the centered
// binomial distribution with eta = 21 (standard deviation sqrt(21/2) ≈ 3.24,
// tail bound |e| ≤ 21).
//
// Thread-safety: a Prng is not shared between threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "fhe/rns.h"

struct evp_cipher_ctx_st;

namespace swarm::fhe {

inline constexpr int kCbdEta = 21;

class Prng {
 public:
  static StatusOr<Prng> FromOsEntropy();
  static Prng FromSeed(const std::array<uint8_t, 32>& seed);
  ~Prng();
  Prng(Prng&&) noexcept;
  Prng& operator=(Prng&&) noexcept;
  Prng(const Prng&) = delete;
  Prng& operator=(const Prng&) = delete;

  void Fill(uint8_t* out, size_t len);
  uint64_t NextU64();

  // Uniform residues in every row of `basis` (valid in NTT form too).
  RnsPoly UniformPoly(const Context& ctx, const Basis& basis);
  std::vector<int64_t> Ternary(size_t n);
  // Exactly h entries ±1 (positions and signs uniform), the rest 0; h ≤ n.
  std::vector<int64_t> SparseTernary(size_t n, size_t h);
  std::vector<int64_t> Cbd(size_t n);

 private:
  Prng() = default;
  void Refill();
  evp_cipher_ctx_st* ctx_ = nullptr;
  std::array<uint8_t, 4096> buf_{};
  size_t pos_ = sizeof(buf_);
};

}  // namespace swarm::fhe
