// ML-DSA-44/65/87 keygen, sign and verify in ops/s, each beside OpenSSL's
// Ed25519 (keygen, sign, verify of the same message) measured in the same run.
#include <openssl/evp.h>

#include "bench_util.h"
#include "benches.h"
#include "crypto/ml_dsa.h"

namespace {

using swarm::bench::Emit;
using swarm::bench::SecondsPerCall;
using namespace swarm::crypto;

constexpr size_t kMessageBytes = 256;  // about one signed envelope header + payload hash

EVP_PKEY* Ed25519Keygen() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  SWARM_ASSERT(ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1);
  EVP_PKEY_CTX_free(ctx);
  return key;
}

struct Ed25519Rates {
  double keygen, sign, verify;
};

Ed25519Rates MeasureEd25519(const swarm::Bytes& msg) {
  Ed25519Rates r{};
  r.keygen = 1.0 / SecondsPerCall([] { EVP_PKEY_free(Ed25519Keygen()); });
  EVP_PKEY* key = Ed25519Keygen();
  uint8_t sig[64];
  size_t sig_len = sizeof(sig);
  auto sign = [&] {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    sig_len = sizeof(sig);
    SWARM_ASSERT(EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
                 EVP_DigestSign(ctx, sig, &sig_len, msg.data(), msg.size()) == 1);
    EVP_MD_CTX_free(ctx);
  };
  r.sign = 1.0 / SecondsPerCall(sign);
  r.verify = 1.0 / SecondsPerCall([&] {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    SWARM_ASSERT(EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
                 EVP_DigestVerify(ctx, sig, sig_len, msg.data(), msg.size()) == 1);
    EVP_MD_CTX_free(ctx);
  });
  EVP_PKEY_free(key);
  return r;
}

}  // namespace

void RunMlDsaBenchmarks() {
  const swarm::Bytes msg(kMessageBytes, 0x5a);
  const Ed25519Rates ed = MeasureEd25519(msg);
  const std::string cmd = "build/bench/crypto/bench_crypto";
  const std::string note =
      "ratio = ML-DSA ops/s / Ed25519 ops/s (< 1: slower than Ed25519); " +
      std::to_string(kMessageBytes) + "-byte message, hedged signing, pure ML-DSA, one thread";
  for (MlDsaLevel level : {MlDsaLevel::k44, MlDsaLevel::k65, MlDsaLevel::k87}) {
    const std::string name = MlDsaName(level);
    const double keygen = 1.0 / SecondsPerCall([&] { SWARM_ASSERT(MlDsaKeyGen(level).ok()); });
    const MlDsaKeyPair kp = MlDsaKeyGen(level).value();
    const double sign =
        1.0 / SecondsPerCall([&] { SWARM_ASSERT(MlDsaSign(level, kp.secret_key, msg).ok()); });
    const swarm::Bytes sig = MlDsaSign(level, kp.secret_key, msg).value();
    const double verify = 1.0 / SecondsPerCall([&] {
      SWARM_ASSERT(MlDsaVerify(level, kp.public_key, msg, sig).value());
    });
    const MlDsaSigningKey prepared_sk = MlDsaSigningKey::Create(level, kp.secret_key).value();
    const double sign_prepared =
        1.0 / SecondsPerCall([&] { SWARM_ASSERT(prepared_sk.Sign(msg).ok()); });
    const MlDsaVerifyingKey vk = MlDsaVerifyingKey::Create(level, kp.public_key).value();
    const double verify_prepared =
        1.0 / SecondsPerCall([&] { SWARM_ASSERT(vk.Verify(msg, sig).value()); });
    Emit({.section = "crypto", .figure = name + " keygen", .value = keygen, .unit = "ops/s",
          .anchor = "OpenSSL Ed25519 keygen", .anchor_value = ed.keygen, .note = note,
          .command = cmd});
    Emit({.section = "crypto", .figure = name + " sign", .value = sign, .unit = "ops/s",
          .anchor = "OpenSSL Ed25519 sign", .anchor_value = ed.sign, .note = note,
          .command = cmd});
    Emit({.section = "crypto", .figure = name + " verify", .value = verify, .unit = "ops/s",
          .anchor = "OpenSSL Ed25519 verify", .anchor_value = ed.verify, .note = note,
          .command = cmd});
    Emit({.section = "crypto", .figure = name + " sign, prepared key (MlDsaSigningKey)",
          .value = sign_prepared, .unit = "ops/s", .anchor = "OpenSSL Ed25519 sign",
          .anchor_value = ed.sign,
          .note = note + "; the secret key is expanded once (what Identity/Signer do)",
          .command = cmd});
    Emit({.section = "crypto", .figure = name + " verify, prepared key (MlDsaVerifyingKey)",
          .value = verify_prepared, .unit = "ops/s", .anchor = "OpenSSL Ed25519 verify",
          .anchor_value = ed.verify,
          .note = note + "; the public key is expanded once (matrix A, NTT(t1)), as for "
                         "repeated messages from one peer",
          .command = cmd});
  }
}
