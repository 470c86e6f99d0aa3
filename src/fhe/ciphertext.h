// Plaintexts, ciphertexts and keys: plain data with public fields, produced
// by the encoders, encryptors, key generator and evaluators of ckks.h / bfv.h
// and read/written by serialize.h.
//
// Every object records the hash of the parameters it was made under; keys,
// and the ciphertexts made with them, carry a random 16-byte key id, so a
// ciphertext is never combined with, or decrypted by, a key or ciphertext
// from another key pair or parameter set (the operation fails instead).
//
// Representation: CKKS plaintexts and all ciphertexts are in NTT form with
// rows for q_0..q_level; a BFV plaintext is one row of N coefficients mod t.
// Ownership: plain values; copy or move freely. Thread-safety: none needed
// (no shared state); do not mutate an object another thread is reading.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "common/bytes.h"
#include "fhe/params.h"
#include "fhe/rns.h"

namespace swarm::fhe {

using KeyId = std::array<uint8_t, 16>;

struct Plaintext {
  Scheme scheme = Scheme::kCkks;
  RnsPoly poly;
  size_t level = 0;
  double scale = 1.0;  // CKKS only
  ParamHash param_hash{};
};

struct Ciphertext {
  Scheme scheme = Scheme::kCkks;
  std::vector<RnsPoly> parts;  // 2, or 3 after a multiply without relinearization
  size_t level = 0;
  double scale = 1.0;                 // CKKS only
  double noise_budget_est_bits = 0;   // BFV only: conservative estimate (see bfv.h)
  KeyId key_id{};
  ParamHash param_hash{};
};

struct SecretKey {
  KeyId id{};
  ParamHash param_hash{};
  RnsPoly s;  // ternary secret, NTT form over q_0..q_{L-1}, P
  ~SecretKey() { SecureZero(s.data.data(), s.data.size() * sizeof(uint64_t)); }
  SecretKey() = default;
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  SecretKey(SecretKey&&) = default;
  SecretKey& operator=(SecretKey&&) = default;
};

struct PublicKey {
  KeyId id{};
  ParamHash param_hash{};
  RnsPoly b, a;  // b = -a*s + e, NTT form over q_0..q_{L-1}
};

// Key-switching key from s' to s, one RNS digit per data prime q_i:
// (b_i, a_i) with b_i = -a_i*s + e_i + P * g_i * s' over q_0..q_{L-1}, P,
// where g_i ≡ 1 (mod q_i) and ≡ 0 (mod q_j), j ≠ i.
struct KeySwitchKey {
  std::vector<RnsPoly> b, a;
};

struct RelinKey {
  KeyId id{};
  ParamHash param_hash{};
  KeySwitchKey key;  // from s^2 to s
};

struct GaloisKeys {
  KeyId id{};
  ParamHash param_hash{};
  std::map<uint32_t, KeySwitchKey> keys;  // Galois element g -> key from s(X^g) to s
  bool Has(uint32_t g) const { return keys.count(g) != 0; }
};

}  // namespace swarm::fhe
