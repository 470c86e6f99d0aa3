// Plain data of the SWIM membership protocol: member states, metadata,
// dissemination updates and the in-memory Message the state machine speaks.
//
// Member ids are dense process-local indices (swarm::NodeIndex values). The
// simulator uses node numbers directly; a real node maps peer names to indices
// with membership::PeerDirectory, and codec.h translates at the wire. Message
// is a plain struct so the simulator never pays for protobuf.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/ids.h"

namespace swarm::membership {

using MemberId = uint32_t;  // == NodeIndex::value()

enum class MemberState : uint8_t { kAlive = 0, kSuspect = 1, kDead = 2, kLeft = 3 };
const char* MemberStateName(MemberState s);  // "alive" | "suspect" | "dead" | "left"

// What a member says about itself; carried by alive updates. Immutable once
// shared (MetadataPtr), so thousands of simulated views share one copy.
struct Metadata {
  float capacity = 1.0f;          // relative capacity, > 0 (placement vnodes scale with it)
  std::string region;             // e.g. "eu-west"; "" = unknown
  std::vector<std::string> roles; // e.g. {"expert-host", "trainer"}
  uint64_t hosted_version = 0;    // version of what the member hosts
  std::string address;            // transport address, e.g. "127.0.0.1:7001"
  bool operator==(const Metadata&) const = default;
};
using MetadataPtr = std::shared_ptr<const Metadata>;

// One piece of membership news, piggybacked on protocol messages.
struct Update {
  MemberState state = MemberState::kAlive;
  MemberId member = 0;
  uint32_t incarnation = 0;
  MemberId origin = 0;  // who raised it (the suspecter for kSuspect)
  MetadataPtr meta;     // required for kAlive, ignored otherwise
};

enum class MessageType : uint8_t {
  kPing = 0,      // direct probe of `target` (the recipient); answered by kAck
  kPingReq = 1,   // ask the recipient to probe `target` for the sender
  kAck = 2,       // `target` answered probe `seq`
  kNack = 3,      // a ping-req helper got no answer from `target` for `seq`
  kGossip = 4,    // dissemination only
  kSync = 5,      // push-pull: sender's full state; `join` when joining
  kSyncReply = 6, // the recipient's full state (possibly one of several chunks)
};
constexpr int kMessageTypeCount = 7;
const char* MessageTypeName(MessageType t);

struct Message {
  MessageType type = MessageType::kGossip;
  uint32_t seq = 0;
  MemberId target = 0;
  bool join = false;
  std::vector<Update> updates;
};

}  // namespace swarm::membership
