#include "consensus/authenticator.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/hash.h"

namespace swarm::consensus {

struct KeyedHashAuthenticator::Impl {
  EVP_MAC* mac = nullptr;
  std::vector<EVP_MAC_CTX*> keyed;  // one pre-keyed context per replica, duplicated per use
};

KeyedHashAuthenticator::KeyedHashAuthenticator(ReplicaId self, std::vector<Bytes> keys)
    : self_(self), keys_(std::move(keys)), impl_(std::make_unique<Impl>()) {
  SWARM_ASSERT(self_.value() < keys_.size());
  impl_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  SWARM_ASSERT(impl_->mac != nullptr);
  char digest[] = "SHA3-256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  for (const auto& k : keys_) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(impl_->mac);
    SWARM_ASSERT(ctx != nullptr);
    SWARM_ASSERT(EVP_MAC_init(ctx, k.data(), k.size(), params) == 1);
    impl_->keyed.push_back(ctx);
  }
}

KeyedHashAuthenticator::~KeyedHashAuthenticator() {
  for (auto* c : impl_->keyed) EVP_MAC_CTX_free(c);
  EVP_MAC_free(impl_->mac);
  for (auto& k : keys_) SecureZero(k.data(), k.size());
}

Bytes KeyedHashAuthenticator::Mac(uint32_t who, ByteSpan msg) {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(impl_->keyed[who]);
  SWARM_ASSERT(ctx != nullptr);
  SWARM_ASSERT(EVP_MAC_update(ctx, msg.data(), msg.size()) == 1);
  Bytes out(32);
  size_t len = 0;
  SWARM_ASSERT(EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1);
  SWARM_ASSERT(len == 32);
  EVP_MAC_CTX_free(ctx);
  return out;
}

Bytes KeyedHashAuthenticator::Sign(ByteSpan msg) { return Mac(self_.value(), msg); }

bool KeyedHashAuthenticator::Verify(ReplicaId signer, ByteSpan msg, ByteSpan sig) {
  if (signer.value() >= keys_.size() || sig.size() != 32) return false;
  const Bytes expect = Mac(signer.value(), msg);
  return CRYPTO_memcmp(expect.data(), sig.data(), 32) == 0;
}

std::vector<Bytes> KeyedHashAuthenticator::DeriveKeys(uint32_t n, uint64_t seed) {
  std::vector<Bytes> keys;
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t in[12];
    for (int b = 0; b < 8; ++b) in[b] = static_cast<uint8_t>(seed >> (8 * b));
    for (int b = 0; b < 4; ++b) in[8 + b] = static_cast<uint8_t>(i >> (8 * b));
    const auto d = crypto::Sha3_256({AsBytes("swarm.pbft.test-key"), ByteSpan(in, sizeof in)});
    keys.emplace_back(d.begin(), d.end());
  }
  return keys;
}

}  // namespace swarm::consensus
