// Signed request headers and signed replies: how every RPC is authenticated
// to a peer id (docs/security.md, "RPC authentication").
//
// The dialer (net/dial.h) attaches to each call, as binary metadata:
//   kAuthMetadataKey   EncodeRequestAuth(RequestAuth): the caller's scheme and
//                      public key, the full method ("/swarm.v1.ExpertService/Backward"),
//                      SHA3-256 of the request's deterministic protobuf encoding,
//                      unix-ms time, a 16-byte random nonce, SHA3-256 of the grant
//                      bytes sent beside it, optionally SHA-256 of the caller's TLS
//                      certificate (DER), and the caller's signature over
//                        "swarm/rpc-request/v1" || 0x00 || all fields above
//   kGrantMetadataKey  the caller's admission::SignedGrant encoding (may be absent)
// The server (net::ServerAuth) answers with trailing metadata
//   kReplyMetadataKey  EncodeReplyAuth(ReplyAuth): the server's scheme, public key
//                      and signature over
//                        "swarm/rpc-reply/v1" || 0x00 || request nonce ||
//                        SHA3-256(method) || SHA3-256(deterministic reply encoding)
// so a reply is evidence: anyone holding it can check who said what to which request.
//
// Wire form of RequestAuth (little-endian):
//   version u8 (=1) | scheme u8 | pk_len u16 | public key | method_len u16 | method |
//   body_sha3 32 | unix_ms u64 | nonce 16 | grant_sha3 32 | has_cert u8 (0/1) |
//   [cert_sha256 32] | sig_len u16 | signature
// ReplyAuth: version u8 (=1) | scheme u8 | pk_len u16 | public key | sig_len u16 | signature
// Decoders are decoders of peer input: every length is bounded, the key and
// signature lengths must match the scheme, no trailing bytes; errors name the
// field and the value. Nothing here does I/O; functions are pure and
// thread-safe (signing uses the Identity, which is thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/identity.h"
#include "crypto/signer.h"

namespace swarm::net {

inline constexpr char kAuthMetadataKey[] = "swarm-auth-bin";
inline constexpr char kGrantMetadataKey[] = "swarm-grant-bin";
inline constexpr char kReplyMetadataKey[] = "swarm-reply-bin";

inline constexpr size_t kAuthMethodBytesMax = 256;
inline constexpr size_t kAuthPublicKeyBytesMax = 4096;
inline constexpr size_t kAuthSignatureBytesMax = 8192;
inline constexpr size_t kAuthHeaderBytesMax = 16 * 1024;
inline constexpr size_t kAuthNonceBytes = 16;
// gRPC's default metadata limit (8 KiB) is below one ML-DSA header plus a
// grant (~11 KiB); the dialer and RpcServer raise it to this.
inline constexpr int kMetadataBytesMax = 64 * 1024;

using Digest32 = std::array<uint8_t, 32>;
using Nonce = std::array<uint8_t, kAuthNonceBytes>;

struct RequestAuth {
  uint8_t version = 1;
  crypto::SignatureScheme scheme = crypto::kDefaultSignatureScheme;
  Bytes public_key;
  std::string method;  // full gRPC method, "/swarm.v1.Node/Ping"
  Digest32 body_sha3{};
  uint64_t unix_ms = 0;
  Nonce nonce{};
  Digest32 grant_sha3{};  // SHA3-256 of the grant bytes sent with the call (of "" if none)
  std::optional<Digest32> tls_cert_sha256;  // SHA-256 of the caller's certificate (DER)
  Bytes signature;
};

struct ReplyAuth {
  uint8_t version = 1;
  crypto::SignatureScheme scheme = crypto::kDefaultSignatureScheme;
  Bytes public_key;
  Bytes signature;
};

// The bytes the caller signs (everything but the signature, domain-separated).
Bytes RequestSigningBytes(const RequestAuth& auth);
// Fills public key/scheme from `identity` and signs. `auth.signature` is replaced.
Status SignRequestAuth(const crypto::Identity& identity, RequestAuth& auth);
Bytes EncodeRequestAuth(const RequestAuth& auth);
StatusOr<RequestAuth> DecodeRequestAuth(ByteSpan bytes);
// OK, or UnauthenticatedError "unauthenticated: request signature does not verify ...".
Status VerifyRequestAuthSignature(const RequestAuth& auth);
crypto::PeerIdBytes PeerIdOfRequest(const RequestAuth& auth);

Bytes ReplySigningBytes(const Nonce& request_nonce, std::string_view method, ByteSpan reply_sha3);
StatusOr<ReplyAuth> SignReply(const crypto::Identity& identity, const Nonce& request_nonce,
                              std::string_view method, const Digest32& reply_sha3);
Bytes EncodeReplyAuth(const ReplyAuth& auth);
StatusOr<ReplyAuth> DecodeReplyAuth(ByteSpan bytes);
// Checks the reply signature; when `expected` is set, also that the signer's
// peer id is `expected`. Errors: "reply from <id> ... does not verify",
// "reply signed by peer <a>, expected peer <b>".
Status VerifyReplyAuth(const ReplyAuth& auth, const Nonce& request_nonce, std::string_view method,
                       const Digest32& reply_sha3,
                       const std::optional<crypto::PeerIdBytes>& expected);

// "1a2b3c4d5e6f7a8b" (first kPeerIdHexChars hex characters of a peer id).
std::string ShortPeerId(const crypto::PeerIdBytes& id);

}  // namespace swarm::net
