// ML-DSA names, and the HashML-DSA pre-hash functions with their DER OIDs
// (FIPS 204 section 5.4; the hashes themselves come from OpenSSL EVP).
#include <openssl/evp.h>

#include <array>
#include <cctype>

#include "crypto/ml_dsa.h"

namespace swarm::crypto {
namespace {

struct HashInfo {
  MlDsaHash id;
  const char* name;      // ACVP spelling
  uint8_t oid_last;      // 2.16.840.1.101.3.4.2.<n>
  size_t out_bytes;      // digest length (SHAKE: 256 / 512 bits)
};

constexpr std::array<HashInfo, 12> kHashes = {{
    {MlDsaHash::kSha2_224, "SHA2-224", 0x04, 28},
    {MlDsaHash::kSha2_256, "SHA2-256", 0x01, 32},
    {MlDsaHash::kSha2_384, "SHA2-384", 0x02, 48},
    {MlDsaHash::kSha2_512, "SHA2-512", 0x03, 64},
    {MlDsaHash::kSha2_512_224, "SHA2-512/224", 0x05, 28},
    {MlDsaHash::kSha2_512_256, "SHA2-512/256", 0x06, 32},
    {MlDsaHash::kSha3_224, "SHA3-224", 0x07, 28},
    {MlDsaHash::kSha3_256, "SHA3-256", 0x08, 32},
    {MlDsaHash::kSha3_384, "SHA3-384", 0x09, 48},
    {MlDsaHash::kSha3_512, "SHA3-512", 0x0a, 64},
    {MlDsaHash::kShake128, "SHAKE-128", 0x0b, 32},
    {MlDsaHash::kShake256, "SHAKE-256", 0x0c, 64},
}};

const HashInfo& Info(MlDsaHash h) {
  for (const auto& i : kHashes)
    if (i.id == h) return i;
  SWARM_ASSERT(false && "MlDsaHash value out of range");
  return kHashes[0];
}

const EVP_MD* Md(MlDsaHash h) {
  switch (h) {
    case MlDsaHash::kSha2_224: return EVP_sha224();
    case MlDsaHash::kSha2_256: return EVP_sha256();
    case MlDsaHash::kSha2_384: return EVP_sha384();
    case MlDsaHash::kSha2_512: return EVP_sha512();
    case MlDsaHash::kSha2_512_224: return EVP_sha512_224();
    case MlDsaHash::kSha2_512_256: return EVP_sha512_256();
    case MlDsaHash::kSha3_224: return EVP_sha3_224();
    case MlDsaHash::kSha3_256: return EVP_sha3_256();
    case MlDsaHash::kSha3_384: return EVP_sha3_384();
    case MlDsaHash::kSha3_512: return EVP_sha3_512();
    case MlDsaHash::kShake128: return EVP_shake128();
    case MlDsaHash::kShake256: return EVP_shake256();
  }
  return nullptr;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

// OID(hash) || PH(message): the tail of M' for HashML-DSA.
Bytes MlDsaPreHashSuffix(ByteSpan message, MlDsaHash hash) {
  const HashInfo& info = Info(hash);
  Bytes out = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, info.oid_last};
  const size_t oid_len = out.size();
  out.resize(oid_len + info.out_bytes);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  SWARM_ASSERT(ctx != nullptr);
  SWARM_ASSERT(EVP_DigestInit_ex(ctx, Md(hash), nullptr) == 1);
  SWARM_ASSERT(EVP_DigestUpdate(ctx, message.data(), message.size()) == 1);
  if (hash == MlDsaHash::kShake128 || hash == MlDsaHash::kShake256) {
    SWARM_ASSERT(EVP_DigestFinalXOF(ctx, out.data() + oid_len, info.out_bytes) == 1);
  } else {
    unsigned int len = 0;
    SWARM_ASSERT(EVP_DigestFinal_ex(ctx, out.data() + oid_len, &len) == 1);
    SWARM_ASSERT(len == info.out_bytes);
  }
  EVP_MD_CTX_free(ctx);
  return out;
}

std::string MlDsaHashName(MlDsaHash hash) { return Info(hash).name; }

StatusOr<MlDsaHash> MlDsaHashFromName(std::string_view name) {
  const std::string up = Upper(name);
  for (const auto& i : kHashes)
    if (up == i.name) return i.id;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown HashML-DSA pre-hash '", std::string(name),
      "' (expected SHA2-224/256/384/512, SHA2-512/224, SHA2-512/256, SHA3-224/256/384/512, "
      "SHAKE-128 or SHAKE-256)"));
}

std::string MlDsaName(MlDsaLevel level) {
  return absl::StrCat("ML-DSA-", static_cast<int>(level));
}

StatusOr<MlDsaLevel> MlDsaLevelFromName(std::string_view name) {
  const std::string up = Upper(name);
  if (up == "ML-DSA-44") return MlDsaLevel::k44;
  if (up == "ML-DSA-65") return MlDsaLevel::k65;
  if (up == "ML-DSA-87") return MlDsaLevel::k87;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown ML-DSA parameter set '", std::string(name), "' (expected ML-DSA-44, -65 or -87)"));
}

}  // namespace swarm::crypto
