#include "node/membership_driver.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "membership/codec.h"
#include "membership/peer_directory.h"
#include "placement/experts.h"
#include "placement/ring.h"
#include "placement/view.h"
#include "swarm/v1/transport.grpc.pb.h"

namespace swarm::node {
namespace {

constexpr char kKind[] = "membership";
constexpr char kNameRolePrefix[] = "name:";
constexpr char kSeedPrefix[] = "seed:";  // directory names of seed addresses (not members)
// Real records carry ML-DSA signatures and grants (~9 KB each): keep a sync
// chunk well under the codec's 1 MiB message limit.
constexpr uint32_t kSyncUpdatesPerMessage = 48;
constexpr size_t kInboundQueueMax = 4096;
constexpr Nanos kSendDeadline = Millis(1000);
constexpr Nanos kIdleWait = Millis(100);

// The display name a member announces in its roles ("name:n3"), else its address.
std::string DisplayName(const membership::MemberView& m, const std::string& address) {
  if (m.meta) {
    for (const auto& r : m.meta->roles) {
      if (r.rfind(kNameRolePrefix, 0) == 0) return r.substr(sizeof(kNameRolePrefix) - 1);
    }
  }
  return address;
}

}  // namespace

MembershipDriver::MembershipDriver(const NodeConfig& config, const crypto::Identity& identity,
                                   net::EnvelopeSealer& sealer, Metrics& metrics, MembershipAdmission admission,
                                   std::function<std::shared_ptr<grpc::Channel>(const std::string&)> channel_to)
    : config_(config), identity_(identity), metrics_(metrics), origin_(clock_.Now()),
      sealer_(sealer), admission_(std::move(admission)),
      envelope_checks_({.payload_bytes_max = membership::CodecLimits{}.message_bytes_max + 256,
                        .on_refusal = [this](const std::string& reason) { Count(reason); }}) {
  channel_to_ = std::move(channel_to);
  swim_config_.sync_updates_per_message_max = kSyncUpdatesPerMessage;
  swim_config_.probe_interval = config.membership_probe_interval;
  swim_config_.probe_timeout = config.membership_probe_timeout;
  swim_config_.suspicion_mult = config.membership_suspicion_mult;
  swim_config_.join_timeout = config.membership_join_timeout;
  snapshot_ = nlohmann::json::object();
}

MembershipDriver::~MembershipDriver() { Stop(); }

Status MembershipDriver::Start(const std::string& self_address) {
  self_address_ = self_address;
  SWARM_RETURN_IF_ERROR(swim_config_.Validate());
  dir_ = std::make_unique<membership::PeerDirectory>();
  SWARM_ASSIGN_OR_RETURN(membership::MemberId self,
                         dir_->Intern(MembershipAuthority::NameOf(identity_.peer_id())));
  membership::Metadata meta;
  meta.capacity = static_cast<float>(config_.capacity);
  meta.region = config_.region;
  meta.address = self_address;
  meta.roles = {std::string(kNameRolePrefix) + config_.id};
  SWARM_RETURN_IF_ERROR(membership::ValidateMetadata(meta));
  authority_ = std::make_unique<MembershipAuthority>(identity_, *dir_, admission_, [] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  });
  // A closed swarm (no issuer, not open) admits nobody, this peer included:
  // membership then runs inert (others refuse us, we refuse them), as every
  // other peer call is refused; the node itself still starts (node/admission.h).
  auto credential = authority_->OwnCredential(meta.capacity, meta.region, self_address);
  if (!credential.ok()) spdlog::warn("membership: {}; no peer will admit this one", std::string(credential.status().message()));
  swim_ = std::make_unique<membership::Swim>(
      self, meta, credential.ok() ? *credential : std::make_shared<const Bytes>(), swim_config_,
      std::hash<std::string>{}(self_address) ^ origin_, authority_.get());
  if (credential.ok() && !swim_->SelfAdmission().ok())
    spdlog::warn("membership: this peer's own credential is refused: {}", std::string(swim_->SelfAdmission().status().message()));
  std::vector<membership::MemberId> seeds;
  for (const auto& s : config_.seeds) {
    if (s == self_address) continue;
    auto id = dir_->Intern(kSeedPrefix + s);
    if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat("membership: seed '", s, "': ", id.status().message()));
    seeds.push_back(*id);
  }
  if (!seeds.empty()) SWARM_RETURN_IF_ERROR(swim_->Join(seeds, Now()));
  Step(Now());
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void MembershipDriver::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void MembershipDriver::Count(const std::string& reason) {
  metrics_.rejected_messages.Add({{"reason", reason}}).Increment();
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_[reason];
}

void MembershipDriver::Deliver(const net::OpenedEnvelope& env) {
  const Bytes& p = env.payload;
  if (!envelope_checks_.CheckSize(env).ok()) return;
  if (p.empty() || p.size() < 1u + p[0]) return Count("malformed");
  std::string name(p.begin() + 1, p.begin() + 1 + p[0]);
  if (!membership::PeerDirectory::ValidateName(name).ok()) return Count("bad_peer_id");
  // A member speaks only as itself: the name is the envelope signer's peer id.
  if (!envelope_checks_.SignerMustBe(name, MembershipAuthority::NameOf(env.sender), "name_hijack").ok()) return;
  std::unique_lock<std::mutex> lock(mu_);
  if (inbound_.size() >= kInboundQueueMax) {
    lock.unlock();
    return Count("queue_full");
  }
  inbound_.push_back({std::move(name), Bytes(p.begin() + 1 + p[0], p.end())});
  cv_.notify_one();
}

void MembershipDriver::SetOwnCredential(Bytes grant) {
  std::lock_guard<std::mutex> lock(mu_);
  new_credential_ = std::move(grant);
  cv_.notify_one();
}

void MembershipDriver::SetCommittedMembers(std::set<std::string> addresses, uint64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  if (version <= committed_members_version_) return;
  committed_members_ = std::move(addresses);
  committed_members_version_ = version;
}

void MembershipDriver::Loop() {
  for (;;) {
    std::deque<Inbound> batch;
    std::optional<Bytes> credential;
    {
      std::unique_lock<std::mutex> lock(mu_);
      const Nanos wait = std::clamp<Nanos>(swim_->NextDeadline() - Now(), 0, kIdleWait);
      cv_.wait_for(lock, std::chrono::nanoseconds(wait),
                   [&] { return stop_ || !inbound_.empty() || new_credential_.has_value(); });
      if (stop_) break;
      batch.swap(inbound_);
      credential.swap(new_credential_);
    }
    const Nanos now = Now();
    if (credential) {
      Status s = swim_->UpdateCredential(std::make_shared<const Bytes>(std::move(*credential)));
      if (s.ok()) {
        spdlog::info("membership: gossiping this peer's renewed grant (incarnation {})", swim_->incarnation());
      } else {
        spdlog::warn("membership: renewed grant refused: {}", std::string(s.message()));
      }
    }
    for (auto& in : batch) {
      std::string reason;
      auto msg = membership::Decode(in.bytes, *dir_, &reason);
      if (!msg.ok()) {
        Count(reason.empty() ? "malformed" : reason);
        continue;
      }
      auto from = dir_->Intern(in.name);
      if (!from.ok()) {
        Count("directory_full");
        continue;
      }
      swim_->OnMessage(*from, *msg, now);
    }
    Step(now);
  }
  // Graceful leave: gossip it and give it a moment to go out.
  swim_->Leave(Now());
  const Nanos until = Now() + std::min<Nanos>(swim_config_.leave_timeout, Millis(1500));
  while (!swim_->LeaveDone(Now()) && Now() < until) {
    Step(Now());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void MembershipDriver::Step(Nanos now) {
  swim_->OnTick(now);
  SendAll(swim_->TakeOutbox());
  ExportRejections();
  RefreshSnapshot(now);
}

void MembershipDriver::ExportRejections() {
  for (const auto& [reason, n] : swim_->counters().rejected) {
    uint64_t& done = exported_[reason];
    if (n > done) {
      metrics_.rejected_messages.Add({{"reason", reason}}).Increment(static_cast<double>(n - done));
      std::lock_guard<std::mutex> lock(mu_);
      rejected_[reason] += n - done;
      done = n;
    }
  }
}

std::string MembershipDriver::AddressOf(membership::MemberId id) const {
  const std::string& name = dir_->Name(id);
  if (name.rfind(kSeedPrefix, 0) == 0) return name.substr(sizeof(kSeedPrefix) - 1);
  auto it = addresses_.find(id);
  return it == addresses_.end() ? "" : it->second;
}

void MembershipDriver::SendAll(std::vector<membership::Outgoing> out) {
  const std::string self_name = dir_->Name(swim_->self());
  for (auto& o : out) {
    const std::string to = AddressOf(o.to);
    if (to.empty()) continue;  // a member without a known address
    if (dir_->Name(o.to).rfind(kSeedPrefix, 0) == 0) o.msg.recipient = membership::kAnyRecipient;
    auto bytes = membership::Encode(o.msg, *dir_);
    if (!bytes.ok()) continue;
    Bytes payload;
    payload.reserve(1 + self_name.size() + bytes->size());
    payload.push_back(static_cast<uint8_t>(self_name.size()));
    payload.insert(payload.end(), self_name.begin(), self_name.end());
    payload.insert(payload.end(), bytes->begin(), bytes->end());
    auto sealed = sealer_.Seal(kKind, payload);
    if (!sealed.ok()) continue;
    auto& channel = channels_[to];
    if (!channel) channel = channel_to_(to);
    struct Call {
      grpc::ClientContext ctx;
      swarm::v1::DeliverRequest req;
      swarm::v1::DeliverReply reply;
    };
    auto* call = new Call;
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(kSendDeadline));
    call->req.set_envelope(sealed->data(), sealed->size());
    swarm::v1::Transport::NewStub(channel)->async()->Deliver(
        &call->ctx, &call->req, &call->reply, [call](grpc::Status) { delete call; });
  }
}

std::string MembershipDriver::RefusalOf(const membership::MemberView& m, uint64_t now_unix_ms) const {
  if (!m.admission) return "";  // open-mode self without a credential: Swim decides
  const membership::Admission& a = *m.admission;
  if (now_unix_ms < a.not_before_unix_ms) return "not_yet_valid";
  if (a.expires_unix_ms != 0 && now_unix_ms >= a.expires_unix_ms) return "expired";
  if (!admission_.verifier || m.id >= dir_->size()) return "";
  std::optional<crypto::PeerIdBytes> id;
  if (auto raw = FromHex(dir_->Name(m.id)); raw.ok() && raw->size() == crypto::PeerIdBytes{}.size()) {
    id.emplace();
    std::copy(raw->begin(), raw->end(), id->begin());
  }
  if (id && admission_.verifier->IsExcluded(*id)) return "excluded";
  if (a.expires_unix_ms != 0) {  // a grant (not an open credential): the committed set rules
    if (std::string r = admission_.verifier->CommittedRefusal(a.grant_sha3, id ? &*id : nullptr); !r.empty())
      return r;
  }
  return "";
}

void MembershipDriver::RefreshSnapshot(Nanos now) {
  const uint64_t now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count());
  std::vector<membership::MemberView> members;
  nlohmann::json refused = nlohmann::json::array();
  for (auto& m : swim_->Members()) {
    if (std::string r = RefusalOf(m, now_ms); !r.empty()) {
      refused.push_back({{"peer_id", dir_->Name(m.id)}, {"reason", r}, {"self", m.id == swim_->self()}});
      continue;
    }
    members.push_back(std::move(m));
  }
  for (const auto& m : members) {
    std::string addr = m.admission && !m.admission->address.empty() ? m.admission->address
                                                                     : (m.meta ? m.meta->address : "");
    if (m.id == swim_->self()) addr = self_address_;
    addresses_[m.id] = addr;
  }
  // The ring follows the live view of admitted expert hosts, weighted by
  // granted capacity; PlaceExperts caps what any identity and operator owns.
  auto peers = placement::PeersFromView(members, *dir_);
  uint64_t committed_version = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    committed_version = committed_members_version_;
    if (committed_version > 0) {
      std::erase_if(peers, [&](const placement::PeerInfo& p) {
        auto id = dir_->Find(p.id);
        return !id || !committed_members_.contains(AddressOf(*id));
      });
    }
  }
  std::vector<std::string> names;
  for (const auto& p : peers) names.push_back(p.id);
  std::sort(names.begin(), names.end());
  if (names != ring_peers_) {
    ring_peers_ = names;
    placement::RingConfig rc;
    rc.replicas = static_cast<uint32_t>(config_.ring_replicas);
    auto ring = placement::Ring::Build(peers, rc);
    if (ring.ok()) {
      std::map<uint32_t, std::vector<std::string>> owners;
      const auto place = placement::PlaceExperts(*ring, static_cast<uint32_t>(config_.ring_experts));
      for (uint32_t e = 0; e < place.owners.size(); ++e)
        for (uint32_t i : place.owners[e]) {
          auto id = dir_->Find(ring->peers()[i].id);
          const std::string addr = id ? AddressOf(*id) : "";
          if (!addr.empty()) owners[e].push_back(addr);
        }
      for (const auto& [e, o] : owners) {
        auto old = expert_owners_.find(e);
        if (old != expert_owners_.end() && !old->second.empty() && !o.empty() &&
            old->second.front() != o.front()) {
          ++ring_moves_;
        }
      }
      expert_owners_ = std::move(owners);
    }
  }
  std::map<std::string, std::string> display;  // address -> name
  nlohmann::json jm = nlohmann::json::array();
  PlacementView view;
  view.owners = expert_owners_;
  view.ring_moves = ring_moves_;
  for (const auto& m : members) {
    const std::string addr = AddressOf(m.id);
    const std::string name = DisplayName(m, addr);
    display[addr] = name;
    view.members.push_back({name, addr, std::string(membership::MemberStateName(m.state)),
                            m.admission ? m.admission->region : "",
                            m.admission ? static_cast<double>(m.admission->capacity) : 0.0,
                            m.incarnation, m.id == swim_->self(), m.admission ? m.admission->roles : 0u,
                            m.admission ? m.admission->operator_name : ""});
    jm.push_back({{"id", name},
                  {"address", addr},
                  {"state", membership::MemberStateName(m.state)},
                  {"incarnation", m.incarnation},
                  {"region", m.admission ? m.admission->region : ""},
                  {"capacity", m.admission ? m.admission->capacity : 0.0f},
                  {"link_weight", m.link_weight},
                  {"peer_id", dir_->Name(m.id)},
                  {"operator", m.admission ? m.admission->operator_name : ""},
                  {"self", m.id == swim_->self()}});
  }
  nlohmann::json owners = nlohmann::json::object();
  for (const auto& [e, o] : expert_owners_) {
    nlohmann::json names_json = nlohmann::json::array();
    for (const auto& a : o) names_json.push_back(display.count(a) ? display[a] : a);
    owners[std::to_string(e)] = names_json;
  }
  const auto& c = swim_->counters();
  std::lock_guard<std::mutex> lock(mu_);
  counters_snapshot_ = c;
  placement_ = std::move(view);
  snapshot_ = {{"self", {{"id", config_.id},
                         {"address", self_address_},
                         {"peer_id", identity_.PeerIdHex()},
                         {"incarnation", swim_->incarnation()},
                         {"health", swim_->health()},
                         {"fanout", swim_->fanout()},
                         {"join", swim_->JoinStatus().ok() ? "joined"
                                                           : std::string(swim_->JoinStatus().message())}}},
               {"members", jm},
               {"refused", refused},
               {"ring", {{"experts", config_.ring_experts},
                         {"replicas", config_.ring_replicas},
                         {"peers", ring_peers_.size()},
                         {"moves", ring_moves_},
                         {"committed_membership_version", committed_version},
                         {"owners", owners}}},
               {"counters", {{"gossip_messages", c.messages_sent},
                             {"suspicions", c.suspicions},
                             {"refutations", c.refutations},
                             {"probe_failures", c.probe_failures}}},
               {"updated_ms", now / kNanosPerMilli}};
  (void)now;
}

PlacementView MembershipDriver::Placement() const {
  std::lock_guard<std::mutex> lock(mu_);
  return placement_;
}

nlohmann::json MembershipDriver::StatusJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

}  // namespace swarm::node
