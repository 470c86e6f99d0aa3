// ML-KEM-768/1024 keygen, encaps and decaps in ops/s, each beside OpenSSL's
// X25519 (key generation + one derive = one side of an ECDH key agreement),
// measured in the same run.
#include <openssl/evp.h>

#include "bench_util.h"
#include "benches.h"
#include "crypto/ml_kem.h"

namespace {

using swarm::bench::Emit;
using swarm::bench::SecondsPerCall;
using namespace swarm::crypto;

EVP_PKEY* X25519Keygen() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr);
  SWARM_ASSERT(ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1);
  EVP_PKEY_CTX_free(ctx);
  return key;
}

// One X25519 keygen plus a derive against a fixed peer key.
double X25519OpsPerSecond() {
  EVP_PKEY* peer = X25519Keygen();
  const double s = SecondsPerCall([&] {
    EVP_PKEY* mine = X25519Keygen();
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(mine, nullptr);
    uint8_t secret[32];
    size_t len = sizeof(secret);
    SWARM_ASSERT(EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
                 EVP_PKEY_derive(ctx, secret, &len) == 1);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(mine);
  });
  EVP_PKEY_free(peer);
  return 1.0 / s;
}

}  // namespace

void RunMlKemBenchmarks() {
  const double x25519 = X25519OpsPerSecond();
  const std::string anchor = "OpenSSL X25519 keygen+derive";
  const std::string note =
      "ratio = ML-KEM ops/s / X25519 (keygen + derive) ops/s, same run; ML-KEM here is portable "
      "C++ without SIMD";
  for (auto set : {MlKemParameterSet::k768, MlKemParameterSet::k1024}) {
    const std::string name = MlKemParamsOf(set).name;
    auto kp = MlKemKeyGen(set);
    SWARM_ASSERT(kp.ok());
    auto enc = MlKemEncaps(set, kp->encaps_key);
    SWARM_ASSERT(enc.ok());
    const double keygen = 1.0 / SecondsPerCall([&] { SWARM_ASSERT(MlKemKeyGen(set).ok()); });
    const double encaps =
        1.0 / SecondsPerCall([&] { SWARM_ASSERT(MlKemEncaps(set, kp->encaps_key).ok()); });
    const double decaps = 1.0 / SecondsPerCall([&] {
      SWARM_ASSERT(MlKemDecaps(set, kp->decaps_key.span(), enc->ciphertext).ok());
    });
    for (const auto& [op, v] : {std::pair{"keygen", keygen}, {"encaps", encaps}, {"decaps", decaps}}) {
      Emit({.section = "crypto",
            .figure = name + " " + op,
            .value = v,
            .unit = "ops/s",
            .anchor = anchor,
            .anchor_value = x25519,
            .note = note,
            .command = "build/bench/crypto/bench_crypto"});
    }
  }
}
