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
//
// Admission is re-checked on every view refresh (each step, <= 100 ms apart),
// not only when a record arrives: a member whose grant is outside its window
// ("expired", "not_yet_valid") or whose subject was excluded by a committed
// record ("excluded") leaves this peer's PlacementView, the ring and the
// status "members" (listed under "refused" with the reason) without a
// restart, and returns when it gossips a record carrying a renewed grant.
// The committed admission set (node/admission.h "Committed admission") is
// applied the same way ("not_committed", "revoked").
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
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
  // This peer's renewed grant (SignedGrant bytes): the driver thread gives it
  // to Swim (Swim::UpdateCredential: new incarnation, gossiped) so the other
  // members re-admit this peer with it. Thread-safe.
  void SetOwnCredential(Bytes grant);
  // The member addresses of the last committed epoch.membership record
  // (version > 0). From then on the placement ring is built only from live
  // admitted expert hosts that are also in this set: placement follows the
  // membership the committee committed, not each peer's momentary view (a
  // newcomer owns experts once a record naming it is committed). Versions
  // only move forward. Thread-safe.
  void SetCommittedMembers(std::set<std::string> addresses, uint64_t version);

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
  // "" when `m` may stay in the view now, else why not (see the header comment).
  std::string RefusalOf(const membership::MemberView& m, uint64_t now_unix_ms) const;
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
  std::optional<Bytes> new_credential_;  // SetOwnCredential, applied by the driver thread
  std::set<std::string> committed_members_;  // SetCommittedMembers
  uint64_t committed_members_version_ = 0;   // 0: none committed (the live view rules)
  nlohmann::json snapshot_;
  PlacementView placement_;
  std::map<std::string, uint64_t> rejected_;  // codec and binding rejections
  membership::Counters counters_snapshot_;
  std::thread thread_;
};

}  // namespace swarm::node
