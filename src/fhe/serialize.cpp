#include "fhe/serialize.h"

#include <cmath>
#include <cstring>

#include "fhe/encryptor.h"
#include "fhe/keys.h"

namespace swarm::fhe {
namespace {

constexpr uint8_t kMagic[4] = {'S', 'W', 'F', 'H'};

const char* KindName(BlobKind k) {
  switch (k) {
    case BlobKind::kParams: return "parameters";
    case BlobKind::kSecretKey: return "secret key";
    case BlobKind::kPublicKey: return "public key";
    case BlobKind::kRelinKey: return "relinearization key";
    case BlobKind::kGaloisKeys: return "Galois keys";
    case BlobKind::kPlaintext: return "plaintext";
    case BlobKind::kCiphertext: return "ciphertext";
  }
  return "object";
}

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) { Le(v, 2); }
  void U32(uint32_t v) { Le(v, 4); }
  void U64(uint64_t v) { Le(v, 8); }
  void F64(double d) {
    uint64_t v;
    std::memcpy(&v, &d, 8);
    U64(v);
  }
  void Raw(const uint8_t* p, size_t n) {
    // resize + memcpy rather than insert: GCC 12 at -O3 warns (falsely) about insert into an empty vector.
    const size_t at = out_.size();
    out_.resize(at + n);
    if (n != 0) std::memcpy(out_.data() + at, p, n);
  }
  void Poly(const RnsPoly& p) {
    U32(static_cast<uint32_t>(p.k));
    U32(static_cast<uint32_t>(p.n));
    const size_t at = out_.size();
    out_.resize(at + p.data.size() * 8);
    for (size_t i = 0; i < p.data.size(); ++i) {
      for (int b = 0; b < 8; ++b) out_[at + 8 * i + b] = static_cast<uint8_t>(p.data[i] >> (8 * b));
    }
  }
  Bytes& bytes() { return out_; }

 private:
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  Bytes out_;
};

class Reader {
 public:
  Reader(ByteSpan in, const char* what) : in_(in), what_(what) {}
  Status Need(size_t n, const char* field) {
    if (in_.size() - pos_ < n) {
      return absl::InvalidArgumentError(absl::StrCat(what_, ": truncated at ", field, " (need ", n,
                                                     " bytes at offset ", pos_, ", have ", in_.size() - pos_, ")"));
    }
    return absl::OkStatus();
  }
  StatusOr<uint64_t> Le(int n, const char* field) {
    SWARM_RETURN_IF_ERROR(Need(n, field));
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(in_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  StatusOr<double> F64(const char* field) {
    SWARM_ASSIGN_OR_RETURN(uint64_t v, Le(8, field));
    double d;
    std::memcpy(&d, &v, 8);
    return d;
  }
  Status Raw(uint8_t* out, size_t n, const char* field) {
    SWARM_RETURN_IF_ERROR(Need(n, field));
    std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  // A polynomial whose row r must be reduced mod moduli[r].
  StatusOr<RnsPoly> Poly(const std::vector<uint64_t>& moduli, size_t n, const char* field) {
    SWARM_ASSIGN_OR_RETURN(uint64_t rows, Le(4, field));
    SWARM_ASSIGN_OR_RETURN(uint64_t nn, Le(4, field));
    if (rows != moduli.size() || nn != n) {
      return absl::InvalidArgumentError(absl::StrCat(what_, ": ", field, " has shape ", rows, "x", nn,
                                                     ", expected ", moduli.size(), "x", n));
    }
    SWARM_RETURN_IF_ERROR(Need(rows * n * 8, field));
    RnsPoly p(n, rows);
    const uint8_t* src = in_.data() + pos_;
    for (size_t r = 0; r < rows; ++r) {
      for (size_t i = 0; i < n; ++i) {
        uint64_t v = 0;
        const uint8_t* b = src + 8 * (r * n + i);
        for (int k = 0; k < 8; ++k) v |= static_cast<uint64_t>(b[k]) << (8 * k);
        if (v >= moduli[r]) {
          return absl::InvalidArgumentError(absl::StrCat(what_, ": ", field, " row ", r, " coefficient ", i, " = ", v,
                                                         " is not below its modulus ", moduli[r]));
        }
        p.data[r * n + i] = v;
      }
    }
    pos_ += rows * n * 8;
    return p;
  }
  Status Done() const {
    if (pos_ != in_.size()) {
      return absl::InvalidArgumentError(absl::StrCat(what_, ": ", in_.size() - pos_, " trailing bytes after the body"));
    }
    return absl::OkStatus();
  }

 private:
  ByteSpan in_;
  size_t pos_ = 0;
  const char* what_;
};

Writer Header(BlobKind kind, Scheme scheme, const ParamHash& hash) {
  Writer w;
  w.Raw(kMagic, 4);
  w.U16(kSerialVersion);
  w.U8(static_cast<uint8_t>(kind));
  w.U8(static_cast<uint8_t>(scheme));
  w.U64(0);  // body length, patched by Finish
  w.Raw(hash.data(), hash.size());
  return w;
}

Bytes Finish(Writer& w) {
  Bytes& b = w.bytes();
  const uint64_t body = b.size() - kHeaderBytes;
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(body >> (8 * i));
  return std::move(b);
}

struct HeaderInfo {
  BlobKind kind;
  Scheme scheme;
  ParamHash hash;
};

StatusOr<HeaderInfo> ReadHeader(ByteSpan in, const char* what) {
  if (in.size() < kHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", in.size(), " bytes is shorter than the ", kHeaderBytes, "-byte header"));
  }
  if (std::memcmp(in.data(), kMagic, 4) != 0) return absl::InvalidArgumentError(absl::StrCat(what, ": bad magic (not an SWFH blob)"));
  const uint16_t version = static_cast<uint16_t>(in[4] | (in[5] << 8));
  if (version != kSerialVersion) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": version ", version, " unsupported (this build reads ", kSerialVersion, ")"));
  }
  HeaderInfo h;
  h.kind = static_cast<BlobKind>(in[6]);
  if (in[6] < 1 || in[6] > 7) return absl::InvalidArgumentError(absl::StrCat(what, ": kind ", in[6], " unknown"));
  if (in[7] != 1 && in[7] != 2) return absl::InvalidArgumentError(absl::StrCat(what, ": scheme ", in[7], " unknown"));
  h.scheme = static_cast<Scheme>(in[7]);
  uint64_t body = 0;
  for (int i = 0; i < 8; ++i) body |= static_cast<uint64_t>(in[8 + i]) << (8 * i);
  if (body > kSerializedBytesMax || body != in.size() - kHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": header declares ", body, " body bytes but ",
                                                   in.size() - kHeaderBytes, " follow (serialized_bytes_max ", kSerializedBytesMax, ")"));
  }
  std::memcpy(h.hash.data(), in.data() + 16, 32);
  return h;
}

StatusOr<Reader> OpenBody(const Context& ctx, ByteSpan in, BlobKind kind) {
  const char* what = KindName(kind);
  SWARM_ASSIGN_OR_RETURN(HeaderInfo h, ReadHeader(in, what));
  if (h.kind != kind) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": blob holds a ", KindName(h.kind), ", not a ", what));
  }
  if (h.scheme != ctx.scheme()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": scheme ", SchemeName(h.scheme), " but parameters are ", SchemeName(ctx.scheme())));
  }
  if (h.hash != ctx.hash()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": parameter hash does not match the given parameters (made under other parameters)"));
  }
  return Reader(in.subspan(kHeaderBytes), what);
}

std::vector<uint64_t> Moduli(const Context& ctx, const Basis& b) {
  std::vector<uint64_t> m;
  for (size_t i : b) m.push_back(ctx.modulus(i).value());
  return m;
}

void WriteKsk(Writer& w, const KeySwitchKey& k) {
  w.U32(static_cast<uint32_t>(k.b.size()));
  for (size_t i = 0; i < k.b.size(); ++i) {
    w.Poly(k.b[i]);
    w.Poly(k.a[i]);
  }
}

StatusOr<KeySwitchKey> ReadKsk(const Context& ctx, Reader& r) {
  SWARM_ASSIGN_OR_RETURN(uint64_t digits, r.Le(4, "digit count"));
  if (digits != ctx.data_prime_count()) {
    return absl::InvalidArgumentError(absl::StrCat("key-switching key: ", digits, " digits, expected ", ctx.data_prime_count()));
  }
  const auto mods = Moduli(ctx, KeyBasis(ctx, ctx.max_level()));
  KeySwitchKey k;
  for (size_t i = 0; i < digits; ++i) {
    SWARM_ASSIGN_OR_RETURN(RnsPoly b, r.Poly(mods, ctx.n(), "key digit b"));
    SWARM_ASSIGN_OR_RETURN(RnsPoly a, r.Poly(mods, ctx.n(), "key digit a"));
    k.b.push_back(std::move(b));
    k.a.push_back(std::move(a));
  }
  return k;
}

}  // namespace

StatusOr<BlobKind> PeekKind(ByteSpan in) {
  SWARM_ASSIGN_OR_RETURN(HeaderInfo h, ReadHeader(in, "blob"));
  return h.kind;
}

Bytes SerializeParams(const Context& ctx) {
  Writer w = Header(BlobKind::kParams, ctx.scheme(), ctx.hash());
  const ParamSpec& s = ctx.spec();
  w.U32(static_cast<uint32_t>(s.poly_degree));
  w.U32(static_cast<uint32_t>(s.data_prime_bits.size()));
  for (int b : s.data_prime_bits) w.U8(static_cast<uint8_t>(b));
  w.U8(static_cast<uint8_t>(s.special_prime_bits));
  w.U8(static_cast<uint8_t>(s.plain_modulus_bits));
  w.F64(s.scale);
  w.U32(static_cast<uint32_t>(ctx.moduli().size()));
  for (const auto& m : ctx.moduli()) w.U64(m.value());
  w.U64(ctx.plain_modulus());
  return Finish(w);
}

StatusOr<ContextPtr> DeserializeParams(ByteSpan in) {
  SWARM_ASSIGN_OR_RETURN(HeaderInfo h, ReadHeader(in, "parameters"));
  if (h.kind != BlobKind::kParams) return absl::InvalidArgumentError(absl::StrCat("parameters: blob holds a ", KindName(h.kind)));
  Reader r(in.subspan(kHeaderBytes), "parameters");
  ParamSpec s;
  s.scheme = h.scheme;
  SWARM_ASSIGN_OR_RETURN(uint64_t n, r.Le(4, "poly_degree"));
  s.poly_degree = n;
  SWARM_ASSIGN_OR_RETURN(uint64_t count, r.Le(4, "data prime count"));
  if (count == 0 || count > kDataPrimesMax) {
    return absl::InvalidArgumentError(absl::StrCat("parameters: data prime count ", count, " outside [1, ", kDataPrimesMax, "]"));
  }
  for (size_t i = 0; i < count; ++i) {
    SWARM_ASSIGN_OR_RETURN(uint64_t b, r.Le(1, "data prime bits"));
    s.data_prime_bits.push_back(static_cast<int>(b));
  }
  SWARM_ASSIGN_OR_RETURN(uint64_t sp, r.Le(1, "special_prime_bits"));
  SWARM_ASSIGN_OR_RETURN(uint64_t pb, r.Le(1, "plain_modulus_bits"));
  SWARM_ASSIGN_OR_RETURN(s.scale, r.F64("scale"));
  s.special_prime_bits = static_cast<int>(sp);
  s.plain_modulus_bits = static_cast<int>(pb);
  SWARM_ASSIGN_OR_RETURN(uint64_t mcount, r.Le(4, "modulus count"));
  if (mcount != count + 1) return absl::InvalidArgumentError(absl::StrCat("parameters: modulus count ", mcount, " but ", count, " data primes + 1"));
  std::vector<uint64_t> primes;
  for (size_t i = 0; i < mcount; ++i) {
    SWARM_ASSIGN_OR_RETURN(uint64_t p, r.Le(8, "prime"));
    primes.push_back(p);
  }
  SWARM_ASSIGN_OR_RETURN(uint64_t t, r.Le(8, "plain modulus"));
  SWARM_RETURN_IF_ERROR(r.Done());
  // Cheap integrity check before the (costly) regeneration of primes and tables.
  if (ComputeParamHash(s.scheme, s.poly_degree, primes, t, s.scale) != h.hash) {
    return absl::InvalidArgumentError("parameters: hash in the header does not match the stored primes and fields");
  }
  auto ctx = Context::Create(s);
  if (!ctx.ok()) return absl::InvalidArgumentError(absl::StrCat("parameters: ", ctx.status().message()));
  for (size_t i = 0; i < mcount; ++i) {
    if ((*ctx)->modulus(i).value() != primes[i]) {
      return absl::InvalidArgumentError(absl::StrCat("parameters: prime ", i, " = ", primes[i], " differs from the regenerated ", (*ctx)->modulus(i).value()));
    }
  }
  if ((*ctx)->plain_modulus() != t) return absl::InvalidArgumentError(absl::StrCat("parameters: plain modulus ", t, " differs from the regenerated one"));
  if ((*ctx)->hash() != h.hash) return absl::InvalidArgumentError("parameters: hash in the header does not match the parameters");
  return *ctx;
}

Bytes Serialize(const Context& ctx, const Ciphertext& ct) {
  Writer w = Header(BlobKind::kCiphertext, ct.scheme, ct.param_hash);
  w.U8(static_cast<uint8_t>(ct.parts.size()));
  w.U32(static_cast<uint32_t>(ct.level));
  w.F64(ct.scale);
  w.F64(ct.noise_budget_est_bits);
  w.Raw(ct.key_id.data(), ct.key_id.size());
  for (const auto& p : ct.parts) w.Poly(p);
  return Finish(w);
}

StatusOr<Ciphertext> DeserializeCiphertext(const Context& ctx, ByteSpan in) {
  SWARM_ASSIGN_OR_RETURN(Reader r, OpenBody(ctx, in, BlobKind::kCiphertext));
  Ciphertext ct;
  ct.scheme = ctx.scheme();
  ct.param_hash = ctx.hash();
  SWARM_ASSIGN_OR_RETURN(uint64_t parts, r.Le(1, "part count"));
  SWARM_ASSIGN_OR_RETURN(uint64_t level, r.Le(4, "level"));
  SWARM_ASSIGN_OR_RETURN(ct.scale, r.F64("scale"));
  SWARM_ASSIGN_OR_RETURN(ct.noise_budget_est_bits, r.F64("noise budget estimate"));
  SWARM_RETURN_IF_ERROR(r.Raw(ct.key_id.data(), ct.key_id.size(), "key id"));
  if (parts < 2 || parts > 3) return absl::InvalidArgumentError(absl::StrCat("ciphertext: part count ", parts, " must be 2 or 3"));
  if (level > ctx.max_level()) return absl::InvalidArgumentError(absl::StrCat("ciphertext: level ", level, " above max level ", ctx.max_level()));
  if (!std::isfinite(ct.noise_budget_est_bits)) return absl::InvalidArgumentError("ciphertext: noise budget estimate is not finite");
  ct.level = level;
  const auto mods = Moduli(ctx, DataBasis(level));
  for (size_t i = 0; i < parts; ++i) {
    SWARM_ASSIGN_OR_RETURN(RnsPoly p, r.Poly(mods, ctx.n(), "part"));
    ct.parts.push_back(std::move(p));
  }
  SWARM_RETURN_IF_ERROR(r.Done());
  SWARM_RETURN_IF_ERROR(ValidateCiphertext(ctx, ct));
  return ct;
}

Bytes Serialize(const Context& ctx, const Plaintext& pt) {
  Writer w = Header(BlobKind::kPlaintext, pt.scheme, pt.param_hash);
  w.U32(static_cast<uint32_t>(pt.level));
  w.F64(pt.scale);
  w.Poly(pt.poly);
  return Finish(w);
}

StatusOr<Plaintext> DeserializePlaintext(const Context& ctx, ByteSpan in) {
  SWARM_ASSIGN_OR_RETURN(Reader r, OpenBody(ctx, in, BlobKind::kPlaintext));
  Plaintext pt;
  pt.scheme = ctx.scheme();
  pt.param_hash = ctx.hash();
  SWARM_ASSIGN_OR_RETURN(uint64_t level, r.Le(4, "level"));
  SWARM_ASSIGN_OR_RETURN(pt.scale, r.F64("scale"));
  if (level > ctx.max_level()) return absl::InvalidArgumentError(absl::StrCat("plaintext: level ", level, " above max level ", ctx.max_level()));
  pt.level = level;
  const auto mods = ctx.scheme() == Scheme::kBfv ? std::vector<uint64_t>{ctx.plain_modulus()} : Moduli(ctx, DataBasis(level));
  SWARM_ASSIGN_OR_RETURN(pt.poly, r.Poly(mods, ctx.n(), "polynomial"));
  SWARM_RETURN_IF_ERROR(r.Done());
  SWARM_RETURN_IF_ERROR(ValidatePlaintext(ctx, pt));
  return pt;
}

Bytes Serialize(const Context& ctx, const SecretKey& sk) {
  Writer w = Header(BlobKind::kSecretKey, ctx.scheme(), sk.param_hash);
  w.Raw(sk.id.data(), sk.id.size());
  w.Poly(sk.s);
  return Finish(w);
}

StatusOr<SecretKey> DeserializeSecretKey(const Context& ctx, ByteSpan in) {
  SWARM_ASSIGN_OR_RETURN(Reader r, OpenBody(ctx, in, BlobKind::kSecretKey));
  SecretKey sk;
  sk.param_hash = ctx.hash();
  SWARM_RETURN_IF_ERROR(r.Raw(sk.id.data(), sk.id.size(), "key id"));
  SWARM_ASSIGN_OR_RETURN(sk.s, r.Poly(Moduli(ctx, KeyBasis(ctx, ctx.max_level())), ctx.n(), "secret"));
  SWARM_RETURN_IF_ERROR(r.Done());
  return sk;
}

Bytes Serialize(const Context& ctx, const PublicKey& pk) {
  Writer w = Header(BlobKind::kPublicKey, ctx.scheme(), pk.param_hash);
  w.Raw(pk.id.data(), pk.id.size());
  w.Poly(pk.b);
  w.Poly(pk.a);
  return Finish(w);
}

StatusOr<PublicKey> DeserializePublicKey(const Context& ctx, ByteSpan in) {
  SWARM_ASSIGN_OR_RETURN(Reader r, OpenBody(ctx, in, BlobKind::kPublicKey));
  PublicKey pk;
  pk.param_hash = ctx.hash();
  SWARM_RETURN_IF_ERROR(r.Raw(pk.id.data(), pk.id.size(), "key id"));
  const auto mods = Moduli(ctx, DataBasis(ctx.max_level()));
  SWARM_ASSIGN_OR_RETURN(pk.b, r.Poly(mods, ctx.n(), "b"));
  SWARM_ASSIGN_OR_RETURN(pk.a, r.Poly(mods, ctx.n(), "a"));
  SWARM_RETURN_IF_ERROR(r.Done());
  return pk;
}

Bytes Serialize(const Context& ctx, const RelinKey& rk) {
  Writer w = Header(BlobKind::kRelinKey, ctx.scheme(), rk.param_hash);
  w.Raw(rk.id.data(), rk.id.size());
  WriteKsk(w, rk.key);
  return Finish(w);
}

StatusOr<RelinKey> DeserializeRelinKey(const Context& ctx, ByteSpan in) {
  SWARM_ASSIGN_OR_RETURN(Reader r, OpenBody(ctx, in, BlobKind::kRelinKey));
  RelinKey rk;
  rk.param_hash = ctx.hash();
  SWARM_RETURN_IF_ERROR(r.Raw(rk.id.data(), rk.id.size(), "key id"));
  SWARM_ASSIGN_OR_RETURN(rk.key, ReadKsk(ctx, r));
  SWARM_RETURN_IF_ERROR(r.Done());
  return rk;
}

Bytes Serialize(const Context& ctx, const GaloisKeys& gk) {
  Writer w = Header(BlobKind::kGaloisKeys, ctx.scheme(), gk.param_hash);
  w.Raw(gk.id.data(), gk.id.size());
  w.U32(static_cast<uint32_t>(gk.keys.size()));
  for (const auto& [g, k] : gk.keys) {
    w.U32(g);
    WriteKsk(w, k);
  }
  return Finish(w);
}

StatusOr<GaloisKeys> DeserializeGaloisKeys(const Context& ctx, ByteSpan in) {
  SWARM_ASSIGN_OR_RETURN(Reader r, OpenBody(ctx, in, BlobKind::kGaloisKeys));
  GaloisKeys gk;
  gk.param_hash = ctx.hash();
  SWARM_RETURN_IF_ERROR(r.Raw(gk.id.data(), gk.id.size(), "key id"));
  SWARM_ASSIGN_OR_RETURN(uint64_t count, r.Le(4, "key count"));
  if (count > kGaloisKeysMax) {
    return absl::InvalidArgumentError(absl::StrCat("Galois keys: count ", count, " exceeds galois_keys_max ", kGaloisKeysMax));
  }
  for (size_t i = 0; i < count; ++i) {
    SWARM_ASSIGN_OR_RETURN(uint64_t g, r.Le(4, "Galois element"));
    if (g % 2 == 0 || g >= 2 * ctx.n() || g == 1) {
      return absl::InvalidArgumentError(absl::StrCat("Galois keys: element ", g, " is not an odd number in (1, 2N)"));
    }
    if (gk.Has(static_cast<uint32_t>(g))) return absl::InvalidArgumentError(absl::StrCat("Galois keys: element ", g, " appears twice"));
    SWARM_ASSIGN_OR_RETURN(KeySwitchKey k, ReadKsk(ctx, r));
    gk.keys.emplace(static_cast<uint32_t>(g), std::move(k));
  }
  SWARM_RETURN_IF_ERROR(r.Done());
  return gk;
}

}  // namespace swarm::fhe
