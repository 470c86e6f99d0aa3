// A peer's identity: a signature key pair (signer.h) and the peer id derived
// from its public key, plus the key file that stores it.
//
// Peer id = SHA3-256("swarm-peer-id/v1" || 0x00 || scheme name || 0x00 || public key),
// so the same key bytes under two schemes give two ids. PeerIdHex() shows the
// first 8 bytes as 16 lower-case hex characters; PeerIdOf() gives all 32.
//
// Key file (binary, little-endian, version 1):
//   magic   "SWARMKEY"                8 bytes
//   version 0x01                       1
//   scheme  1=ml-dsa-65 2=ml-dsa-87 3=hybrid   1
//   pk_len  u32, sk_len u32            8
//   public key, secret key             pk_len + sk_len
//   check   SHA3-256 of all bytes above   32
// Save writes it with permissions 0600 (through a temporary file in the same
// folder, then link/rename, so a reader never sees half a file) and refuses to
// replace an existing file unless `force`. Load refuses (PermissionDenied,
// naming the path and the mode) a file the group or others may access (mode &
// 077 != 0), as the FHE secret-key loader does. Load/Parse errors name the file
// and the problem (truncated, bad magic, unsupported version, unknown scheme,
// wrong key length, checksum mismatch, trailing bytes, key pair mismatch).
//
// Thread-safety: an Identity is immutable after creation; Sign may be called
// concurrently. Identity is move-only (it owns the secret key, wiped on
// destruction).
#pragma once

#include <array>
#include <memory>
#include <string>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/signer.h"

namespace swarm::crypto {

using PeerIdBytes = std::array<uint8_t, 32>;

inline constexpr size_t kKeyFileBytesMax = 64 * 1024;
inline constexpr size_t kPeerIdHexChars = 16;

PeerIdBytes PeerIdOf(SignatureScheme scheme, ByteSpan public_key);
// First kPeerIdHexChars hex characters of PeerIdOf.
std::string PeerIdHexOf(SignatureScheme scheme, ByteSpan public_key);

class Identity {
 public:
  static StatusOr<Identity> Generate(SignatureScheme scheme = kDefaultSignatureScheme);
  static StatusOr<Identity> FromKeys(SignatureScheme scheme, ByteSpan public_key,
                                     ByteSpan secret_key);
  static StatusOr<Identity> Load(const std::string& path);
  // Parses key-file bytes; `source` names the file in error messages.
  static StatusOr<Identity> Parse(ByteSpan file_bytes, const std::string& source = "<memory>");

  Status Save(const std::string& path, bool force) const;
  // The key-file bytes (holds the secret key: wipe after use).
  Bytes Serialize() const;

  SignatureScheme scheme() const { return signer_->scheme(); }
  const Bytes& public_key() const { return signer_->public_key(); }
  const PeerIdBytes& peer_id() const { return peer_id_; }
  std::string PeerIdHex() const;
  const Signer& signer() const { return *signer_; }

  StatusOr<Bytes> Sign(ByteSpan message) const { return signer_->Sign(message); }
  // OK, UnauthenticatedError (does not verify) or InvalidArgumentError (bad lengths).
  static Status Verify(SignatureScheme scheme, ByteSpan public_key, ByteSpan message,
                       ByteSpan signature) {
    return VerifySignature(scheme, public_key, message, signature);
  }

  Identity(Identity&&) noexcept = default;
  Identity& operator=(Identity&&) noexcept = default;

 private:
  explicit Identity(std::unique_ptr<Signer> signer);
  std::unique_ptr<Signer> signer_;
  PeerIdBytes peer_id_{};
};

}  // namespace swarm::crypto
