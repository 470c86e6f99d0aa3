// Wire codec of membership messages: membership::Message <-> serialized
// swarm.v1.MembershipMessage (proto/swarm/v1/membership.proto).
//
// Decode enforces every named limit before anything reaches Swim and never
// aborts on any input: on failure it returns a Status naming the field and the
// value, and sets `*reason` to a short label for the metric
// swarm_rejected_messages_total{reason}:
//   oversized, malformed, bad_type, too_many_updates, bad_peer_id, bad_state,
//   bad_incarnation, missing_metadata, bad_metadata, bad_credential,
//   bad_signature, directory_full.
// Peer ids are interned into the caller's PeerDirectory only after the whole
// message validated. Thread-safety: functions are reentrant; the directory is
// the caller's to serialize.
#pragma once

#include <string>

#include "common/bytes.h"
#include "common/status.h"
#include "membership/peer_directory.h"
#include "membership/types.h"

namespace swarm::membership {

struct CodecLimits {
  size_t message_bytes_max = 1 << 20;  // 1 MiB
  uint32_t updates_max = 4096;         // >= Config::sync_updates_per_message_max
  size_t region_bytes_max = 64;
  uint32_t roles_max = 16;
  size_t role_bytes_max = 64;
  size_t address_bytes_max = 256;
  float capacity_max = 1e6f;
  size_t credential_bytes_max = 16 * 1024;  // a SignedGrant (admission::kGrantBytesMax)
  size_t signature_bytes_max = 8 * 1024;    // ML-DSA-87 + Ed25519 hybrid fits
};

// Serializes `msg`; every id in it must be known to `dir` (else Internal).
StatusOr<Bytes> Encode(const Message& msg, const PeerDirectory& dir);

StatusOr<Message> Decode(ByteSpan bytes, PeerDirectory& dir, std::string* reason,
                         const CodecLimits& limits = {});

// The canonical bytes a record's author signs (types.h Update):
//   "swarm/membership-record/v1" 0x00 | u16 len | domain | u8 state |
//   u16 len | member id | u32 incarnation | u16 len | origin id |
//   (alive only) u64 hosted_version | f32 capacity bits | u16 len | region |
//   u16 len | address | u16 count | (u16 len | role)*
// `domain` binds the record to one swarm (its id), so a record signed for one
// swarm is not believed in another. Ids are names from `dir` (Internal error
// if unknown).
StatusOr<Bytes> RecordBytes(const Update& u, const PeerDirectory& dir, std::string_view domain);

// The same checks on metadata the decoder applies (for local config input too).
Status ValidateMetadata(const Metadata& m, const CodecLimits& limits = {});

}  // namespace swarm::membership
