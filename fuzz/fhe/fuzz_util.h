// Shared by the fhe/ fuzz targets: small (N = 4096) parameters and valid
// blobs, and a mutator that either feeds the raw input or applies the input
// as a list of byte edits and a truncation to a valid blob, so that random
// runs reach the deep checks (shapes, ranges, counts) and not only the magic.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "fhe/bfv.h"
#include "fhe/ckks.h"
#include "fhe/serialize.h"

namespace swarm::fhe::fuzz {

struct Corpus {
  ContextPtr ckks, bfv;
  Bytes params_ckks, params_bfv, ct_ckks, ct_bfv, pt_ckks, pt_bfv, sk, pk, rk, gk;
};

inline const Corpus& Get() {
  static const Corpus* c = [] {
    auto* k = new Corpus();
    k->ckks = *Context::Create(*CkksPreset(4096));
    k->bfv = *Context::Create(*BfvPreset(4096));
    std::array<uint8_t, 32> seed{};
    seed[0] = 42;
    KeyGenerator kg(k->ckks, Prng::FromSeed(seed));
    SecretKey sk = kg.GenerateSecretKey();
    PublicKey pk = *kg.GeneratePublicKey(sk);
    k->params_ckks = SerializeParams(*k->ckks);
    k->params_bfv = SerializeParams(*k->bfv);
    k->sk = Serialize(*k->ckks, sk);
    k->pk = Serialize(*k->ckks, pk);
    k->rk = Serialize(*k->ckks, *kg.GenerateRelinKey(sk));
    k->gk = Serialize(*k->ckks, *kg.GenerateGaloisKeys(sk, {1}, false));
    Plaintext p = *CkksEncoder(k->ckks).Encode(std::vector<double>{1, 2, 3});
    k->pt_ckks = Serialize(*k->ckks, p);
    k->ct_ckks = Serialize(*k->ckks, *Encryptor::Create(k->ckks, sk)->Encrypt(p));
    KeyGenerator kb(k->bfv, Prng::FromSeed(seed));
    SecretKey skb = kb.GenerateSecretKey();
    Plaintext pb = *BfvEncoder(k->bfv).Encode(std::vector<uint64_t>{4, 5, 6});
    k->pt_bfv = Serialize(*k->bfv, pb);
    k->ct_bfv = Serialize(*k->bfv, *Encryptor::Create(k->bfv, skb)->Encrypt(pb));
    return k;
  }();
  return *c;
}

// Input byte 0 even: the rest is the blob. Odd: the rest is edits
// (u32 offset, u8 value) applied to `valid`, the last byte (if the count is
// not a multiple of 5) choosing a truncation.
inline Bytes Mutate(const uint8_t* data, size_t size, const Bytes& valid) {
  if (size == 0) return {};
  if ((data[0] & 1) == 0) return Bytes(data + 1, data + size);
  Bytes b = valid;
  size_t i = 1;
  for (; i + 5 <= size; i += 5) {
    uint32_t off;
    std::memcpy(&off, data + i, 4);
    // Bias edits toward the header and the first coefficients.
    const size_t span = (off & 0x80000000u) ? b.size() : std::min<size_t>(b.size(), 256);
    if (span > 0) b[(off & 0x7fffffffu) % span] = data[i + 4];
  }
  if (i < size && !b.empty()) b.resize(b.size() - (data[i] % 2 == 0 ? 0 : 1 + data[i] % 64));
  return b;
}

}  // namespace swarm::fhe::fuzz
