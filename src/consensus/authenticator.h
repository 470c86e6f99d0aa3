// How replicas sign and verify protocol messages.
//
// The replica never touches keys: it hands the canonical bytes of each message
// to an Authenticator. Production uses ML-DSA-65 signatures
// (consensus/ml_dsa_authenticator.h, when crypto/identity.h is built).
// KeyedHashAuthenticator is HMAC-SHA3-256 with one key per replica where every
// verifier holds every key: it models unforgeable signatures only inside one
// process (simulations, benchmarks), because anyone able to verify could also
// forge. Never use it between mutually distrusting processes.
//
// Thread-safety: an Authenticator instance is used by one replica on one
// thread. Sign/Verify are not const so implementations may keep counters.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "consensus/types.h"

namespace swarm::consensus {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Signature of this replica over `msg`.
  virtual Bytes Sign(ByteSpan msg) = 0;
  // True iff `sig` is `signer`'s valid signature over `msg`. An unknown signer
  // or malformed signature is simply false.
  virtual bool Verify(ReplicaId signer, ByteSpan msg, ByteSpan sig) = 0;
};

// HMAC-SHA3-256 (OpenSSL EVP_MAC). keys[i] belongs to replica i.
class KeyedHashAuthenticator final : public Authenticator {
 public:
  KeyedHashAuthenticator(ReplicaId self, std::vector<Bytes> keys);
  ~KeyedHashAuthenticator() override;
  KeyedHashAuthenticator(const KeyedHashAuthenticator&) = delete;
  KeyedHashAuthenticator& operator=(const KeyedHashAuthenticator&) = delete;

  Bytes Sign(ByteSpan msg) override;
  bool Verify(ReplicaId signer, ByteSpan msg, ByteSpan sig) override;

  // n keys derived deterministically from `seed` (SHA3-256 of seed and index).
  static std::vector<Bytes> DeriveKeys(uint32_t n, uint64_t seed);

 private:
  Bytes Mac(uint32_t who, ByteSpan msg);
  ReplicaId self_;
  std::vector<Bytes> keys_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace swarm::consensus
