// Signed envelopes: every peer-to-peer protocol message is wrapped in one.
//
// EnvelopeSealer (one per local identity) stamps sender id, epoch, a strictly
// increasing sequence number, kind and SHA3-256 of the payload, and signs
//   "swarm/envelope/v1" || 0x00 || sender_id || scheme || epoch || sequence ||
//   len(kind) || kind || payload_sha3
// with the identity's scheme (ML-DSA-65 by default).
//
// EnvelopeOpener checks, in this order, and on failure drops the message and
// counts the reason (the label of swarm_rejected_messages_total{reason}):
//   oversized     encoded size above envelope_bytes_max
//   malformed     not a SignedEnvelope, or a field of the wrong length
//   bad_hash      payload_sha3 is not SHA3-256 of the payload
//   bad_sender    sender_id is not the peer id of (scheme, public_key)
//   untrusted     an allowlist is set and the sender is not on it
//   stale_epoch   epoch older than the opener's minimum epoch
//   forged        the signature does not verify
//   replayed      (sender, epoch, sequence) already accepted, or older than
//                 the replay window (replay_window sequence numbers per sender)
// A replay is only recorded after the signature verified, so a forger cannot
// burn sequence numbers of an honest peer.
//
// Thread-safety: EnvelopeSealer::Seal and EnvelopeOpener::Open are
// thread-safe (internal mutex); counters() returns a snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/identity.h"

namespace swarm::net {

constexpr size_t kEnvelopeBytesMax = 64u << 20;
constexpr size_t kEnvelopeKindBytesMax = 32;
constexpr uint64_t kReplayWindowDefault = 1024;
constexpr size_t kReplaySendersMax = 100000;

struct OpenedEnvelope {
  crypto::PeerIdBytes sender{};
  crypto::SignatureScheme scheme{};
  Bytes public_key;
  uint64_t epoch = 0;
  uint64_t sequence = 0;
  std::string kind;
  Bytes payload;
};

class EnvelopeSealer {
 public:
  // `identity` is not owned and must outlive the sealer.
  explicit EnvelopeSealer(const crypto::Identity& identity, uint64_t epoch = 0)
      : identity_(identity), epoch_(epoch) {}
  void set_epoch(uint64_t epoch);
  // The encoded SignedEnvelope carrying `payload`.
  StatusOr<Bytes> Seal(const std::string& kind, ByteSpan payload);

 private:
  const crypto::Identity& identity_;
  std::mutex mu_;
  uint64_t epoch_;
  uint64_t next_sequence_ = 1;
};

struct EnvelopeOpenerOptions {
  size_t envelope_bytes_max = kEnvelopeBytesMax;
  uint64_t replay_window = kReplayWindowDefault;
  uint64_t min_epoch = 0;
  // Empty = accept any self-certified sender.
  std::set<crypto::PeerIdBytes> allowlist;
};

class EnvelopeOpener {
 public:
  explicit EnvelopeOpener(EnvelopeOpenerOptions options = {}) : options_(std::move(options)) {}
  // The verified envelope, or an error whose message starts with the reason
  // label, e.g. "forged: signature does not verify for sender 1a2b...".
  StatusOr<OpenedEnvelope> Open(ByteSpan encoded);
  void set_min_epoch(uint64_t epoch);
  std::map<std::string, uint64_t> rejected() const;
  uint64_t accepted() const;

 private:
  Status Reject(const std::string& reason, const std::string& detail);
  // True if (sender, epoch, seq) is new and inside the window; records it.
  bool RecordSequence(const crypto::PeerIdBytes& sender, uint64_t epoch, uint64_t seq);

  struct Window {
    uint64_t epoch = 0;
    uint64_t highest = 0;
    std::set<uint64_t> seen;  // sequence numbers in (highest - window, highest]
  };
  EnvelopeOpenerOptions options_;
  mutable std::mutex mu_;
  std::map<crypto::PeerIdBytes, Window> windows_;
  std::map<std::string, uint64_t> rejected_;
  uint64_t accepted_ = 0;
};

}  // namespace swarm::net
