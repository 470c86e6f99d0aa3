// ML-KEM (FIPS 203, final, August 2024): module-lattice key encapsulation,
// parameter sets ML-KEM-512, ML-KEM-768 and ML-KEM-1024. Validated against the
// NIST ACVP keyGen and encapDecap vectors (tests/crypto/ml_kem_acvp_test.cpp).
//
//   auto kp = MlKemKeyGen(MlKemParameterSet::k768);          // receiver
//   auto enc = MlKemEncaps(MlKemParameterSet::k768, kp->encaps_key);   // sender
//   send(enc->ciphertext); use(enc->shared_secret)
//   auto ss = MlKemDecaps(MlKemParameterSet::k768, kp->decaps_key.span(), ciphertext);
//
// Contract:
// - Inputs of the wrong length are rejected with InvalidArgumentError naming
//   the field, the parameter set, the expected and the given length.
// - Encaps performs the §7.2 encapsulation-key check (length and modulus);
//   Decaps performs the §7.3 checks (ciphertext and key lengths, and that the
//   hash stored in the decapsulation key matches its encapsulation key). A
//   ciphertext that does not re-encrypt identically is NOT an error: Decaps
//   returns the implicit-rejection key J(z || c) (as FIPS 203 requires), chosen
//   by a constant-time compare and select.
// - No branch or memory index depends on secret data (see crypto/README.md).
//   Secret intermediates are zeroized; secrets handed out (decapsulation keys,
//   shared secrets) live in MlKemSecret, which zeroizes itself on destruction.
// - Randomness (the variants without explicit seeds) comes from OpenSSL
//   RAND_bytes; its failure is an InternalError.
// Thread-safety: all functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace swarm::crypto {

enum class MlKemParameterSet { k512, k768, k1024 };

// Sizes shared by every parameter set, in bytes.
constexpr size_t kMlKemSeedBytes = 32;          // d and z of KeyGen
constexpr size_t kMlKemMessageBytes = 32;       // m of Encaps
constexpr size_t kMlKemSharedSecretBytes = 32;  // K

constexpr size_t kMlKem512EncapsKeyBytes = 800;
constexpr size_t kMlKem512DecapsKeyBytes = 1632;
constexpr size_t kMlKem512CiphertextBytes = 768;
constexpr size_t kMlKem768EncapsKeyBytes = 1184;
constexpr size_t kMlKem768DecapsKeyBytes = 2400;
constexpr size_t kMlKem768CiphertextBytes = 1088;
constexpr size_t kMlKem1024EncapsKeyBytes = 1568;
constexpr size_t kMlKem1024DecapsKeyBytes = 3168;
constexpr size_t kMlKem1024CiphertextBytes = 1568;

struct MlKemParams {
  MlKemParameterSet set;
  const char* name;  // "ML-KEM-768"
  unsigned k, eta1, eta2, du, dv;
  size_t encaps_key_bytes, decaps_key_bytes, ciphertext_bytes;
};
const MlKemParams& MlKemParamsOf(MlKemParameterSet set);
// "ML-KEM-512" | "ML-KEM-768" | "ML-KEM-1024" (also accepted in lower case).
StatusOr<MlKemParameterSet> ParseMlKemParameterSet(std::string_view name);

// Secret bytes that overwrite themselves with zeros when destroyed. Move-only.
class MlKemSecret {
 public:
  MlKemSecret() = default;
  explicit MlKemSecret(Bytes b) : bytes_(std::move(b)) {}
  ~MlKemSecret() { SecureZero(bytes_.data(), bytes_.size()); }
  MlKemSecret(MlKemSecret&& o) noexcept : bytes_(std::move(o.bytes_)) { o.bytes_.clear(); }
  MlKemSecret& operator=(MlKemSecret&& o) noexcept {
    if (this != &o) {
      SecureZero(bytes_.data(), bytes_.size());
      bytes_ = std::move(o.bytes_);
      o.bytes_.clear();
    }
    return *this;
  }
  MlKemSecret(const MlKemSecret&) = delete;
  MlKemSecret& operator=(const MlKemSecret&) = delete;

  ByteSpan span() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  const uint8_t* data() const { return bytes_.data(); }

 private:
  Bytes bytes_;
};

struct MlKemKeyPair {
  Bytes encaps_key;         // ek, public
  MlKemSecret decaps_key;   // dk = dk_pke || ek || H(ek) || z
};

struct MlKemEncapsulation {
  MlKemSecret shared_secret;  // K, 32 bytes
  Bytes ciphertext;           // c
};

// ML-KEM.KeyGen_internal(d, z): deterministic; d and z are 32 bytes each.
StatusOr<MlKemKeyPair> MlKemKeyGen(MlKemParameterSet set, ByteSpan d, ByteSpan z);
// ML-KEM.KeyGen with fresh d, z from RAND_bytes.
StatusOr<MlKemKeyPair> MlKemKeyGen(MlKemParameterSet set);

// ML-KEM.Encaps_internal(ek, m) with a caller-chosen 32-byte m (tests, ACVP).
StatusOr<MlKemEncapsulation> MlKemEncaps(MlKemParameterSet set, ByteSpan encaps_key,
                                         ByteSpan m);
// ML-KEM.Encaps with fresh m from RAND_bytes.
StatusOr<MlKemEncapsulation> MlKemEncaps(MlKemParameterSet set, ByteSpan encaps_key);

// ML-KEM.Decaps with implicit rejection.
StatusOr<MlKemSecret> MlKemDecaps(MlKemParameterSet set, ByteSpan decaps_key,
                                  ByteSpan ciphertext);

// §7.2: length and modulus check of an encapsulation key. OK or
// InvalidArgumentError saying which check failed.
Status MlKemCheckEncapsKey(MlKemParameterSet set, ByteSpan encaps_key);
// §7.3: length check and H(ek) == stored hash of a decapsulation key.
Status MlKemCheckDecapsKey(MlKemParameterSet set, ByteSpan decaps_key);

}  // namespace swarm::crypto
