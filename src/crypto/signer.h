// Signature schemes for peer identities, behind one Signer / verify interface.
//
// Schemes (config key `signature`):
//   "ml-dsa-65" (default)  ML-DSA-65, FIPS 204, hedged, context "swarm/v1"
//   "ml-dsa-87"            ML-DSA-87, same
//   "hybrid"               Ed25519 (OpenSSL EVP) AND ML-DSA-65; both must verify
// Encodings (all fixed-length; lengths in SchemeSizesOf):
//   ml-dsa-*: public key, secret key and signature are the FIPS 204 encodings.
//   hybrid:   public key = Ed25519 public key (32) || ML-DSA-65 public key (1952)
//             secret key = Ed25519 private seed (32) || ML-DSA-65 secret key (4032)
//             signature  = Ed25519 signature (64) || ML-DSA-65 signature (3309)
//             Ed25519 signs "swarm/v1/ed25519" || message (pure Ed25519, RFC 8032);
//             ML-DSA-65 signs message with context "swarm/v1".
//
// Errors: VerifySignature returns OK for a valid signature,
// UnauthenticatedError for a well-formed signature that does not verify, and
// InvalidArgumentError (naming the field, the scheme and both lengths) for a
// public key or signature of the wrong length; nothing reads past a buffer.
//
// Thread-safety: a Signer is immutable after creation; Sign may be called from
// several threads at once. Free functions are pure. Secret keys held by a
// Signer are wiped on destruction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace swarm::crypto {

enum class SignatureScheme : uint8_t { kMlDsa65 = 1, kMlDsa87 = 2, kHybrid = 3 };
inline constexpr SignatureScheme kDefaultSignatureScheme = SignatureScheme::kMlDsa65;

// "ml-dsa-65", "ml-dsa-87", "hybrid".
std::string SchemeName(SignatureScheme scheme);
// Accepts the names above (case-insensitive); the error lists them.
StatusOr<SignatureScheme> SchemeFromName(std::string_view name);
// The scheme with this numeric id (the key-file byte), or an error.
StatusOr<SignatureScheme> SchemeFromId(uint8_t id);

struct SchemeSizes {
  size_t public_key;
  size_t secret_key;
  size_t signature;
};
SchemeSizes SchemeSizesOf(SignatureScheme scheme);

class Signer {
 public:
  virtual ~Signer() = default;
  virtual SignatureScheme scheme() const = 0;
  virtual const Bytes& public_key() const = 0;
  // A signature of `message` (hedged: two calls give different bytes).
  virtual StatusOr<Bytes> Sign(ByteSpan message) const = 0;
  // The secret-key encoding (for key files). The caller must wipe it
  // (SecureZero) after use.
  virtual Bytes ExportSecretKey() const = 0;
};

// A fresh key pair for `scheme` (randomness from OpenSSL RAND_bytes).
StatusOr<std::unique_ptr<Signer>> GenerateSigner(SignatureScheme scheme);
// A signer from stored keys. Checks both lengths and that the secret key
// belongs to the public key (ML-DSA: rho and tr; Ed25519: derived public key).
StatusOr<std::unique_ptr<Signer>> SignerFromKeys(SignatureScheme scheme, ByteSpan public_key,
                                                 ByteSpan secret_key);
Status VerifySignature(SignatureScheme scheme, ByteSpan public_key, ByteSpan message,
                       ByteSpan signature);

// Verifier: the verify half, for code that is handed a scheme at run time.
class Verifier {
 public:
  explicit Verifier(SignatureScheme scheme) : scheme_(scheme) {}
  SignatureScheme scheme() const { return scheme_; }
  Status Verify(ByteSpan public_key, ByteSpan message, ByteSpan signature) const {
    return VerifySignature(scheme_, public_key, message, signature);
  }

 private:
  SignatureScheme scheme_;
};

// A peer's public key prepared once for verifying many of its messages (for
// ML-DSA the expanded matrix, see MlDsaVerifyingKey: several times faster per
// message than VerifySignature). Same results and errors as VerifySignature.
// Immutable after Create; copies share the expansion; thread-safe.
class PreparedVerifier {
 public:
  static StatusOr<PreparedVerifier> Create(SignatureScheme scheme, ByteSpan public_key);
  SignatureScheme scheme() const { return scheme_; }
  const Bytes& public_key() const;
  Status Verify(ByteSpan message, ByteSpan signature) const;

  struct State;  // defined in ml_dsa_signer.cpp

 private:
  PreparedVerifier() = default;
  SignatureScheme scheme_ = kDefaultSignatureScheme;
  std::shared_ptr<const State> state_;
};

}  // namespace swarm::crypto
