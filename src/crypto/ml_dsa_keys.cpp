// Prepared ML-DSA keys (MlDsaSigningKey, MlDsaVerifyingKey): a key expanded
// once, then used for many signatures / verifications.
#include <vector>

#include "crypto/ml_dsa.h"
#include "crypto/ml_dsa_impl.h"

namespace swarm::crypto {

using namespace mldsa_detail;

struct MlDsaVerifyingKey::Expanded {
  MlDsaLevel level;
  Bytes public_key;
  uint8_t tr[64];
  std::vector<Poly> a_hat;   // k * l, NTT domain
  std::vector<Poly> t1_hat;  // k, NTT(t1 * 2^d)
};

StatusOr<MlDsaVerifyingKey> MlDsaVerifyingKey::Create(MlDsaLevel level, ByteSpan pk) {
  SWARM_RETURN_IF_ERROR(CheckLevel(level));
  SWARM_RETURN_IF_ERROR(
      CheckLength("public key", level, pk.size(), MlDsaSizesOf(level).public_key));
  auto e = std::make_shared<Expanded>();
  e->level = level;
  e->public_key.assign(pk.begin(), pk.end());
  TrOfPublicKey(pk, e->tr);
  WithParams(level, [&](auto p) {
    using P = decltype(p);
    e->a_hat.resize(P::K * P::L);
    e->t1_hat.resize(P::K);
    ExpandA(e->a_hat.data(), pk.data(), P::K, P::L);
    for (int i = 0; i < P::K; ++i) {
      UnpackPlain(e->t1_hat[i], 10, pk.data() + 32 + 320 * i);
      PolyShiftLeftD(e->t1_hat[i]);
      Ntt(e->t1_hat[i]);
    }
    return 0;
  });
  MlDsaVerifyingKey key;
  key.e_ = std::move(e);
  return key;
}

MlDsaLevel MlDsaVerifyingKey::level() const { return e_->level; }
const Bytes& MlDsaVerifyingKey::public_key() const { return e_->public_key; }

StatusOr<bool> MlDsaVerifyingKey::VerifyMu(ByteSpan mu, ByteSpan sig) const {
  const MlDsaLevel level = e_->level;
  SWARM_RETURN_IF_ERROR(CheckLength("mu", level, mu.size(), kMlDsaMuBytes));
  SWARM_RETURN_IF_ERROR(CheckLength("signature", level, sig.size(), MlDsaSizesOf(level).signature));
  return WithParams(level, [&](auto p) {
    return VerifyImpl<decltype(p)>(e_->public_key.data(), mu.data(), sig.data(),
                                   e_->a_hat.data(), e_->t1_hat.data());
  });
}

StatusOr<bool> MlDsaVerifyingKey::Verify(ByteSpan message, ByteSpan sig, ByteSpan ctx) const {
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  uint8_t mu[64];
  const Prefix pre = MakePrefix(0, ctx);
  MuFromParts(e_->tr, {ByteSpan(pre.bytes, 2), ctx, message}, mu);
  return VerifyMu(ByteSpan(mu, 64), sig);
}

// ---- MlDsaSigningKey ---------------------------------------------------------

struct MlDsaSigningKey::Expanded {
  MlDsaLevel level;
  uint8_t key[32];
  uint8_t tr[64];
  std::vector<Poly> a_hat, s1_hat, s2_hat, t0_hat;
  ~Expanded() {
    SecureZero(key, sizeof(key));
    for (auto* v : {&s1_hat, &s2_hat, &t0_hat}) SecureZero(v->data(), v->size() * sizeof(Poly));
  }
};

StatusOr<MlDsaSigningKey> MlDsaSigningKey::Create(MlDsaLevel level, ByteSpan sk) {
  SWARM_RETURN_IF_ERROR(CheckSecretKey(level, sk));
  auto e = std::make_shared<Expanded>();
  e->level = level;
  std::memcpy(e->key, sk.data() + 32, 32);
  std::memcpy(e->tr, sk.data() + 64, 64);
  WithParams(level, [&](auto p) {
    using P = decltype(p);
    e->a_hat.resize(P::K * P::L);
    e->s1_hat.resize(P::L);
    e->s2_hat.resize(P::K);
    e->t0_hat.resize(P::K);
    ExpandSecretKey<P>(sk.data(), e->a_hat.data(), e->s1_hat.data(), e->s2_hat.data(),
                       e->t0_hat.data());
    return 0;
  });
  MlDsaSigningKey k;
  k.e_ = std::move(e);
  return k;
}

MlDsaLevel MlDsaSigningKey::level() const { return e_->level; }

StatusOr<Bytes> MlDsaSigningKey::SignMu(ByteSpan mu, ByteSpan rnd) const {
  const MlDsaLevel level = e_->level;
  SWARM_RETURN_IF_ERROR(CheckLength("mu", level, mu.size(), kMlDsaMuBytes));
  SWARM_RETURN_IF_ERROR(CheckLength("rnd", level, rnd.size(), kMlDsaRndBytes));
  Bytes sig(MlDsaSizesOf(level).signature);
  const bool ok = WithParams(level, [&](auto p) {
    using P = decltype(p);
    auto w = NewWork<P>();
    return SignCore<P>(w.get(), e_->key, e_->a_hat.data(), e_->s1_hat.data(), e_->s2_hat.data(),
                       e_->t0_hat.data(), mu.data(), rnd.data(), sig.data());
  });
  if (!ok) return SignAttemptsError(level);
  return sig;
}

StatusOr<Bytes> MlDsaSigningKey::Sign(ByteSpan message, ByteSpan ctx, MlDsaSigning mode) const {
  SWARM_RETURN_IF_ERROR(CheckContext(ctx));
  uint8_t mu[64], rnd[32];
  SWARM_RETURN_IF_ERROR(FillRnd(rnd, mode));
  const Prefix pre = MakePrefix(0, ctx);
  MuFromParts(e_->tr, {ByteSpan(pre.bytes, 2), ctx, message}, mu);
  auto sig = SignMu(ByteSpan(mu, 64), ByteSpan(rnd, 32));
  SecureZero(rnd, sizeof(rnd));
  return sig;
}

}  // namespace swarm::crypto
