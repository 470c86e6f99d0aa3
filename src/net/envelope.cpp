#include "net/envelope.h"

#include <cstring>

#include "crypto/hash.h"
#include "swarm/v1/envelope.pb.h"

namespace swarm::net {
namespace {

constexpr char kDomain[] = "swarm/envelope/v1";

void PutU64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Bytes SigningBytes(const crypto::PeerIdBytes& sender, uint8_t scheme, uint64_t epoch,
                   uint64_t seq, const std::string& kind, ByteSpan payload_sha3) {
  Bytes b(kDomain, kDomain + sizeof(kDomain));  // includes the 0x00 terminator
  b.insert(b.end(), sender.begin(), sender.end());
  b.push_back(scheme);
  PutU64(b, epoch);
  PutU64(b, seq);
  b.push_back(static_cast<uint8_t>(kind.size()));
  b.insert(b.end(), kind.begin(), kind.end());
  b.insert(b.end(), payload_sha3.begin(), payload_sha3.end());
  return b;
}

ByteSpan Span(const std::string& s) { return AsBytes(s); }

std::string ShortHex(const crypto::PeerIdBytes& id) {
  return ToHex(id).substr(0, crypto::kPeerIdHexChars);
}

}  // namespace

void EnvelopeSealer::set_epoch(uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (epoch != epoch_) {
    epoch_ = epoch;
    next_sequence_ = 1;
  }
}

StatusOr<Bytes> EnvelopeSealer::Seal(const std::string& kind, ByteSpan payload) {
  if (kind.empty() || kind.size() > kEnvelopeKindBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("envelope kind '", kind, "' must be 1..",
                                                   kEnvelopeKindBytesMax, " bytes"));
  }
  uint64_t epoch, seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    epoch = epoch_;
    seq = next_sequence_++;
  }
  const crypto::Digest256 h = crypto::Sha3_256(payload);
  const uint8_t scheme = static_cast<uint8_t>(identity_.scheme());
  SWARM_ASSIGN_OR_RETURN(Bytes sig, identity_.Sign(SigningBytes(identity_.peer_id(), scheme,
                                                                  epoch, seq, kind, h)));
  swarm::v1::SignedEnvelope env;
  env.set_sender_id(identity_.peer_id().data(), identity_.peer_id().size());
  env.set_scheme(scheme);
  env.set_public_key(identity_.public_key().data(), identity_.public_key().size());
  env.set_epoch(epoch);
  env.set_sequence(seq);
  env.set_kind(kind);
  env.set_payload_sha3(h.data(), h.size());
  env.set_payload(payload.data(), payload.size());
  env.set_signature(sig.data(), sig.size());
  Bytes out(env.ByteSizeLong());
  if (out.size() > kEnvelopeBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("envelope of ", out.size(),
                                                   " bytes exceeds the limit of ",
                                                   kEnvelopeBytesMax));
  }
  env.SerializeToArray(out.data(), static_cast<int>(out.size()));
  return out;
}

Status EnvelopeOpener::Reject(const std::string& reason, const std::string& detail) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++rejected_[reason];
  }
  return absl::PermissionDeniedError(absl::StrCat(reason, ": ", detail));
}

void EnvelopeOpener::set_min_epoch(uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.min_epoch = epoch;
}

std::map<std::string, uint64_t> EnvelopeOpener::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

uint64_t EnvelopeOpener::accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

bool EnvelopeOpener::RecordSequence(const crypto::PeerIdBytes& sender, uint64_t epoch,
                                    uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = windows_.find(sender);
  if (it == windows_.end()) {
    if (windows_.size() >= kReplaySendersMax) windows_.erase(windows_.begin());
    it = windows_.emplace(sender, Window{}).first;
  }
  Window& w = it->second;
  if (epoch < w.epoch) return false;
  if (epoch > w.epoch) w = Window{epoch, 0, {}};
  const uint64_t window = options_.replay_window;
  if (w.highest >= window && seq <= w.highest - window) return false;  // too old
  if (!w.seen.insert(seq).second) return false;                        // repeat
  if (seq > w.highest) {
    w.highest = seq;
    while (!w.seen.empty() && w.highest >= window && *w.seen.begin() <= w.highest - window) {
      w.seen.erase(w.seen.begin());
    }
  }
  ++accepted_;
  return true;
}

StatusOr<OpenedEnvelope> EnvelopeOpener::Open(ByteSpan encoded) {
  if (encoded.size() > options_.envelope_bytes_max) {
    return Reject("oversized", absl::StrCat(encoded.size(), " bytes > limit ",
                                            options_.envelope_bytes_max));
  }
  swarm::v1::SignedEnvelope env;
  if (!env.ParseFromArray(encoded.data(), static_cast<int>(encoded.size()))) {
    return Reject("malformed", "not a SignedEnvelope");
  }
  if (env.sender_id().size() != 32) {
    return Reject("malformed", absl::StrCat("sender_id has ", env.sender_id().size(), " bytes, want 32"));
  }
  if (env.payload_sha3().size() != 32) {
    return Reject("malformed", absl::StrCat("payload_sha3 has ", env.payload_sha3().size(), " bytes, want 32"));
  }
  if (env.kind().empty() || env.kind().size() > kEnvelopeKindBytesMax) {
    return Reject("malformed", absl::StrCat("kind has ", env.kind().size(), " bytes, want 1..",
                                            kEnvelopeKindBytesMax));
  }
  if (env.scheme() > 255) return Reject("malformed", absl::StrCat("scheme ", env.scheme()));
  auto scheme = crypto::SchemeFromId(static_cast<uint8_t>(env.scheme()));
  if (!scheme.ok()) return Reject("malformed", std::string(scheme.status().message()));
  if (env.public_key().size() != crypto::SchemeSizesOf(*scheme).public_key) {
    return Reject("malformed", absl::StrCat("public_key has ", env.public_key().size(),
                                            " bytes, ", crypto::SchemeName(*scheme), " needs ",
                                            crypto::SchemeSizesOf(*scheme).public_key));
  }
  const crypto::Digest256 h = crypto::Sha3_256(Span(env.payload()));
  if (std::memcmp(h.data(), env.payload_sha3().data(), h.size()) != 0) {
    return Reject("bad_hash", "payload_sha3 does not match the payload");
  }
  crypto::PeerIdBytes sender;
  std::copy(env.sender_id().begin(), env.sender_id().end(), sender.begin());
  if (crypto::PeerIdOf(*scheme, Span(env.public_key())) != sender) {
    return Reject("bad_sender", absl::StrCat("sender_id ", ShortHex(sender),
                                             " is not the peer id of the public key"));
  }
  if (!options_.allowlist.empty() && !options_.allowlist.count(sender)) {
    return Reject("untrusted", absl::StrCat("sender ", ShortHex(sender), " is not on the allowlist"));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (env.epoch() < options_.min_epoch) {
      ++rejected_["stale_epoch"];
      return absl::PermissionDeniedError(absl::StrCat("stale_epoch: epoch ", env.epoch(),
                                                      " < minimum ", options_.min_epoch));
    }
  }
  const Bytes msg = SigningBytes(sender, static_cast<uint8_t>(env.scheme()), env.epoch(),
                                 env.sequence(), env.kind(), h);
  if (!crypto::Identity::Verify(*scheme, Span(env.public_key()), msg, Span(env.signature())).ok()) {
    return Reject("forged", absl::StrCat("signature does not verify for sender ", ShortHex(sender)));
  }
  if (!RecordSequence(sender, env.epoch(), env.sequence())) {
    return Reject("replayed", absl::StrCat("sender ", ShortHex(sender), " epoch ", env.epoch(),
                                           " sequence ", env.sequence(), " already seen or too old"));
  }
  OpenedEnvelope out;
  out.sender = sender;
  out.scheme = *scheme;
  out.public_key.assign(env.public_key().begin(), env.public_key().end());
  out.epoch = env.epoch();
  out.sequence = env.sequence();
  out.kind = env.kind();
  out.payload.assign(env.payload().begin(), env.payload().end());
  return out;
}

}  // namespace swarm::net
