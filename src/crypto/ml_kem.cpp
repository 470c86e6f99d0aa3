// ML-KEM per FIPS 203: K-PKE (Algorithms 13-15) and the KEM around it
// (Algorithms 16-18), with the input checks of §7.
#include "crypto/ml_kem.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>

#include "crypto/hash.h"
#include "crypto/ml_kem_poly.h"

namespace swarm::crypto {
namespace {

using mlkem::Poly;
constexpr size_t kPolyBytes12 = 384;  // ByteEncode_12 of one polynomial
constexpr unsigned kMaxK = 4;

constexpr MlKemParams kParams[] = {
    {MlKemParameterSet::k512, "ML-KEM-512", 2, 3, 2, 10, 4, kMlKem512EncapsKeyBytes,
     kMlKem512DecapsKeyBytes, kMlKem512CiphertextBytes},
    {MlKemParameterSet::k768, "ML-KEM-768", 3, 2, 2, 10, 4, kMlKem768EncapsKeyBytes,
     kMlKem768DecapsKeyBytes, kMlKem768CiphertextBytes},
    {MlKemParameterSet::k1024, "ML-KEM-1024", 4, 2, 2, 11, 5, kMlKem1024EncapsKeyBytes,
     kMlKem1024DecapsKeyBytes, kMlKem1024CiphertextBytes},
};
static_assert(kMlKem768EncapsKeyBytes == 384 * 3 + 32);
static_assert(kMlKem768DecapsKeyBytes == 768 * 3 + 96);
static_assert(kMlKem1024CiphertextBytes == 32 * (11 * 4 + 5));

// A vector of up to four polynomials, zeroized on destruction.
struct PolyVec {
  std::array<Poly, kMaxK> p{};
  ~PolyVec() { SecureZero(p.data(), sizeof(p)); }
  Poly& operator[](size_t i) { return p[i]; }
  const Poly& operator[](size_t i) const { return p[i]; }
};

// Scoped zeroization of a fixed-size secret buffer.
template <size_t N>
struct SecretArray {
  std::array<uint8_t, N> a{};
  ~SecretArray() { SecureZero(a.data(), N); }
};

std::span<const uint8_t, 32> First32(ByteSpan s) { return s.first<32>(); }

Status CheckLength(const MlKemParams& p, const char* field, ByteSpan value, size_t expected) {
  if (value.size() == expected) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(p.name, " ", field, " must be ", expected,
                                                 " bytes, got ", value.size()));
}

Status RandomBytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return absl::InternalError("OpenSSL RAND_bytes failed");
  }
  return absl::OkStatus();
}

// K-PKE.KeyGen(d): writes ek_pke (384k + 32 bytes) and dk_pke (384k bytes).
void PkeKeyGen(const MlKemParams& p, ByteSpan d, std::span<uint8_t> ek, std::span<uint8_t> dk) {
  SecretArray<33> seed;
  std::copy(d.begin(), d.end(), seed.a.begin());
  seed.a[32] = static_cast<uint8_t>(p.k);
  SecretArray<64> g;
  g.a = Sha3_512(seed.a);
  SWARM_MLKEM_CT_PUBLIC(g.a.data(), 32);  // rho is published in ek
  const std::span<const uint8_t, 32> rho(g.a.data(), 32);
  const std::span<const uint8_t, 32> sigma(g.a.data() + 32, 32);
  PolyVec s, e;
  uint8_t n = 0;
  for (unsigned i = 0; i < p.k; ++i) s[i] = mlkem::SampleCbd(sigma, n++, p.eta1);
  for (unsigned i = 0; i < p.k; ++i) e[i] = mlkem::SampleCbd(sigma, n++, p.eta1);
  for (unsigned i = 0; i < p.k; ++i) {
    mlkem::Ntt(s[i]);
    mlkem::Ntt(e[i]);
  }
  for (unsigned i = 0; i < p.k; ++i) {
    Poly t = e[i];
    for (unsigned j = 0; j < p.k; ++j) {
      mlkem::MulAccNtt(t, mlkem::SampleNtt(rho, static_cast<uint8_t>(j), static_cast<uint8_t>(i)),
                       s[j]);
    }
    mlkem::ByteEncode(t, 12, ek.subspan(kPolyBytes12 * i, kPolyBytes12));
    mlkem::ByteEncode(s[i], 12, dk.subspan(kPolyBytes12 * i, kPolyBytes12));
  }
  std::copy(rho.begin(), rho.end(), ek.begin() + kPolyBytes12 * p.k);
}

// K-PKE.Encrypt(ek_pke, m, r): writes c (ciphertext_bytes).
void PkeEncrypt(const MlKemParams& p, ByteSpan ek, std::span<const uint8_t, 32> m,
                std::span<const uint8_t, 32> r, std::span<uint8_t> c) {
  PolyVec t, y, e1;
  for (unsigned i = 0; i < p.k; ++i) {
    mlkem::ByteDecode(ek.subspan(kPolyBytes12 * i, kPolyBytes12), 12, t[i]);
  }
  const std::span<const uint8_t, 32> rho(ek.data() + kPolyBytes12 * p.k, 32);
  uint8_t n = 0;
  for (unsigned i = 0; i < p.k; ++i) y[i] = mlkem::SampleCbd(r, n++, p.eta1);
  for (unsigned i = 0; i < p.k; ++i) e1[i] = mlkem::SampleCbd(r, n++, p.eta2);
  PolyVec scratch;  // [0] = e2, [1] = mu, [2] = u_i / v
  scratch[0] = mlkem::SampleCbd(r, n++, p.eta2);
  for (unsigned i = 0; i < p.k; ++i) mlkem::Ntt(y[i]);

  const size_t u_bytes = 32 * p.du;
  for (unsigned i = 0; i < p.k; ++i) {
    Poly& u = scratch[2];
    u.fill(0);
    // u_i = sum_j A^[j][i] y^_j, with A^[j][i] = SampleNTT(rho || i || j).
    for (unsigned j = 0; j < p.k; ++j) {
      mlkem::MulAccNtt(u, mlkem::SampleNtt(rho, static_cast<uint8_t>(i), static_cast<uint8_t>(j)),
                       y[j]);
    }
    mlkem::InvNtt(u);
    mlkem::AddTo(u, e1[i]);
    mlkem::CompressPoly(u, p.du);
    mlkem::ByteEncode(u, p.du, c.subspan(u_bytes * i, u_bytes));
  }
  mlkem::ByteDecode(m, 1, scratch[1]);
  mlkem::DecompressPoly(scratch[1], 1);
  Poly& v = scratch[2];
  v.fill(0);
  for (unsigned i = 0; i < p.k; ++i) mlkem::MulAccNtt(v, t[i], y[i]);
  mlkem::InvNtt(v);
  mlkem::AddTo(v, scratch[0]);
  mlkem::AddTo(v, scratch[1]);
  mlkem::CompressPoly(v, p.dv);
  mlkem::ByteEncode(v, p.dv, c.subspan(u_bytes * p.k, 32 * p.dv));
}

// K-PKE.Decrypt(dk_pke, c): writes the 32-byte message.
void PkeDecrypt(const MlKemParams& p, ByteSpan dk, ByteSpan c, std::span<uint8_t, 32> m) {
  PolyVec s, u;
  PolyVec scratch;  // [0] = w
  const size_t u_bytes = 32 * p.du;
  Poly& w = scratch[0];
  mlkem::ByteDecode(c.subspan(u_bytes * p.k, 32 * p.dv), p.dv, w);
  mlkem::DecompressPoly(w, p.dv);
  Poly& prod = scratch[1];
  prod.fill(0);
  for (unsigned i = 0; i < p.k; ++i) {
    mlkem::ByteDecode(c.subspan(u_bytes * i, u_bytes), p.du, u[i]);
    mlkem::DecompressPoly(u[i], p.du);
    mlkem::Ntt(u[i]);
    mlkem::ByteDecode(dk.subspan(kPolyBytes12 * i, kPolyBytes12), 12, s[i]);
    mlkem::MulAccNtt(prod, s[i], u[i]);
  }
  mlkem::InvNtt(prod);
  mlkem::SubFrom(w, prod);
  mlkem::CompressPoly(w, 1);
  mlkem::ByteEncode(w, 1, m);
}

// Returns 0xff if a == b, else 0x00, in time independent of the contents.
uint8_t EqualMask(ByteSpan a, ByteSpan b) {
  SWARM_ASSERT(a.size() == b.size());
  uint32_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<uint32_t>(a[i] ^ b[i]);
  uint32_t equal = (diff - 1) >> 31;  // 1 iff diff == 0 (diff <= 255)
  __asm__ volatile("" : "+r"(equal));  // keep the compiler from turning this into a branch
  return static_cast<uint8_t>(0u - equal);
}

}  // namespace

const MlKemParams& MlKemParamsOf(MlKemParameterSet set) {
  return kParams[static_cast<size_t>(set)];
}

StatusOr<MlKemParameterSet> ParseMlKemParameterSet(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  for (const auto& p : kParams) {
    if (upper == p.name) return p.set;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown ML-KEM parameter set '", std::string(name),
      "' (supported: ML-KEM-512, ML-KEM-768, ML-KEM-1024)"));
}

StatusOr<MlKemKeyPair> MlKemKeyGen(MlKemParameterSet set, ByteSpan d, ByteSpan z) {
  const MlKemParams& p = MlKemParamsOf(set);
  SWARM_RETURN_IF_ERROR(CheckLength(p, "keygen seed d", d, kMlKemSeedBytes));
  SWARM_RETURN_IF_ERROR(CheckLength(p, "keygen seed z", z, kMlKemSeedBytes));
  Bytes ek(p.encaps_key_bytes);
  Bytes dk(p.decaps_key_bytes);
  const size_t pke_bytes = kPolyBytes12 * p.k;
  PkeKeyGen(p, d, ek, std::span<uint8_t>(dk).first(pke_bytes));
  std::copy(ek.begin(), ek.end(), dk.begin() + static_cast<ptrdiff_t>(pke_bytes));
  const Digest256 h = Sha3_256(ek);
  std::copy(h.begin(), h.end(), dk.begin() + static_cast<ptrdiff_t>(pke_bytes + ek.size()));
  std::copy(z.begin(), z.end(), dk.end() - 32);
  return MlKemKeyPair{std::move(ek), MlKemSecret(std::move(dk))};
}

StatusOr<MlKemKeyPair> MlKemKeyGen(MlKemParameterSet set) {
  SecretArray<64> seeds;
  SWARM_RETURN_IF_ERROR(RandomBytes(seeds.a));
  const ByteSpan all(seeds.a);
  return MlKemKeyGen(set, all.first(32), all.subspan(32));
}

Status MlKemCheckEncapsKey(MlKemParameterSet set, ByteSpan ek) {
  const MlKemParams& p = MlKemParamsOf(set);
  SWARM_RETURN_IF_ERROR(CheckLength(p, "encapsulation key", ek, p.encaps_key_bytes));
  if (!mlkem::Encode12IsCanonical(ek.first(kPolyBytes12 * p.k))) {
    return absl::InvalidArgumentError(absl::StrCat(
        p.name, " encapsulation key fails the modulus check (a coefficient is >= q = 3329)"));
  }
  return absl::OkStatus();
}

Status MlKemCheckDecapsKey(MlKemParameterSet set, ByteSpan dk) {
  const MlKemParams& p = MlKemParamsOf(set);
  SWARM_RETURN_IF_ERROR(CheckLength(p, "decapsulation key", dk, p.decaps_key_bytes));
  const size_t pke_bytes = kPolyBytes12 * p.k;
  const Digest256 h = Sha3_256(dk.subspan(pke_bytes, p.encaps_key_bytes));
  if (CRYPTO_memcmp(h.data(), dk.data() + pke_bytes + p.encaps_key_bytes, 32) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        p.name, " decapsulation key fails the hash check (stored H(ek) does not match ek)"));
  }
  return absl::OkStatus();
}

StatusOr<MlKemEncapsulation> MlKemEncaps(MlKemParameterSet set, ByteSpan ek, ByteSpan m) {
  const MlKemParams& p = MlKemParamsOf(set);
  SWARM_RETURN_IF_ERROR(CheckLength(p, "encapsulation message m", m, kMlKemMessageBytes));
  SWARM_RETURN_IF_ERROR(MlKemCheckEncapsKey(set, ek));
  // (K, r) = G(m || H(ek))
  const Digest256 h = Sha3_256(ek);
  SecretArray<64> kr;
  kr.a = Sha3_512({m, ByteSpan(h)});
  Bytes c(p.ciphertext_bytes);
  PkeEncrypt(p, ek, First32(m), std::span<const uint8_t, 32>(kr.a.data() + 32, 32), c);
  return MlKemEncapsulation{MlKemSecret(Bytes(kr.a.begin(), kr.a.begin() + 32)), std::move(c)};
}

StatusOr<MlKemEncapsulation> MlKemEncaps(MlKemParameterSet set, ByteSpan ek) {
  SecretArray<32> m;
  SWARM_RETURN_IF_ERROR(RandomBytes(m.a));
  return MlKemEncaps(set, ek, m.a);
}

StatusOr<MlKemSecret> MlKemDecaps(MlKemParameterSet set, ByteSpan dk, ByteSpan c) {
  const MlKemParams& p = MlKemParamsOf(set);
  SWARM_RETURN_IF_ERROR(CheckLength(p, "ciphertext", c, p.ciphertext_bytes));
  SWARM_RETURN_IF_ERROR(MlKemCheckDecapsKey(set, dk));
  const size_t pke_bytes = kPolyBytes12 * p.k;
  const ByteSpan dk_pke = dk.first(pke_bytes);
  const ByteSpan ek_pke = dk.subspan(pke_bytes, p.encaps_key_bytes);
  const ByteSpan h = dk.subspan(pke_bytes + p.encaps_key_bytes, 32);
  const ByteSpan z = dk.subspan(pke_bytes + p.encaps_key_bytes + 32, 32);

  SecretArray<32> m_prime;
  PkeDecrypt(p, dk_pke, c, m_prime.a);
  SecretArray<64> kr;  // (K', r') = G(m' || h)
  kr.a = Sha3_512({ByteSpan(m_prime.a), h});
  SecretArray<32> k_bar;  // J(z || c)
  {
    Xof j(Xof::Kind::kShake256);
    j.Absorb(z);
    j.Absorb(c);
    j.Squeeze(k_bar.a);
  }
  Bytes c_prime(p.ciphertext_bytes);
  PkeEncrypt(p, ek_pke, m_prime.a, std::span<const uint8_t, 32>(kr.a.data() + 32, 32), c_prime);
  const uint8_t mask = EqualMask(c, c_prime);
  Bytes k(kMlKemSharedSecretBytes);
  for (size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<uint8_t>((kr.a[i] & mask) | (k_bar.a[i] & static_cast<uint8_t>(~mask)));
  }
  SecureZero(c_prime.data(), c_prime.size());
  return MlKemSecret(std::move(k));
}

}  // namespace swarm::crypto
