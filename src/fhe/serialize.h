// Versioned binary serialization of fhe/ objects.
//
// Every blob starts with a 48-byte header, little-endian:
//   magic "SWFH" | u16 version (1) | u8 kind | u8 scheme | u64 body bytes |
//   32-byte parameter hash
// followed by the body. Polynomials are u32 rows, u32 N, then rows*N u64
// coefficients; every coefficient must be below its row's prime (< t for a
// BFV plaintext). Keys and ciphertexts carry their 16-byte key id.
//
// Loading checks, in order: header size, magic, version, kind, scheme, the
// parameter hash against the given Context, the declared body size against
// the bytes present (and serialized_bytes_max), every count against its named
// limit, shapes against the parameters, coefficient ranges, and no trailing
// bytes. Any failure is an InvalidArgument naming the object, the field and
// the value; nothing is allocated beyond what the input's length justifies.
// Parameters are stored as the ParamSpec plus the generated primes; loading
// rebuilds the Context and refuses it if the primes or hash differ.
//
// Thread-safety: pure functions.
#pragma once

#include "common/bytes.h"
#include "fhe/ciphertext.h"

namespace swarm::fhe {

inline constexpr uint16_t kSerialVersion = 1;
inline constexpr size_t kSerializedBytesMax = size_t{1} << 32;
inline constexpr size_t kHeaderBytes = 48;

enum class BlobKind : uint8_t {
  kParams = 1,
  kSecretKey = 2,
  kPublicKey = 3,
  kRelinKey = 4,
  kGaloisKeys = 5,
  kPlaintext = 6,
  kCiphertext = 7,
};

Bytes SerializeParams(const Context& ctx);
StatusOr<ContextPtr> DeserializeParams(ByteSpan in);

Bytes Serialize(const Context& ctx, const Ciphertext& ct);
Bytes Serialize(const Context& ctx, const Plaintext& pt);
Bytes Serialize(const Context& ctx, const SecretKey& sk);
Bytes Serialize(const Context& ctx, const PublicKey& pk);
Bytes Serialize(const Context& ctx, const RelinKey& rk);
Bytes Serialize(const Context& ctx, const GaloisKeys& gk);

StatusOr<Ciphertext> DeserializeCiphertext(const Context& ctx, ByteSpan in);
StatusOr<Plaintext> DeserializePlaintext(const Context& ctx, ByteSpan in);
StatusOr<SecretKey> DeserializeSecretKey(const Context& ctx, ByteSpan in);
StatusOr<PublicKey> DeserializePublicKey(const Context& ctx, ByteSpan in);
StatusOr<RelinKey> DeserializeRelinKey(const Context& ctx, ByteSpan in);
StatusOr<GaloisKeys> DeserializeGaloisKeys(const Context& ctx, ByteSpan in);

// Kind of a blob (after checking magic and version), to dispatch on files.
StatusOr<BlobKind> PeekKind(ByteSpan in);

}  // namespace swarm::fhe
