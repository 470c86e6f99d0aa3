// Secure sums of float vectors (encrypted gradient aggregation), torch-free.
//
// Roles: every contributor encrypts its vector under the group's CKKS public
// key (SecureSumEncryptor); an aggregator, holding no secret, adds the
// encrypted contributions (SecureSumAggregator); a holder of the group's
// secret key decrypts only the aggregate (SecureSumDecryptor), which refuses
// aggregates of fewer than `min_contributors` contributions (a policy guard:
// the count is claimed by the aggregator and cannot be verified, see
// docs/fhe.md "Secure aggregation: trust model").
//
// Encoding: the vector is cut into chunks of slot_count = N/2 values, each
// chunk one CKKS ciphertext at level 0 (only q_0; no multiplication is ever
// needed, so the ciphertext is as small as the parameters allow:
// 2 * N * 8 bytes per chunk, i.e. 32 bytes per float). Every contribution
// promises |value| <= value_abs_max; the aggregate's bound is the sum of the
// promised bounds, and an addition that would let bound * scale reach
// q_0 / 4 is refused (the sum could wrap around the modulus and decrypt to
// garbage). With the presets (q_0 = 60 bits) and scale 2^40 that is a total
// bound of 2^18 = 262144 (e.g. 262 contributions of |g| <= 1000).
// Error: each contribution adds independent encryption noise; the measured
// max abs error of a decrypted sum is in docs/fhe.md (2.8e-7 for 5
// contributions of 10000 values in [-10, 10] at scale 2^40, N = 8192; the
// test asserts < 1e-6 per contribution).
//
// Wire format (SerializeEncryptedVector), little-endian: "SWSS" | u16 version
// (1) | u16 0 | u64 length | u64 contributors | f64 value_abs_max | u32 chunk
// count | per chunk: u64 size + an fhe/serialize.h ciphertext blob. Loading
// checks every field against its named limit and the parameters, and every
// chunk is a level-0, 2-part CKKS ciphertext with one common scale.
//
// Thread-safety: SecureSumEncryptor owns a Prng (one per thread);
// SecureSumAggregator is not synchronized (one per round, one thread);
// SecureSumDecryptor is read-only and may be shared. Errors are
// absl::Status values naming the field and value; nothing aborts on bad input.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "fhe/ckks.h"

namespace swarm::fhe {

inline constexpr size_t kSecureSumLengthMax = size_t{1} << 28;      // floats per vector
inline constexpr uint64_t kSecureSumContributorsMax = uint64_t{1} << 32;
inline constexpr uint16_t kSecureSumWireVersion = 1;

struct SecureSumOptions {
  double scale = 0;             // 0: the context's default scale (2^40 for the presets)
  double value_abs_max = 1000;  // every value of a contribution must satisfy |v| <= this
};

// An encrypted contribution, or a sum of contributions.
struct EncryptedVector {
  size_t length = 0;           // number of values
  uint64_t contributors = 0;   // how many contributions were added (claimed)
  double value_abs_max = 0;    // bound on |value| of every slot of the (sum) vector
  std::vector<Ciphertext> chunks;
};

// Bytes of one serialized contribution of `length` values.
size_t SecureSumContributionBytes(const Context& ctx, size_t length);

class SecureSumEncryptor {
 public:
  // ctx must be a CKKS context and pk a key under it.
  static StatusOr<SecureSumEncryptor> Create(ContextPtr ctx, const PublicKey& pk, SecureSumOptions options = {});
  // Refuses non-finite values and |v| > value_abs_max (naming the index).
  StatusOr<EncryptedVector> Encrypt(std::span<const float> values);
  StatusOr<EncryptedVector> Encrypt(std::span<const double> values);
  void SetPrngForTesting(Prng p) { encryptor_.SetPrngForTesting(std::move(p)); }

 private:
  SecureSumEncryptor(ContextPtr ctx, Encryptor e, SecureSumOptions o)
      : ctx_(std::move(ctx)), encoder_(ctx_), encryptor_(std::move(e)), options_(o) {}
  ContextPtr ctx_;
  CkksEncoder encoder_;
  Encryptor encryptor_;
  SecureSumOptions options_;
};

class SecureSumAggregator {
 public:
  // Accepts only contributions under `group_key` (the group's key id).
  SecureSumAggregator(ContextPtr ctx, KeyId group_key);
  // The first contribution fixes length and scale; later ones must match.
  // On error the running sum is unchanged.
  Status Add(const EncryptedVector& v);
  Status AddSerialized(ByteSpan wire);
  uint64_t contributors() const { return sum_.contributors; }
  bool empty() const { return sum_.contributors == 0; }
  // The encrypted sum so far (contributors == 0 before the first Add).
  const EncryptedVector& sum() const { return sum_; }
  // Starts a new round (same group key).
  void Reset() { sum_ = EncryptedVector{}; }

 private:
  ContextPtr ctx_;
  KeyId group_key_;
  CkksEvaluator evaluator_;
  EncryptedVector sum_;
};

class SecureSumDecryptor {
 public:
  static StatusOr<SecureSumDecryptor> Create(ContextPtr ctx, std::shared_ptr<const SecretKey> sk,
                                             uint64_t min_contributors = 2);
  // The decrypted sum (length values); refuses fewer than min_contributors.
  StatusOr<std::vector<double>> DecryptSum(const EncryptedVector& v) const;
  // The sum divided by v.contributors, as floats.
  StatusOr<std::vector<float>> DecryptMean(const EncryptedVector& v) const;

 private:
  SecureSumDecryptor(ContextPtr ctx, Decryptor d, uint64_t min)
      : ctx_(std::move(ctx)), encoder_(ctx_), decryptor_(std::move(d)), min_contributors_(min) {}
  ContextPtr ctx_;
  CkksEncoder encoder_;
  Decryptor decryptor_;
  uint64_t min_contributors_;
};

Bytes SerializeEncryptedVector(const Context& ctx, const EncryptedVector& v);
StatusOr<EncryptedVector> DeserializeEncryptedVector(const Context& ctx, ByteSpan wire,
                                                     size_t length_max = kSecureSumLengthMax);

}  // namespace swarm::fhe
