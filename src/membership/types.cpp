#include "membership/types.h"

namespace swarm::membership {

const char* MemberStateName(MemberState s) {
  switch (s) {
    case MemberState::kAlive: return "alive";
    case MemberState::kSuspect: return "suspect";
    case MemberState::kDead: return "dead";
    case MemberState::kLeft: return "left";
  }
  return "invalid";
}

const char* MessageTypeName(MessageType t) {
  switch (t) {
    case MessageType::kPing: return "ping";
    case MessageType::kPingReq: return "ping_req";
    case MessageType::kAck: return "ack";
    case MessageType::kNack: return "nack";
    case MessageType::kGossip: return "gossip";
    case MessageType::kSync: return "sync";
    case MessageType::kSyncReply: return "sync_reply";
  }
  return "invalid";
}

}  // namespace swarm::membership
