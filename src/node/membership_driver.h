// Drives membership::Swim (a sans-I/O state machine) over gRPC, and keeps the
// placement ring in step with the live view.
//
// Threads: one driver thread owns the Swim, the PeerDirectory and the ring;
// gRPC handler threads only open envelopes and enqueue payloads; HTTP/Info
// threads read a snapshot refreshed by the driver after every step.
//
// Wire: a membership message is `[u8 name length][sender name][codec bytes]`
// inside a SignedEnvelope of kind "membership", sent by Transport.Deliver.
// Member names are full hex peer ids; the sender name must be the envelope
// signer's (else "name_hijack"), and the codec message names its recipient
// (Swim refuses another's: "wrong_recipient"). Records are signed and
// admitted through MembershipAuthority (grants, or open mode): addresses come
// from grants (else from the member's own signed record), never from first
// use. Seeds are addresses: a join sync to a seed names no recipient.
// Every drop — envelope payload, codec, binding and every Swim refusal — is
// counted in swarm_rejected_messages_total{reason}.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "crypto/identity.h"
#include "membership/config.h"
#include "membership/peer_directory.h"
#include "membership/swim.h"
#include "net/envelope.h"
#include "node/config.h"
#include "node/envelope_admission.h"
#include "node/membership_authority.h"
#include "node/metrics.h"
#include "node/view.h"

namespace grpc {
class Channel;
}

namespace swarm::node {

class MembershipDriver {
 public:
  // `sealer` is shared with the node's other protocols (one sequence space per
  // identity, or receivers would see replays); not owned.
  // `channel_to` gives the channel to a member's address (Node::ChannelTo: the
  // one dialer, signed calls); called from the driver's thread.
  MembershipDriver(const NodeConfig& config, const crypto::Identity& identity,
                   net::EnvelopeSealer& sealer, Metrics& metrics, MembershipAdmission admission,
                   std::function<std::shared_ptr<grpc::Channel>(const std::string&)> channel_to);
  ~MembershipDriver();

  // `self_address` is the bound gRPC address. Joins through config.seeds.
  Status Start(const std::string& self_address);
  // Gossips a graceful leave (bounded by leave_timeout) and stops the thread.
  void Stop();

  // Called from gRPC threads with an already verified envelope.
  void Deliver(const net::OpenedEnvelope& env);

  // {"self":..., "members":[...], "ring":{...}} as of the last step.
  nlohmann::json StatusJson() const;
  // Members and ring owners (by address) as of the last step.
  PlacementView Placement() const;

 private:
  struct Inbound {
    std::string name;
    Bytes bytes;
  };
  void Loop();
  void Step(Nanos now);
  void SendAll(std::vector<membership::Outgoing> out);
  void RefreshSnapshot(Nanos now);
  void Count(const std::string& reason);
  void ExportRejections();
  std::string AddressOf(membership::MemberId id) const;
  Nanos Now() const { return clock_.Now() - origin_; }

  NodeConfig config_;
  const crypto::Identity& identity_;
  Metrics& metrics_;
  membership::Config swim_config_;
  RealClock clock_;
  Nanos origin_;
  std::string self_address_;
  net::EnvelopeSealer& sealer_;
  MembershipAdmission admission_;
  EnvelopeAdmission envelope_checks_;  // size and signer's name (node/envelope_admission.h)

  // Driver-thread state.
  std::unique_ptr<membership::PeerDirectory> dir_;
  std::unique_ptr<MembershipAuthority> authority_;
  std::unique_ptr<membership::Swim> swim_;
  std::map<membership::MemberId, std::string> addresses_;  // member -> gRPC address
  std::map<std::string, uint64_t> exported_;               // Swim rejections already counted
  std::vector<std::string> ring_peers_;  // live peer names the ring was built from
  uint64_t ring_moves_ = 0;
  std::map<uint32_t, std::vector<std::string>> expert_owners_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::function<std::shared_ptr<grpc::Channel>(const std::string&)> channel_to_;

  // Shared with gRPC threads.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Inbound> inbound_;
  bool stop_ = false;
  nlohmann::json snapshot_;
  PlacementView placement_;
  std::map<std::string, uint64_t> rejected_;  // codec and binding rejections
  membership::Counters counters_snapshot_;
  std::thread thread_;
};

}  // namespace swarm::node
