// Shared test fixture: reproducible CKKS (N = 8192, levels 0..2) and BFV
// (N = 4096) keys, encryption and decryption for the jobs/ tests.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "fhe/bfv.h"
#include "fhe/ckks.h"
#include "fhe/keys.h"
#include "fhe/serialize.h"
#include "jobs/evaluate.h"

namespace swarm::jobs::testing {

inline std::array<uint8_t, 32> Seed(uint8_t b) {
  std::array<uint8_t, 32> s{};
  s.fill(b);
  return s;
}

struct FheFixture {
  EvalKeys keys;
  std::optional<fhe::SecretKey> sk;
  std::optional<fhe::Encryptor> enc;
  std::optional<fhe::Decryptor> dec;

  // rotations: the Galois steps to generate (plus every positive power of two
  // when `sum_keys`).
  static FheFixture Make(fhe::Scheme scheme, size_t n, std::vector<int> rotations, bool sum_keys, bool relin = true) {
    FheFixture f;
    auto spec = scheme == fhe::Scheme::kCkks ? fhe::CkksPreset(n) : fhe::BfvPreset(n);
    f.keys.ctx = *fhe::Context::Create(*spec);
    fhe::KeyGenerator kg(f.keys.ctx, fhe::Prng::FromSeed(Seed(1)));
    f.sk = kg.GenerateSecretKey();
    if (relin) f.keys.relin = std::make_shared<const fhe::RelinKey>(*kg.GenerateRelinKey(*f.sk));
    if (sum_keys) {
      for (size_t s = 1; s < f.keys.ctx->slot_count(); s <<= 1) rotations.push_back(static_cast<int>(s));
    }
    if (!rotations.empty()) {
      f.keys.galois = std::make_shared<const fhe::GaloisKeys>(*kg.GenerateGaloisKeys(*f.sk, rotations, false));
    }
    f.enc.emplace(*fhe::Encryptor::Create(f.keys.ctx, *f.sk));
    f.enc->SetPrngForTesting(fhe::Prng::FromSeed(Seed(2)));
    f.dec.emplace(*fhe::Decryptor::Create(f.keys.ctx, *f.sk));
    return f;
  }

  fhe::Ciphertext EncryptCkks(const std::vector<double>& v) {
    fhe::CkksEncoder e(keys.ctx);
    return *enc->Encrypt(*e.Encode(std::span<const double>(v)));
  }
  std::vector<double> DecryptCkks(const fhe::Ciphertext& c) {
    fhe::CkksEncoder e(keys.ctx);
    return *e.Decode(*dec->Decrypt(c));
  }
  fhe::Ciphertext EncryptBfv(const std::vector<int64_t>& v) {
    fhe::BfvEncoder e(keys.ctx);
    return *enc->Encrypt(*e.EncodeSigned(v));
  }
  std::vector<int64_t> DecryptBfv(const fhe::Ciphertext& c) {
    fhe::BfvEncoder e(keys.ctx);
    return *e.DecodeSigned(*dec->Decrypt(c));
  }
};

}  // namespace swarm::jobs::testing
