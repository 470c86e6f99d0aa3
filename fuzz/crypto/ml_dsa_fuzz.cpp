// ML-DSA public-key and signature decoding on arbitrary bytes, for every
// parameter set: wrong lengths must be errors; right lengths must give a
// verdict (never a crash or a read past the buffer); a real signature with
// any byte changed must not verify; a context over 255 bytes is an error.
#include <cstddef>
#include <cstdint>

#include "crypto/ml_dsa.h"

namespace {
using namespace swarm::crypto;
using swarm::Bytes;
using swarm::ByteSpan;

struct Fixture {
  MlDsaKeyPair kp;
  Bytes msg = {'f', 'u', 'z', 'z'};
  Bytes sig;
};

const Fixture& Fixed(MlDsaLevel level) {
  static Fixture* f[3] = {nullptr, nullptr, nullptr};
  const int i = level == MlDsaLevel::k44 ? 0 : level == MlDsaLevel::k65 ? 1 : 2;
  if (f[i] == nullptr) {
    f[i] = new Fixture;
    f[i]->kp = MlDsaKeyGenFromSeed(level, Bytes(32, static_cast<uint8_t>(i + 1))).value();
    f[i]->sig = MlDsaSign(level, f[i]->kp.secret_key, f[i]->msg, {},
                          MlDsaSigning::kDeterministic).value();
  }
  return *f[i];
}

// `len` bytes taken cyclically from `src` (zeros if src is empty).
Bytes Fill(ByteSpan src, size_t len) {
  Bytes out(len, 0);
  for (size_t i = 0; i < len && !src.empty(); ++i) out[i] = src[i % src.size()];
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const MlDsaLevel level = data[0] % 3 == 0 ? MlDsaLevel::k44
                           : data[0] % 3 == 1 ? MlDsaLevel::k65
                                              : MlDsaLevel::k87;
  const MlDsaSizes sz = MlDsaSizesOf(level);
  const ByteSpan in(data + 2, size - 2);
  const Fixture& fx = Fixed(level);
  switch (data[1] % 4) {
    case 0: {  // raw split: public key then signature, lengths as given
      const size_t split = std::min(in.size(), static_cast<size_t>(data[0]) * 16);
      auto r = MlDsaVerify(level, in.first(split), fx.msg, in.subspan(split));
      const bool lengths_ok = split == sz.public_key && in.size() - split == sz.signature;
      SWARM_ASSERT(r.ok() == lengths_ok);
      break;
    }
    case 1: {  // arbitrary signature bytes against a real key
      const Bytes sig = Fill(in, sz.signature);
      auto r = MlDsaVerify(level, fx.kp.public_key, fx.msg, sig);
      SWARM_ASSERT(r.ok());
      SWARM_ASSERT(!*r || sig == fx.sig);
      // The prepared-key path agrees with the one-shot path.
      static const MlDsaVerifyingKey* vk[3] = {nullptr, nullptr, nullptr};
      const int vi = static_cast<int>(data[0] % 3);
      if (vk[vi] == nullptr)
        vk[vi] = new MlDsaVerifyingKey(MlDsaVerifyingKey::Create(level, fx.kp.public_key).value());
      SWARM_ASSERT(vk[vi]->Verify(fx.msg, sig).value() == *r);
      auto mu = MlDsaVerifyMu(level, fx.kp.public_key, Fill(in, kMlDsaMuBytes), sig);
      SWARM_ASSERT(mu.ok());
      break;
    }
    case 2: {  // a real signature with input bytes XORed in at input positions
      Bytes sig = fx.sig;
      bool changed = false;
      for (size_t i = 0; i + 2 < in.size(); i += 3) {
        const size_t pos = (size_t{in[i]} << 8 | in[i + 1]) % sig.size();
        changed |= in[i + 2] != 0;
        sig[pos] ^= in[i + 2];
      }
      auto r = MlDsaVerify(level, fx.kp.public_key, fx.msg, sig);
      SWARM_ASSERT(r.ok());
      if (sig != fx.sig) SWARM_ASSERT(!*r);
      if (!changed) SWARM_ASSERT(*r);
      break;
    }
    default: {  // arbitrary public key, signature and context
      const Bytes pk = Fill(in, sz.public_key);
      const Bytes sig = Fill(in.size() > 7 ? in.subspan(7) : in, sz.signature);
      const size_t ctx_len = in.empty() ? 0 : in[0] + (in.size() > 1 ? in[1] % 2 : 0);
      const Bytes ctx = Fill(in, ctx_len);
      auto r = MlDsaVerify(level, pk, fx.msg, sig, ctx);
      SWARM_ASSERT(r.ok() == (ctx_len <= kMlDsaContextBytesMax));
      auto p = MlDsaVerifyPreHash(level, pk, fx.msg, sig, {}, MlDsaHash::kSha2_256);
      SWARM_ASSERT(p.ok());
    }
  }
  return 0;
}
