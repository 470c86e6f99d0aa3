// ML-DSA (FIPS 204, final, August 2024): module-lattice digital signatures.
//
// Parameter sets ML-DSA-44 / -65 / -87. Keys and signatures are the standard
// byte encodings (pkEncode, skEncode, sigEncode), so they interoperate with any
// other FIPS 204 implementation and with the NIST ACVP vectors.
//
// Interfaces (FIPS 204 section 5 and 6):
//   MlDsaKeyGen / MlDsaKeyGenFromSeed   ML-DSA.KeyGen; from-seed = KeyGen_internal(xi)
//   MlDsaSign / MlDsaVerify             pure ML-DSA with a context string
//   MlDsaSignPreHash / MlDsaVerifyPreHash  HashML-DSA (the 12 approved hashes)
//   MlDsaSignInternal / MlDsaVerifyInternal  Sign_internal / Verify_internal on M'
//   MlDsaSignMu / MlDsaVerifyMu         the internal interface with an externally
//                                       computed mu = H(H(pk, 64) || M', 64)
// Signing is hedged (rnd = 32 bytes from OpenSSL RAND_bytes) unless
// MlDsaSigning::kDeterministic (rnd = 0^32) is asked for.
//
// Errors: wrong-length keys, signatures, seeds, rnd or mu, and contexts longer
// than 255 bytes, are InvalidArgument naming the field and both lengths;
// nothing reads past a given buffer. Verify returns false (not an error) for a
// well-sized signature that does not verify, including a malformed hint.
// A failing RAND_bytes is Internal.
//
// Side channels: no secret-dependent branch or memory index in the arithmetic
// (see README.md for how this was checked); secret intermediates are wiped
// with SecureZero before returning.
//
// Thread-safety: every function is pure (no shared state) and may be called
// from any number of threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace swarm::crypto {

enum class MlDsaLevel : uint8_t { k44 = 44, k65 = 65, k87 = 87 };

inline constexpr size_t kMlDsaSeedBytes = 32;
inline constexpr size_t kMlDsaRndBytes = 32;
inline constexpr size_t kMlDsaMuBytes = 64;
inline constexpr size_t kMlDsaContextBytesMax = 255;

inline constexpr size_t kMlDsa44PublicKeyBytes = 1312;
inline constexpr size_t kMlDsa44SecretKeyBytes = 2560;
inline constexpr size_t kMlDsa44SignatureBytes = 2420;
inline constexpr size_t kMlDsa65PublicKeyBytes = 1952;
inline constexpr size_t kMlDsa65SecretKeyBytes = 4032;
inline constexpr size_t kMlDsa65SignatureBytes = 3309;
inline constexpr size_t kMlDsa87PublicKeyBytes = 2592;
inline constexpr size_t kMlDsa87SecretKeyBytes = 4896;
inline constexpr size_t kMlDsa87SignatureBytes = 4627;

struct MlDsaSizes {
  size_t public_key;
  size_t secret_key;
  size_t signature;
};
constexpr MlDsaSizes MlDsaSizesOf(MlDsaLevel level) {
  switch (level) {
    case MlDsaLevel::k44:
      return {kMlDsa44PublicKeyBytes, kMlDsa44SecretKeyBytes, kMlDsa44SignatureBytes};
    case MlDsaLevel::k65:
      return {kMlDsa65PublicKeyBytes, kMlDsa65SecretKeyBytes, kMlDsa65SignatureBytes};
    case MlDsaLevel::k87:
      return {kMlDsa87PublicKeyBytes, kMlDsa87SecretKeyBytes, kMlDsa87SignatureBytes};
  }
  return {0, 0, 0};
}

// "ML-DSA-44" etc.; parsing also accepts lower case ("ml-dsa-65").
std::string MlDsaName(MlDsaLevel level);
StatusOr<MlDsaLevel> MlDsaLevelFromName(std::string_view name);

// Pre-hash functions approved for HashML-DSA, named as in ACVP ("SHA2-256",
// "SHA2-512/224", "SHA3-384", "SHAKE-128", ...). SHAKE-128 yields 256 bits,
// SHAKE-256 512 bits (FIPS 204 section 5.4).
enum class MlDsaHash : uint8_t {
  kSha2_224, kSha2_256, kSha2_384, kSha2_512, kSha2_512_224, kSha2_512_256,
  kSha3_224, kSha3_256, kSha3_384, kSha3_512, kShake128, kShake256,
};
std::string MlDsaHashName(MlDsaHash hash);
StatusOr<MlDsaHash> MlDsaHashFromName(std::string_view name);

enum class MlDsaSigning : uint8_t { kHedged, kDeterministic };

// Key pair; the destructor wipes secret_key.
struct MlDsaKeyPair {
  Bytes public_key;
  Bytes secret_key;
  MlDsaKeyPair() = default;
  MlDsaKeyPair(const MlDsaKeyPair&) = default;
  MlDsaKeyPair(MlDsaKeyPair&&) noexcept = default;
  MlDsaKeyPair& operator=(const MlDsaKeyPair&) = default;
  MlDsaKeyPair& operator=(MlDsaKeyPair&&) noexcept = default;
  ~MlDsaKeyPair();
};

// KeyGen with a fresh 32-byte seed from RAND_bytes.
StatusOr<MlDsaKeyPair> MlDsaKeyGen(MlDsaLevel level);
// KeyGen_internal(xi): deterministic; `seed` must be 32 bytes.
StatusOr<MlDsaKeyPair> MlDsaKeyGenFromSeed(MlDsaLevel level, ByteSpan seed);

// Pure ML-DSA.Sign / Verify (Algorithms 2 and 3) with context `ctx`.
StatusOr<Bytes> MlDsaSign(MlDsaLevel level, ByteSpan secret_key, ByteSpan message,
                          ByteSpan ctx = {}, MlDsaSigning mode = MlDsaSigning::kHedged);
StatusOr<bool> MlDsaVerify(MlDsaLevel level, ByteSpan public_key, ByteSpan message,
                           ByteSpan signature, ByteSpan ctx = {});

// HashML-DSA.Sign / Verify (Algorithms 4 and 5).
StatusOr<Bytes> MlDsaSignPreHash(MlDsaLevel level, ByteSpan secret_key, ByteSpan message,
                                 ByteSpan ctx, MlDsaHash hash,
                                 MlDsaSigning mode = MlDsaSigning::kHedged);
StatusOr<bool> MlDsaVerifyPreHash(MlDsaLevel level, ByteSpan public_key, ByteSpan message,
                                  ByteSpan signature, ByteSpan ctx, MlDsaHash hash);

// The message M' that Sign/SignPreHash pass to Sign_internal:
//   pure:     0x00 || len(ctx) || ctx || message
//   pre-hash: 0x01 || len(ctx) || ctx || OID(hash) || hash(message)
StatusOr<Bytes> MlDsaFormatMessage(ByteSpan message, ByteSpan ctx);
StatusOr<Bytes> MlDsaFormatPreHashMessage(ByteSpan message, ByteSpan ctx, MlDsaHash hash);

// Sign_internal / Verify_internal (Algorithms 7 and 8) on a formatted M'.
// `rnd` must be 32 bytes (all zero = the deterministic variant).
StatusOr<Bytes> MlDsaSignInternal(MlDsaLevel level, ByteSpan secret_key, ByteSpan m_prime,
                                  ByteSpan rnd);
StatusOr<bool> MlDsaVerifyInternal(MlDsaLevel level, ByteSpan public_key, ByteSpan m_prime,
                                   ByteSpan signature);

// The same with mu (64 bytes) computed by the caller ("external mu").
StatusOr<Bytes> MlDsaSignMu(MlDsaLevel level, ByteSpan secret_key, ByteSpan mu, ByteSpan rnd);
StatusOr<bool> MlDsaVerifyMu(MlDsaLevel level, ByteSpan public_key, ByteSpan mu,
                             ByteSpan signature);
// mu = SHAKE256(SHAKE256(pk, 64) || M', 64).
StatusOr<Bytes> MlDsaComputeMu(MlDsaLevel level, ByteSpan public_key, ByteSpan m_prime);

// A secret key expanded once (skDecode, NTT(s1), NTT(s2), NTT(t0), the
// matrix A) for signing many messages: Sign then starts at the rejection
// loop. Same signatures as MlDsaSign / MlDsaSignMu for the same rnd.
// Immutable after Create; copies share the expansion, which is wiped when the
// last copy goes; safe to use from several threads.
class MlDsaSigningKey {
 public:
  static StatusOr<MlDsaSigningKey> Create(MlDsaLevel level, ByteSpan secret_key);
  MlDsaLevel level() const;
  StatusOr<Bytes> Sign(ByteSpan message, ByteSpan ctx = {},
                       MlDsaSigning mode = MlDsaSigning::kHedged) const;
  StatusOr<Bytes> SignMu(ByteSpan mu, ByteSpan rnd) const;

  struct Expanded;  // defined in ml_dsa.cpp

 private:
  MlDsaSigningKey() = default;
  std::shared_ptr<const Expanded> e_;
};

// A public key expanded once (the matrix A, NTT(t1 * 2^d) and tr), for
// verifying many signatures by the same signer: Verify then skips ExpandA and
// hashing the key, which are most of MlDsaVerify's cost. Same results as
// MlDsaVerify / MlDsaVerifyMu. Immutable after Create; copies share the
// expansion (~40 KiB for ML-DSA-65); safe to use from several threads.
class MlDsaVerifyingKey {
 public:
  static StatusOr<MlDsaVerifyingKey> Create(MlDsaLevel level, ByteSpan public_key);
  MlDsaLevel level() const;
  const Bytes& public_key() const;
  StatusOr<bool> Verify(ByteSpan message, ByteSpan signature, ByteSpan ctx = {}) const;
  StatusOr<bool> VerifyMu(ByteSpan mu, ByteSpan signature) const;

  struct Expanded;  // defined in ml_dsa.cpp

 private:
  MlDsaVerifyingKey() = default;
  std::shared_ptr<const Expanded> e_;
};

}  // namespace swarm::crypto
