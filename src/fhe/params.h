// Parameters and the immutable context shared by every fhe/ object.
//
// A ParamSpec names the scheme, the ring degree N, the bit sizes of the data
// primes q_0..q_{L-1} (q_0 first: it is the prime left at level 0), the bit
// size of the special prime P used only by key switching, the plaintext
// modulus size (BFV) and the default scale (CKKS). Context::Create generates
// the primes (deterministically: the largest NTT-friendly primes of each size),
// builds the NTT tables and scheme constants, and refuses insecure
// combinations: log2(Q*P) must not exceed the HomomorphicEncryption.org
// standard's 128-bit classical bound for ternary secrets (109, 218, 438, 881
// bits for N = 4096, 8192, 16384, 32768; 1747 for N = 65536, the value OpenFHE's
// HEStd_128_classic table extends the standard with); the error names that bound.
// A sparse ternary secret (secret_hamming_weight h > 0, h entries ±1, used by
// bootstrapping, see bootstrap.h) is weaker: it is accepted only where a
// published estimate exists (h ≥ 192: log2(QP) ≤ 768 at N = 32768 and ≤ 1550 at
// N = 65536, Lattigo's default bootstrapping sets), refused elsewhere.
// allow_insecure = true skips these checks (and admits N down to 1024) for
// tests and benchmarks that ask for it by name; Context::insecure() reports it
// and tools must print it. Parameters read from a peer never carry it.
//
// Levels: a ciphertext at level l uses the primes q_0..q_l; a fresh CKKS
// ciphertext is at level L-1 and each rescale lowers the level by one.
//
// Thread-safety: a Context is immutable after Create and is shared through
// std::shared_ptr<const Context>; all its methods are safe to call from any
// thread. Errors are absl::Status values naming the field and value.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "fhe/modarith.h"
#include "fhe/ntt.h"

namespace swarm::fhe {

enum class Scheme : uint8_t { kCkks = 1, kBfv = 2 };
const char* SchemeName(Scheme s);

inline constexpr size_t kPolyDegreeMin = 4096;
inline constexpr size_t kPolyDegreeMax = 65536;
inline constexpr size_t kInsecurePolyDegreeMin = 1024;  // only with allow_insecure
inline constexpr size_t kDataPrimesMax = 32;
inline constexpr size_t kBfvDataPrimesMax = 16;  // HPS scaling accumulates 16 terms in 128 bits

struct ParamSpec {
  Scheme scheme = Scheme::kCkks;
  size_t poly_degree = 8192;
  std::vector<int> data_prime_bits;  // q_0 first
  int special_prime_bits = 60;       // P, at least as large as the largest q_i
  int plain_modulus_bits = 0;        // BFV only: t prime ≡ 1 mod 2N of this size
  double scale = 0;                  // CKKS only: default encoding scale (e.g. 2^40)
  int secret_hamming_weight = 0;     // 0: uniform ternary secret; h > 0: exactly h entries ±1
  bool allow_insecure = false;       // skip the security checks (tests/benchmarks only; printed)
};

// The standard's 128-bit classical bound on log2(Q*P) for ternary secrets.
StatusOr<int> SecurityBoundBits(size_t poly_degree);
// OK when log2_qp ≤ bound(N); otherwise an error naming N, log2(QP) and the bound.
Status CheckSecurity(size_t poly_degree, double log2_qp);
// The same for a sparse ternary secret of Hamming weight h (see above).
StatusOr<int> SparseSecurityBoundBits(size_t poly_degree, int hamming_weight);
Status CheckSecurity(size_t poly_degree, double log2_qp, int hamming_weight);

// Presets within the bound. CKKS N=8192: q = {60, 40, 40}, P = 60, scale 2^40
// (4 primes); N=16384: {60, 40 x6}, P = 60 (8 primes). BFV: t = 20 bits.
StatusOr<ParamSpec> CkksPreset(size_t poly_degree);
StatusOr<ParamSpec> BfvPreset(size_t poly_degree);

using ParamHash = std::array<uint8_t, 32>;

// The hash a Context with these generated values has (SHA3-256 of scheme,
// N, all primes, t and the CKKS scale), computable without building it.
ParamHash ComputeParamHash(Scheme scheme, size_t n, const std::vector<uint64_t>& primes,
                           uint64_t plain_modulus, double scale, std::vector<uint8_t>* canonical = nullptr);

struct BfvTables;  // RNS constants for BFV multiplication/decryption (rns.h)

class Context {
 public:
  static StatusOr<std::shared_ptr<const Context>> Create(const ParamSpec& spec);
  ~Context();

  const ParamSpec& spec() const { return spec_; }
  Scheme scheme() const { return spec_.scheme; }
  size_t n() const { return spec_.poly_degree; }
  size_t slot_count() const { return spec_.poly_degree / 2; }
  // Number of data primes L; the top level is L-1.
  size_t data_prime_count() const { return data_count_; }
  size_t max_level() const { return data_count_ - 1; }
  // Moduli q_0..q_{L-1} then P (index L).
  const std::vector<Modulus>& moduli() const { return moduli_; }
  const Modulus& modulus(size_t i) const { return moduli_[i]; }
  const NttTables& ntt(size_t i) const { return ntt_[i]; }
  size_t special_index() const { return data_count_; }
  double log2_qp() const { return log2_qp_; }
  // True when the spec asked for allow_insecure and the security checks were skipped.
  bool insecure() const { return spec_.allow_insecure; }
  // log2 of q_0 * ... * q_level.
  double log2_q_at(size_t level) const;
  const ParamHash& hash() const { return hash_; }
  // The serialized spec with the generated primes (what the hash covers).
  const std::vector<uint8_t>& canonical_bytes() const { return canonical_; }

  // BFV: plaintext modulus t and its NTT tables (batching); null for CKKS.
  uint64_t plain_modulus() const { return plain_ ? plain_->modulus().value() : 0; }
  const NttTables* plain_ntt() const { return plain_.get(); }
  const BfvTables* bfv() const { return bfv_.get(); }

  // Constants: q_l^-1 mod q_i (rescale), P^-1 mod q_i (key switching).
  uint64_t inv_last_mod(size_t level, size_t i) const { return inv_last_[level][i]; }
  uint64_t inv_special_mod(size_t i) const { return inv_p_[i]; }

 private:
  Context() = default;
  ParamSpec spec_;
  size_t data_count_ = 0;
  std::vector<Modulus> moduli_;
  std::vector<NttTables> ntt_;
  double log2_qp_ = 0;
  ParamHash hash_{};
  std::vector<uint8_t> canonical_;
  std::unique_ptr<NttTables> plain_;
  std::unique_ptr<BfvTables> bfv_;
  std::vector<std::vector<uint64_t>> inv_last_;
  std::vector<uint64_t> inv_p_;
};

using ContextPtr = std::shared_ptr<const Context>;

}  // namespace swarm::fhe
