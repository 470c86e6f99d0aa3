#include "net/call_auth.h"

#include <cstring>

#include "crypto/hash.h"

namespace swarm::net {
namespace {

constexpr char kRequestDomain[] = "swarm/rpc-request/v1";
constexpr char kReplyDomain[] = "swarm/rpc-reply/v1";

void PutU16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void PutU64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void Put(Bytes& out, ByteSpan b) { out.insert(out.end(), b.begin(), b.end()); }

// Bounded reader over peer bytes; every error names the field.
class Reader {
 public:
  Reader(ByteSpan b, const char* what) : b_(b), what_(what) {}
  Status Need(size_t n, const char* field) {
    if (b_.size() - pos_ < n) {
      return absl::InvalidArgumentError(absl::StrCat(what_, ": truncated at field '", field, "' (needs ",
                                                     n, " bytes, ", b_.size() - pos_, " left)"));
    }
    return absl::OkStatus();
  }
  StatusOr<uint8_t> U8(const char* field) {
    SWARM_RETURN_IF_ERROR(Need(1, field));
    return b_[pos_++];
  }
  StatusOr<size_t> U16(const char* field) {
    SWARM_RETURN_IF_ERROR(Need(2, field));
    const size_t v = b_[pos_] | (static_cast<size_t>(b_[pos_ + 1]) << 8);
    pos_ += 2;
    return v;
  }
  StatusOr<uint64_t> U64(const char* field) {
    SWARM_RETURN_IF_ERROR(Need(8, field));
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b_[pos_ + i]) << (8 * i);
    pos_ += 8;
    return v;
  }
  Status Fixed(uint8_t* out, size_t n, const char* field) {
    SWARM_RETURN_IF_ERROR(Need(n, field));
    std::memcpy(out, b_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  // A u16-length-prefixed field of at most `max` bytes.
  StatusOr<Bytes> Var(size_t max, const char* field) {
    SWARM_ASSIGN_OR_RETURN(size_t n, U16(field));
    if (n > max) {
      return absl::InvalidArgumentError(
          absl::StrCat(what_, ": field '", field, "' is ", n, " bytes, limit ", max));
    }
    SWARM_RETURN_IF_ERROR(Need(n, field));
    Bytes v(b_.begin() + pos_, b_.begin() + pos_ + n);
    pos_ += n;
    return v;
  }
  Status End() {
    if (pos_ != b_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what_, ": ", b_.size() - pos_, " trailing bytes after the signature"));
    }
    return absl::OkStatus();
  }

 private:
  ByteSpan b_;
  const char* what_;
  size_t pos_ = 0;
};

StatusOr<crypto::SignatureScheme> SchemeAndKey(uint8_t scheme_id, const Bytes& pk, const Bytes& sig,
                                               const char* what) {
  auto scheme = crypto::SchemeFromId(scheme_id);
  if (!scheme.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": field 'scheme' has unknown value ",
                                                   static_cast<int>(scheme_id)));
  }
  const auto sizes = crypto::SchemeSizesOf(*scheme);
  if (pk.size() != sizes.public_key) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": field 'public_key' is ", pk.size(), " bytes, ",
                                                   crypto::SchemeName(*scheme), " needs ", sizes.public_key));
  }
  if (sig.size() != sizes.signature) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": field 'signature' is ", sig.size(), " bytes, ",
                                                   crypto::SchemeName(*scheme), " needs ", sizes.signature));
  }
  return *scheme;
}

}  // namespace

std::string ShortPeerId(const crypto::PeerIdBytes& id) {
  return ToHex(id).substr(0, crypto::kPeerIdHexChars);
}

Bytes RequestSigningBytes(const RequestAuth& a) {
  Bytes b(kRequestDomain, kRequestDomain + sizeof(kRequestDomain));  // with the 0x00
  b.push_back(a.version);
  b.push_back(static_cast<uint8_t>(a.scheme));
  PutU16(b, a.public_key.size());
  Put(b, a.public_key);
  PutU16(b, a.method.size());
  Put(b, AsBytes(a.method));
  Put(b, a.body_sha3);
  PutU64(b, a.unix_ms);
  Put(b, a.nonce);
  Put(b, a.grant_sha3);
  b.push_back(a.tls_cert_sha256 ? 1 : 0);
  if (a.tls_cert_sha256) Put(b, *a.tls_cert_sha256);
  return b;
}

Status SignRequestAuth(const crypto::Identity& identity, RequestAuth& a) {
  if (a.method.size() > kAuthMethodBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("request auth: method '", a.method, "' is longer than ", kAuthMethodBytesMax, " bytes"));
  }
  a.scheme = identity.scheme();
  a.public_key = identity.public_key();
  SWARM_ASSIGN_OR_RETURN(a.signature, identity.Sign(RequestSigningBytes(a)));
  return absl::OkStatus();
}

Bytes EncodeRequestAuth(const RequestAuth& a) {
  Bytes b = RequestSigningBytes(a);
  b.erase(b.begin(), b.begin() + sizeof(kRequestDomain));
  PutU16(b, a.signature.size());
  Put(b, a.signature);
  return b;
}

StatusOr<RequestAuth> DecodeRequestAuth(ByteSpan bytes) {
  constexpr const char* kWhat = "request auth header";
  if (bytes.size() > kAuthHeaderBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, " is ", bytes.size(), " bytes, limit ", kAuthHeaderBytesMax));
  }
  Reader r(bytes, kWhat);
  RequestAuth a;
  SWARM_ASSIGN_OR_RETURN(a.version, r.U8("version"));
  if (a.version != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, ": field 'version' is ", static_cast<int>(a.version), ", only 1 is known"));
  }
  SWARM_ASSIGN_OR_RETURN(uint8_t scheme_id, r.U8("scheme"));
  SWARM_ASSIGN_OR_RETURN(a.public_key, r.Var(kAuthPublicKeyBytesMax, "public_key"));
  SWARM_ASSIGN_OR_RETURN(Bytes method, r.Var(kAuthMethodBytesMax, "method"));
  a.method.assign(method.begin(), method.end());
  SWARM_RETURN_IF_ERROR(r.Fixed(a.body_sha3.data(), a.body_sha3.size(), "body_sha3"));
  SWARM_ASSIGN_OR_RETURN(a.unix_ms, r.U64("unix_ms"));
  SWARM_RETURN_IF_ERROR(r.Fixed(a.nonce.data(), a.nonce.size(), "nonce"));
  SWARM_RETURN_IF_ERROR(r.Fixed(a.grant_sha3.data(), a.grant_sha3.size(), "grant_sha3"));
  SWARM_ASSIGN_OR_RETURN(uint8_t has_cert, r.U8("has_cert"));
  if (has_cert > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, ": field 'has_cert' is ", static_cast<int>(has_cert), ", must be 0 or 1"));
  }
  if (has_cert) {
    Digest32 c{};
    SWARM_RETURN_IF_ERROR(r.Fixed(c.data(), c.size(), "cert_sha256"));
    a.tls_cert_sha256 = c;
  }
  SWARM_ASSIGN_OR_RETURN(a.signature, r.Var(kAuthSignatureBytesMax, "signature"));
  SWARM_RETURN_IF_ERROR(r.End());
  SWARM_ASSIGN_OR_RETURN(a.scheme, SchemeAndKey(scheme_id, a.public_key, a.signature, kWhat));
  return a;
}

Status VerifyRequestAuthSignature(const RequestAuth& a) {
  Status s = crypto::VerifySignature(a.scheme, a.public_key, RequestSigningBytes(a), a.signature);
  if (s.ok()) return s;
  return absl::UnauthenticatedError(absl::StrCat("unauthenticated: request signature of peer ",
                                                 ShortPeerId(PeerIdOfRequest(a)), " for ", a.method,
                                                 " does not verify"));
}

crypto::PeerIdBytes PeerIdOfRequest(const RequestAuth& a) { return crypto::PeerIdOf(a.scheme, a.public_key); }

Bytes ReplySigningBytes(const Nonce& request_nonce, std::string_view method, ByteSpan reply_sha3) {
  Bytes b(kReplyDomain, kReplyDomain + sizeof(kReplyDomain));
  Put(b, request_nonce);
  Put(b, crypto::Sha3_256(AsBytes(method)));
  Put(b, reply_sha3);
  return b;
}

StatusOr<ReplyAuth> SignReply(const crypto::Identity& identity, const Nonce& request_nonce,
                              std::string_view method, const Digest32& reply_sha3) {
  ReplyAuth r;
  r.scheme = identity.scheme();
  r.public_key = identity.public_key();
  SWARM_ASSIGN_OR_RETURN(r.signature, identity.Sign(ReplySigningBytes(request_nonce, method, reply_sha3)));
  return r;
}

Bytes EncodeReplyAuth(const ReplyAuth& a) {
  Bytes b;
  b.push_back(a.version);
  b.push_back(static_cast<uint8_t>(a.scheme));
  PutU16(b, a.public_key.size());
  Put(b, a.public_key);
  PutU16(b, a.signature.size());
  Put(b, a.signature);
  return b;
}

StatusOr<ReplyAuth> DecodeReplyAuth(ByteSpan bytes) {
  constexpr const char* kWhat = "reply auth trailer";
  if (bytes.size() > kAuthHeaderBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, " is ", bytes.size(), " bytes, limit ", kAuthHeaderBytesMax));
  }
  Reader r(bytes, kWhat);
  ReplyAuth a;
  SWARM_ASSIGN_OR_RETURN(a.version, r.U8("version"));
  if (a.version != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhat, ": field 'version' is ", static_cast<int>(a.version), ", only 1 is known"));
  }
  SWARM_ASSIGN_OR_RETURN(uint8_t scheme_id, r.U8("scheme"));
  SWARM_ASSIGN_OR_RETURN(a.public_key, r.Var(kAuthPublicKeyBytesMax, "public_key"));
  SWARM_ASSIGN_OR_RETURN(a.signature, r.Var(kAuthSignatureBytesMax, "signature"));
  SWARM_RETURN_IF_ERROR(r.End());
  SWARM_ASSIGN_OR_RETURN(a.scheme, SchemeAndKey(scheme_id, a.public_key, a.signature, kWhat));
  return a;
}

Status VerifyReplyAuth(const ReplyAuth& a, const Nonce& request_nonce, std::string_view method,
                       const Digest32& reply_sha3, const std::optional<crypto::PeerIdBytes>& expected) {
  const crypto::PeerIdBytes signer = crypto::PeerIdOf(a.scheme, a.public_key);
  if (expected && signer != *expected) {
    return absl::UnauthenticatedError(absl::StrCat("reply to ", std::string(method), " signed by peer ", ShortPeerId(signer),
                                                   ", expected peer ", ShortPeerId(*expected)));
  }
  Status s = crypto::VerifySignature(a.scheme, a.public_key, ReplySigningBytes(request_nonce, method, reply_sha3),
                                     a.signature);
  if (!s.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("reply to ", std::string(method), " from peer ", ShortPeerId(signer), ": signature does not verify"));
  }
  return absl::OkStatus();
}

}  // namespace swarm::net
