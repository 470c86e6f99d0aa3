// Encryption and decryption for both schemes.
//
// Encryptor: public-key encryption (c0, c1) = (b*u + e0 + M, a*u + e1) with u
// ternary and e0, e1 centered binomial, or secret-key encryption
// (-a*s + e + M, a). M is the CKKS plaintext itself (already scaled) or, for
// BFV, floor(Q/t) * m. A CKKS ciphertext is made at the plaintext's level.
// Decryptor: CKKS returns the plaintext c0 + c1*s (+ c2*s^2) at the
// ciphertext's level and scale; BFV returns round(t/Q * (c0 + c1*s)) mod t.
// InvariantNoiseBudget (BFV) measures -log2(2 * |v|) of the invariant noise v
// exactly (as SEAL reports it); 0 means decryption is no longer correct.
//
// Errors: a plaintext/ciphertext under other parameters (parameter hash), or
// a ciphertext made under another key (key id), is refused with
// InvalidArgument, never decrypted to garbage. Thread-safety: an Encryptor
// owns a Prng and must not be shared between threads; a Decryptor is
// read-only and may be.
#pragma once

#include <optional>

#include "fhe/ciphertext.h"
#include "fhe/sampler.h"

namespace swarm::fhe {

class Encryptor {
 public:
  static StatusOr<Encryptor> Create(ContextPtr ctx, const PublicKey& pk);
  static StatusOr<Encryptor> Create(ContextPtr ctx, const SecretKey& sk);
  // Tests: a reproducible randomness stream.
  void SetPrngForTesting(Prng p) { prng_ = std::move(p); }

  StatusOr<Ciphertext> Encrypt(const Plaintext& pt);

 private:
  Encryptor(ContextPtr ctx, Prng p) : ctx_(std::move(ctx)), prng_(std::move(p)) {}
  RnsPoly ScaledMessage(const Plaintext& pt, size_t level) const;
  ContextPtr ctx_;
  Prng prng_;
  std::optional<PublicKey> pk_;
  std::optional<SecretKey> sk_;
};

class Decryptor {
 public:
  static StatusOr<Decryptor> Create(ContextPtr ctx, const SecretKey& sk);
  StatusOr<Plaintext> Decrypt(const Ciphertext& ct) const;
  // BFV only.
  StatusOr<double> InvariantNoiseBudget(const Ciphertext& ct) const;

 private:
  Decryptor(ContextPtr ctx, SecretKey sk) : ctx_(std::move(ctx)), sk_(std::move(sk)) {}
  Status Check(const Ciphertext& ct) const;
  // c0 + c1*s + ... in coefficient form at the ciphertext's level.
  RnsPoly Phase(const Ciphertext& ct) const;
  ContextPtr ctx_;
  SecretKey sk_;
};

// Structural checks shared by decryptor, evaluators and deserializers.
Status ValidateCiphertext(const Context& ctx, const Ciphertext& ct);
Status ValidatePlaintext(const Context& ctx, const Plaintext& pt);

}  // namespace swarm::fhe
