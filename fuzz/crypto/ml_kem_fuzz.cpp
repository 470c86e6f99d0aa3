// ML-KEM decoding of peer input: arbitrary bytes as encapsulation keys,
// decapsulation keys and ciphertexts of every parameter set. Wrong lengths
// must be errors, right lengths must never crash; a valid key pair must
// decapsulate any same-length ciphertext (implicit rejection, never an error).
#include <cstddef>
#include <cstdint>

#include "crypto/ml_kem.h"

namespace {
using namespace swarm::crypto;

const MlKemKeyPair& Keys(MlKemParameterSet set) {
  static const MlKemKeyPair* keys[3] = {nullptr, nullptr, nullptr};
  auto& k = keys[static_cast<int>(set)];
  if (k == nullptr) {
    const swarm::Bytes d(32, 1), z(32, 2);
    k = new MlKemKeyPair(std::move(MlKemKeyGen(set, d, z).value()));
  }
  return *k;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto set = static_cast<MlKemParameterSet>(data[0] % 3);
  const MlKemParams& p = MlKemParamsOf(set);
  // Half of the inputs are stretched (repeated) or cut to the exact length the
  // parameter set expects, so the arithmetic (not only the length checks) runs.
  swarm::Bytes buf(data + 1, data + size);
  if ((data[0] & 0x80) && !buf.empty()) {
    const size_t want = (data[0] & 0x40) ? p.ciphertext_bytes : p.encaps_key_bytes;
    const size_t have = buf.size();
    buf.resize(want);
    for (size_t i = have; i < want; ++i) buf[i] = buf[i % have];
  }
  const swarm::ByteSpan in(buf);
  // As an encapsulation key (with a fixed m).
  const swarm::Bytes m(32, 3);
  auto enc = MlKemEncaps(set, in, m);
  if (in.size() != p.encaps_key_bytes) SWARM_ASSERT(!enc.ok());
  if (enc.ok()) SWARM_ASSERT(enc->ciphertext.size() == p.ciphertext_bytes);
  // As a ciphertext for a valid key: always a 32-byte key when the length fits.
  auto k = MlKemDecaps(set, Keys(set).decaps_key.span(), in);
  SWARM_ASSERT(k.ok() == (in.size() == p.ciphertext_bytes));
  if (k.ok()) SWARM_ASSERT(k->size() == kMlKemSharedSecretBytes);
  // As a decapsulation key (hash check rejects almost all).
  swarm::Bytes c(p.ciphertext_bytes, 0);
  (void)MlKemDecaps(set, in, c);
  (void)MlKemCheckDecapsKey(set, in);
  return 0;
}
