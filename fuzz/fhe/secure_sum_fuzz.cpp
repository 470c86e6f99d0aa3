// Fuzz target: the secure-sum wire format (DeserializeEncryptedVector) and the
// TenSEAL-style vector wire format (CkksVector::Deserialize) must return a
// Status on any input; an accepted blob re-serializes to the same bytes, and
// an accepted contribution can be added by an aggregator without aborting.
#include "fhe/secure_sum.h"
#include "fhe/vector.h"
#include "fuzz_util.h"

using namespace swarm;
using namespace swarm::fhe;

namespace {
struct Blobs {
  KeySet keys;
  VectorContextPtr vc;
  Bytes sum_wire, vec_wire;
};
const Blobs& GetBlobs() {
  static const Blobs* b = [] {
    auto* k = new Blobs();
    KeyGenOptions o;
    o.relin_key = false;
    o.galois_keys = false;
    k->keys = *GenerateKeySet(*CkksPreset(4096), o);
    // N = 4096 preset: q_0 = 40 bits, scale 2^29, so bounds must stay below 2^9.
    auto enc = *SecureSumEncryptor::Create(k->keys.eval.ctx, *k->keys.eval.public_key, {.scale = 0, .value_abs_max = 4});
    k->sum_wire = SerializeEncryptedVector(*k->keys.eval.ctx, *enc.Encrypt(std::vector<float>{1, 2, 3}));
    k->vc = *VectorContext::Create(k->keys);
    k->vec_wire = CkksVector::Encrypt(k->vc, std::vector<double>{1, 2, 3})->Serialize();
    return k;
  }();
  return *b;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Blobs& b = GetBlobs();
  const Context& ctx = *b.keys.eval.ctx;
  if (size > 1 && (data[1] & 4)) {
    const Bytes in = fuzz::Mutate(data, size, b.vec_wire);
    auto v = CkksVector::Deserialize(b.vc, in);
    if (v.ok()) SWARM_ASSERT(v->Serialize() == in);
    return 0;
  }
  const Bytes in = fuzz::Mutate(data, size, b.sum_wire);
  auto v = DeserializeEncryptedVector(ctx, in);
  if (v.ok()) {
    SWARM_ASSERT(SerializeEncryptedVector(ctx, *v) == in);
    SecureSumAggregator agg(b.keys.eval.ctx, b.keys.eval.key_id);
    (void)agg.Add(*v);
    (void)agg.Add(*v);
  }
  return 0;
}
