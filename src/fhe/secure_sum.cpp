#include "fhe/secure_sum.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_format.h"
#include "fhe/keyset.h"
#include "fhe/serialize.h"

namespace swarm::fhe {
namespace {

constexpr char kMagic[4] = {'S', 'W', 'S', 'S'};
constexpr size_t kWireHeaderBytes = 4 + 2 + 2 + 8 + 8 + 8 + 4;

// Largest |sum| * scale allowed at level 0: q_0 / 4.
double CapacityLog2(const Context& ctx) { return ctx.log2_q_at(0) - 2; }

void PutU16(Bytes& b, uint16_t v) {
  for (int i = 0; i < 2; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t GetLE(ByteSpan in, size_t off, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{in[off + i]} << (8 * i);
  return v;
}

size_t ChunkCount(const Context& ctx, size_t length) { return (length + ctx.slot_count() - 1) / ctx.slot_count(); }

template <typename T>
StatusOr<EncryptedVector> EncryptImpl(const Context& ctx, const CkksEncoder& encoder, Encryptor& encryptor,
                                      const SecureSumOptions& o, std::span<const T> values) {
  if (values.empty()) return absl::InvalidArgumentError("secure sum: the vector to encrypt is empty");
  if (values.size() > kSecureSumLengthMax)
    return absl::InvalidArgumentError(absl::StrCat("secure sum: length ", values.size(), " exceeds kSecureSumLengthMax ",
                                                   kSecureSumLengthMax));
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = static_cast<double>(values[i]);
    if (!std::isfinite(v)) return absl::InvalidArgumentError(absl::StrCat("secure sum: value ", i, " is not finite"));
    if (std::fabs(v) > o.value_abs_max)
      return absl::InvalidArgumentError(absl::StrCat("secure sum: value ", i, " = ", v, " exceeds value_abs_max ",
                                                     o.value_abs_max, " (clip before encrypting)"));
  }
  const size_t slots = ctx.slot_count();
  EncryptedVector out;
  out.length = values.size();
  out.contributors = 1;
  out.value_abs_max = o.value_abs_max;
  std::vector<double> chunk;
  for (size_t start = 0; start < values.size(); start += slots) {
    const size_t len = std::min(slots, values.size() - start);
    chunk.assign(len, 0.0);
    for (size_t i = 0; i < len; ++i) chunk[i] = static_cast<double>(values[start + i]);
    SWARM_ASSIGN_OR_RETURN(Plaintext pt, encoder.Encode(std::span<const double>(chunk), o.scale, size_t{0}));
    SWARM_ASSIGN_OR_RETURN(Ciphertext ct, encryptor.Encrypt(pt));
    out.chunks.push_back(std::move(ct));
  }
  return out;
}

// Structural checks of an EncryptedVector against the context.
Status CheckShape(const Context& ctx, const EncryptedVector& v) {
  if (v.length == 0 || v.length > kSecureSumLengthMax)
    return absl::InvalidArgumentError(absl::StrCat("secure sum: length ", v.length, " outside 1..", kSecureSumLengthMax));
  if (v.contributors == 0 || v.contributors > kSecureSumContributorsMax)
    return absl::InvalidArgumentError(
        absl::StrCat("secure sum: contributors ", v.contributors, " outside 1..", kSecureSumContributorsMax));
  if (!std::isfinite(v.value_abs_max) || !(v.value_abs_max > 0))
    return absl::InvalidArgumentError(absl::StrCat("secure sum: value_abs_max ", v.value_abs_max, " is not positive"));
  if (v.chunks.size() != ChunkCount(ctx, v.length))
    return absl::InvalidArgumentError(absl::StrCat("secure sum: ", v.chunks.size(), " chunks for length ", v.length,
                                                   " (expected ", ChunkCount(ctx, v.length), ")"));
  for (size_t i = 0; i < v.chunks.size(); ++i) {
    const Ciphertext& c = v.chunks[i];
    if (c.scheme != Scheme::kCkks || c.level != 0 || c.parts.size() != 2)
      return absl::InvalidArgumentError(absl::StrCat("secure sum: chunk ", i, " is not a level-0 2-part CKKS ciphertext (level ",
                                                     c.level, ", ", c.parts.size(), " parts)"));
    if (c.scale != v.chunks[0].scale)
      return absl::InvalidArgumentError(absl::StrCat("secure sum: chunk ", i, " has scale ", c.scale, ", chunk 0 has ",
                                                     v.chunks[0].scale));
  }
  if (std::log2(v.value_abs_max * v.chunks[0].scale) >= CapacityLog2(ctx))
    return absl::InvalidArgumentError(absl::StrFormat(
        "secure sum: bound %g times scale 2^%.1f reaches 2^%.1f, beyond q_0/4 = 2^%.1f; the sum could wrap around",
        v.value_abs_max, std::log2(v.chunks[0].scale), std::log2(v.value_abs_max * v.chunks[0].scale),
        CapacityLog2(ctx)));
  return absl::OkStatus();
}

}  // namespace

size_t SecureSumContributionBytes(const Context& ctx, size_t length) {
  // Per chunk: u64 size + header + 2 polys of (u32 rows, u32 N, N u64) + ciphertext fields.
  // Computed from a real serialization of an empty level-0 ciphertext to stay exact.
  Ciphertext ct;
  ct.scheme = Scheme::kCkks;
  ct.level = 0;
  ct.scale = 1;
  ct.param_hash = ctx.hash();
  ct.parts.assign(2, RnsPoly(ctx.n(), 1));
  const size_t per_chunk = 8 + Serialize(ctx, ct).size();
  return kWireHeaderBytes + ChunkCount(ctx, length) * per_chunk;
}

StatusOr<SecureSumEncryptor> SecureSumEncryptor::Create(ContextPtr ctx, const PublicKey& pk, SecureSumOptions options) {
  if (!ctx || ctx->scheme() != Scheme::kCkks)
    return absl::InvalidArgumentError("secure sum: needs a CKKS context");
  if (options.scale == 0) options.scale = ctx->spec().scale;
  if (!std::isfinite(options.value_abs_max) || !(options.value_abs_max > 0))
    return absl::InvalidArgumentError(absl::StrCat("secure sum: value_abs_max ", options.value_abs_max, " is not positive"));
  if (!(options.scale >= 1) || !std::isfinite(options.scale))
    return absl::InvalidArgumentError(absl::StrCat("secure sum: scale ", options.scale, " is invalid"));
  if (std::log2(options.value_abs_max * options.scale) >= CapacityLog2(*ctx))
    return absl::InvalidArgumentError(absl::StrFormat(
        "secure sum: value_abs_max %g times scale 2^%.1f does not fit q_0/4 = 2^%.1f even for one contribution",
        options.value_abs_max, std::log2(options.scale), CapacityLog2(*ctx)));
  SWARM_ASSIGN_OR_RETURN(Encryptor e, Encryptor::Create(ctx, pk));
  return SecureSumEncryptor(std::move(ctx), std::move(e), options);
}

StatusOr<EncryptedVector> SecureSumEncryptor::Encrypt(std::span<const float> values) {
  return EncryptImpl(*ctx_, encoder_, encryptor_, options_, values);
}
StatusOr<EncryptedVector> SecureSumEncryptor::Encrypt(std::span<const double> values) {
  return EncryptImpl(*ctx_, encoder_, encryptor_, options_, values);
}

SecureSumAggregator::SecureSumAggregator(ContextPtr ctx, KeyId group_key)
    : ctx_(ctx), group_key_(group_key), evaluator_(std::move(ctx)) {}

Status SecureSumAggregator::Add(const EncryptedVector& v) {
  SWARM_RETURN_IF_ERROR(CheckShape(*ctx_, v));
  for (size_t i = 0; i < v.chunks.size(); ++i) {
    if (v.chunks[i].key_id != group_key_)
      return absl::InvalidArgumentError(absl::StrCat("secure sum: chunk ", i, " is encrypted under key ",
                                                     KeyIdHex(v.chunks[i].key_id), ", not the group key ",
                                                     KeyIdHex(group_key_)));
    if (v.chunks[i].param_hash != ctx_->hash())
      return absl::InvalidArgumentError(absl::StrCat("secure sum: chunk ", i, " was made under other parameters"));
  }
  if (sum_.contributors == 0) {
    sum_ = v;
    return absl::OkStatus();
  }
  if (v.length != sum_.length)
    return absl::InvalidArgumentError(
        absl::StrCat("secure sum: contribution has length ", v.length, ", the sum has ", sum_.length));
  if (v.chunks[0].scale != sum_.chunks[0].scale)
    return absl::InvalidArgumentError(absl::StrFormat("secure sum: contribution has scale 2^%.3f, the sum 2^%.3f",
                                                      std::log2(v.chunks[0].scale), std::log2(sum_.chunks[0].scale)));
  EncryptedVector next;
  next.length = sum_.length;
  next.contributors = sum_.contributors + v.contributors;
  next.value_abs_max = sum_.value_abs_max + v.value_abs_max;
  if (next.contributors > kSecureSumContributorsMax)
    return absl::InvalidArgumentError(absl::StrCat("secure sum: more than ", kSecureSumContributorsMax, " contributors"));
  if (std::log2(next.value_abs_max * sum_.chunks[0].scale) >= CapacityLog2(*ctx_))
    return absl::ResourceExhaustedError(absl::StrFormat(
        "secure sum: adding contribution %d would raise the bound to %g; times scale 2^%.1f that reaches q_0/4 = "
        "2^%.1f and the sum could wrap around (use a smaller scale or value_abs_max)",
        sum_.contributors + 1, next.value_abs_max, std::log2(sum_.chunks[0].scale), CapacityLog2(*ctx_)));
  next.chunks.reserve(sum_.chunks.size());
  for (size_t i = 0; i < sum_.chunks.size(); ++i) {
    SWARM_ASSIGN_OR_RETURN(Ciphertext c, evaluator_.Add(sum_.chunks[i], v.chunks[i]));
    next.chunks.push_back(std::move(c));
  }
  sum_ = std::move(next);
  return absl::OkStatus();
}

Status SecureSumAggregator::AddSerialized(ByteSpan wire) {
  SWARM_ASSIGN_OR_RETURN(EncryptedVector v, DeserializeEncryptedVector(*ctx_, wire, kSecureSumLengthMax));
  return Add(v);
}

StatusOr<SecureSumDecryptor> SecureSumDecryptor::Create(ContextPtr ctx, std::shared_ptr<const SecretKey> sk,
                                                        uint64_t min_contributors) {
  if (!ctx || ctx->scheme() != Scheme::kCkks) return absl::InvalidArgumentError("secure sum: needs a CKKS context");
  if (!sk) return absl::InvalidArgumentError("secure sum: no secret key");
  if (min_contributors == 0) return absl::InvalidArgumentError("secure sum: min_contributors must be at least 1");
  SWARM_ASSIGN_OR_RETURN(Decryptor d, Decryptor::Create(ctx, *sk));
  return SecureSumDecryptor(std::move(ctx), std::move(d), min_contributors);
}

StatusOr<std::vector<double>> SecureSumDecryptor::DecryptSum(const EncryptedVector& v) const {
  SWARM_RETURN_IF_ERROR(CheckShape(*ctx_, v));
  if (v.contributors < min_contributors_)
    return absl::PermissionDeniedError(absl::StrCat("secure sum: refusing to decrypt an aggregate of ", v.contributors,
                                                    " contribution(s); at least ", min_contributors_,
                                                    " are required (min_contributors)"));
  std::vector<double> out;
  out.reserve(v.length);
  for (const Ciphertext& c : v.chunks) {
    SWARM_ASSIGN_OR_RETURN(Plaintext pt, decryptor_.Decrypt(c));
    SWARM_ASSIGN_OR_RETURN(std::vector<double> vals, encoder_.Decode(pt));
    const size_t take = std::min(vals.size(), v.length - out.size());
    out.insert(out.end(), vals.begin(), vals.begin() + static_cast<std::ptrdiff_t>(take));
  }
  return out;
}

StatusOr<std::vector<float>> SecureSumDecryptor::DecryptMean(const EncryptedVector& v) const {
  SWARM_ASSIGN_OR_RETURN(std::vector<double> sum, DecryptSum(v));
  std::vector<float> out(sum.size());
  const double inv = 1.0 / static_cast<double>(v.contributors);
  for (size_t i = 0; i < sum.size(); ++i) out[i] = static_cast<float>(sum[i] * inv);
  return out;
}

Bytes SerializeEncryptedVector(const Context& ctx, const EncryptedVector& v) {
  Bytes out;
  for (char ch : kMagic) out.push_back(static_cast<uint8_t>(ch));
  PutU16(out, kSecureSumWireVersion);
  PutU16(out, 0);
  PutU64(out, v.length);
  PutU64(out, v.contributors);
  uint64_t bound_bits;
  std::memcpy(&bound_bits, &v.value_abs_max, 8);
  PutU64(out, bound_bits);
  PutU32(out, static_cast<uint32_t>(v.chunks.size()));
  for (const Ciphertext& c : v.chunks) {
    Bytes blob = Serialize(ctx, c);
    PutU64(out, blob.size());
    out.insert(out.end(), blob.begin(), blob.end());
  }
  return out;
}

StatusOr<EncryptedVector> DeserializeEncryptedVector(const Context& ctx, ByteSpan in, size_t length_max) {
  if (in.size() < kWireHeaderBytes)
    return absl::InvalidArgumentError(absl::StrCat("secure sum: ", in.size(), " bytes, shorter than the ",
                                                   kWireHeaderBytes, "-byte header"));
  if (std::memcmp(in.data(), kMagic, 4) != 0) return absl::InvalidArgumentError("secure sum: bad magic (not SWSS)");
  const uint64_t version = GetLE(in, 4, 2);
  if (version != kSecureSumWireVersion)
    return absl::InvalidArgumentError(absl::StrCat("secure sum: wire version ", version, " is not supported (expected ",
                                                   kSecureSumWireVersion, ")"));
  if (GetLE(in, 6, 2) != 0) return absl::InvalidArgumentError("secure sum: reserved field is not 0");
  EncryptedVector v;
  const uint64_t length = GetLE(in, 8, 8);
  if (length == 0 || length > length_max)
    return absl::InvalidArgumentError(absl::StrCat("secure sum: length ", length, " outside 1..", length_max));
  v.length = static_cast<size_t>(length);
  v.contributors = GetLE(in, 16, 8);
  const uint64_t bound_bits = GetLE(in, 24, 8);
  std::memcpy(&v.value_abs_max, &bound_bits, 8);
  const uint64_t chunks = GetLE(in, 32, 4);
  if (chunks != ChunkCount(ctx, v.length))
    return absl::InvalidArgumentError(absl::StrCat("secure sum: chunk count ", chunks, " for length ", v.length,
                                                   " (expected ", ChunkCount(ctx, v.length), ")"));
  size_t off = kWireHeaderBytes;
  for (uint64_t i = 0; i < chunks; ++i) {
    if (in.size() - off < 8)
      return absl::InvalidArgumentError(absl::StrCat("secure sum: truncated before the size of chunk ", i));
    const uint64_t size = GetLE(in, off, 8);
    off += 8;
    if (size > in.size() - off)
      return absl::InvalidArgumentError(absl::StrCat("secure sum: chunk ", i, " declares ", size, " bytes, only ",
                                                     in.size() - off, " remain"));
    auto ct = DeserializeCiphertext(ctx, in.subspan(off, static_cast<size_t>(size)));
    if (!ct.ok()) return absl::InvalidArgumentError(absl::StrCat("secure sum: chunk ", i, ": ", ct.status().message()));
    v.chunks.push_back(std::move(ct).value());
    off += static_cast<size_t>(size);
  }
  if (off != in.size())
    return absl::InvalidArgumentError(absl::StrCat("secure sum: ", in.size() - off, " trailing bytes"));
  SWARM_RETURN_IF_ERROR(CheckShape(ctx, v));
  return v;
}

}  // namespace swarm::fhe
