#include "node/consensus/extension.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "net/address.h"
#include "node/config.h"
#include "client/consensus_client.h"
#include "consensus/epoch_proposer.h"
#include "node/consensus/service.h"
#include "node/node.h"

namespace swarm::node {
namespace {

constexpr char kSection[] = "consensus";
constexpr Nanos kIdentifyInterval = Millis(300);
constexpr Nanos kIdentifyDeadline = Millis(1000);
const std::vector<double> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,    10};

void AddKeys(ConfigSchema& s) {
  s.Bool("consensus.enabled", false, "Run a PBFT committee member ordering the replicated ledger.")
      .StringList("consensus.committee", {},
                  "gRPC addresses of the committee (n = 3f+1, index = replica id); empty = the first "
                  "committee_size alive members by sorted address, fixed once formed.")
      .Int("consensus.committee_size", 4, 4, 1000, "n when the committee is derived from membership (3f+1).")
      .Int("consensus.form_settle_ms", 2000, 0, 600000,
           "Derived committee: the alive member set must hold this long before it is fixed.")
      .Int("consensus.checkpoint_interval", 16, 1, 1000000, "K: checkpoint every K sequence numbers.")
      .Int("consensus.log_window", 64, 2, 1000000, "L: high watermark = stable checkpoint + L (multiple of K, >= 2K).")
      .Int("consensus.batch_size", 64, 1, 65536, "Requests per pre-prepare at most.")
      .Int("consensus.batch_delay_ms", 1, 0, 10000, "The primary waits this long to fill a batch.")
      .Int("consensus.request_timeout_ms", 2000, 1, 600000,
           "A backup starts a view change when a known request is not executed within this.")
      .Int("consensus.view_change_timeout_ms", 2000, 1, 600000, "No new view within this: try the next view.")
      .Int("consensus.resend_interval_ms", 200, 1, 600000, "Retransmit own votes / view change this often.")
      .Int("consensus.status_interval_ms", 300, 1, 600000, "Broadcast a status report this often.")
      .Int("consensus.submit_timeout_ms", 10000, 1, 600000, "How long Submit waits for execution by default.")
      .Int("consensus.request_bytes_max", 64 * 1024, 256, 16 << 20, "Largest ledger record a client may submit.")
      .String("consensus.ledger_signatures", "ml-dsa", {"ml-dsa", "ml-dsa,hybrid"},
              "Signature schemes that may author ledger records: ML-DSA only, or also hybrid (Ed25519 alone never). Same on every member.")
      .Int("consensus.submits_per_second", 200, 1, 1000000, "Submit calls per second per source (token bucket, burst 2x).")
      .Int("consensus.inbound_per_second", 5000, 1, 10000000, "Deliver: PBFT messages (signature checks) per second per source.")
      .Int("consensus.verify_interval_ms", 2000, 0, 3600000, "LedgerHead(verify): recompute the chain check at most this often (cached per head).")
      .Bool("consensus.fsync", true, "fsync the replica's durable state before sending votes.")
      .Bool("consensus.epochs", true,
            "Committee members propose epoch.membership / epoch.placement records when their view changes.")
      .Int("consensus.epoch_settle_ms", 2000, 0, 600000,
           "Propose an epoch record only after the view (and the committed epoch) held this long.");
}

Status BuildReplicaConfig(const Config& c, consensus::ReplicaConfig& r) {
  r.checkpoint_interval = static_cast<uint64_t>(c.GetInt("consensus.checkpoint_interval"));
  r.log_window = static_cast<uint64_t>(c.GetInt("consensus.log_window"));
  r.batch_requests_max = static_cast<size_t>(c.GetInt("consensus.batch_size"));
  r.batch_delay = Millis(c.GetInt("consensus.batch_delay_ms"));
  r.request_timeout = Millis(c.GetInt("consensus.request_timeout_ms"));
  r.view_change_timeout = Millis(c.GetInt("consensus.view_change_timeout_ms"));
  r.resend_interval = Millis(c.GetInt("consensus.resend_interval_ms"));
  r.status_interval = Millis(c.GetInt("consensus.status_interval_ms"));
  r.request_payload_bytes_max = static_cast<size_t>(c.GetInt("consensus.request_bytes_max"));
  r.batch_bytes_max = std::max<size_t>(r.batch_bytes_max, r.request_payload_bytes_max);
  return absl::OkStatus();
}

class ConsensusExtension final : public Extension {
 public:
  ConsensusExtension(const Config& c, consensus::ReplicaConfig rc)
      : config_(c), replica_config_(rc),
        service_(
            [this] {
              std::lock_guard<std::mutex> lock(mu_);
              return core_;
            },
            ServiceLimits(c)) {}

  static PbftServiceLimits ServiceLimits(const Config& c) {
    PbftServiceLimits l;
    l.ledger_schemes.allow_hybrid = c.GetString("consensus.ledger_signatures") == "ml-dsa,hybrid";
    l.submits_per_second = static_cast<double>(c.GetInt("consensus.submits_per_second"));
    l.submits_burst = 2 * l.submits_per_second;
    l.verify_interval = Millis(c.GetInt("consensus.verify_interval_ms"));
    return l;
  }
  ~ConsensusExtension() override { Stop(); }

  std::string name() const override { return kSection; }
  std::vector<grpc::Service*> services() override { return {&service_}; }

  Status Start(Node& node) override {
    node_ = &node;
    self_address_ = node.grpc_address();
    const std::string data_dir = node.config().data_dir;
    state_dir_ = data_dir.empty() ? "" : data_dir + "/consensus";
    if (!state_dir_.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(state_dir_, ec);
      if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", state_dir_, ": ", ec.message()));
    }
    RegisterMetrics();
    std::vector<std::string> committee = config_.GetStringList("consensus.committee");
    if (committee.empty()) committee = LoadSavedCommittee();
    if (!committee.empty()) SWARM_RETURN_IF_ERROR(Form(committee));
    thread_ = std::thread([this] { Background(); });
    return absl::OkStatus();
  }

  void Stop() override {
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
      }
      cv_.notify_all();
      thread_.join();
    }
    std::shared_ptr<ConsensusCore> core;
    {
      std::lock_guard<std::mutex> lock(mu_);
      core = core_;
    }
    if (core && core->driver) core->driver->Stop();
  }

  nlohmann::json StatusJson() override {
    std::shared_ptr<ConsensusCore> core;
    {
      std::lock_guard<std::mutex> lock(mu_);
      core = core_;
    }
    if (!core) return {{"state", "forming committee"}, {"committee", nlohmann::json::array()}};
    nlohmann::json j = {{"committee", core->committee}, {"self", core->self},
                        {"keys_known", core->keys ? core->keys->known() : 0}};
    if (!core->driver) {
      j["state"] = "observer (not a committee member)";
      return j;
    }
    const ConsensusStatus st = core->driver->status();
    const store::LedgerHead head = core->ledger->Head();
    j["state"] = st.in_view_change ? "view change" : "running";
    j["view"] = st.view;
    j["primary"] = st.primary < core->committee.size() ? core->committee[st.primary] : "";
    j["primary_index"] = st.primary;
    j["in_view_change"] = st.in_view_change;
    j["last_committed"] = st.last_committed;
    j["stable_checkpoint"] = st.stable_checkpoint;
    j["log_size"] = st.log_size;
    j["pending_requests"] = st.pending_requests;
    j["ledger_size"] = head.size;
    j["ledger_head"] = ToHex(head.hash);
    nlohmann::json dropped = nlohmann::json::object();
    for (size_t i = 0; i < st.counters.dropped.size(); ++i) {
      if (st.counters.dropped[i]) dropped[consensus::DropReasonName(static_cast<consensus::DropReason>(i))] = st.counters.dropped[i];
    }
    if (st.unknown_key_drops) dropped["unknown_key"] = st.unknown_key_drops;
    j["dropped"] = dropped;
    j["epochs"] = EpochsJson(*core);
    j["counters"] = {{"rounds", st.counters.batches_committed},
                     {"requests_executed", st.counters.requests_executed},
                     {"view_changes_started", st.counters.view_changes_started},
                     {"new_views_installed", st.counters.new_views_installed},
                     {"checkpoints_stable", st.counters.checkpoints_stable},
                     {"state_transfers", st.counters.state_transfers},
                     {"entries_fetched", st.counters.entries_fetched},
                     {"malformed_batches", st.malformed_batches},
                     {"send_failures", st.send_failures},
                     {"persist_failures", st.persist_failures},
                     {"key_changes_refused", core->keys->key_changes_refused()},
                     {"epoch_proposals", epoch_proposals_.load()}};
    return j;
  }

 private:
  std::vector<std::string> LoadSavedCommittee() {
    if (state_dir_.empty()) return {};
    std::ifstream in(state_dir_ + "/committee.json");
    if (!in) return {};
    auto j = nlohmann::json::parse(in, nullptr, false);
    std::vector<std::string> out;
    if (j.is_object() && j.contains("committee") && j["committee"].is_array()) {
      for (const auto& a : j["committee"]) {
        if (a.is_string()) out.push_back(a.get<std::string>());
      }
    }
    return out;
  }

  // Builds the core for `committee` and publishes it.
  Status Form(const std::vector<std::string>& committee) {
    const uint32_t n = static_cast<uint32_t>(committee.size());
    if (n < 4 || (n - 1) % 3 != 0) {
      return absl::InvalidArgumentError(absl::StrCat("consensus.committee: ", n,
                                                     " addresses; n must be 3f+1 (4, 7, 10, ...)"));
    }
    if (std::set<std::string>(committee.begin(), committee.end()).size() != n) {
      return absl::InvalidArgumentError("consensus.committee: an address appears twice");
    }
    auto core = std::make_shared<ConsensusCore>();
    core->committee = committee;
    core->self_address = self_address_;
    core->identity = &node_->identity();
    core->submit_wait_default = Millis(config_.GetInt("consensus.submit_timeout_ms"));
    auto it = std::find(committee.begin(), committee.end(), self_address_);
    core->self = it == committee.end() ? -1 : static_cast<int>(it - committee.begin());
    core->keys = std::make_unique<CommitteeKeys>(node_->identity(), committee,
                                                 state_dir_.empty() ? "" : state_dir_ + "/keys.json");
    SWARM_RETURN_IF_ERROR(core->keys->Load());
    if (core->self >= 0) {
      SWARM_RETURN_IF_ERROR(core->keys->Pin(static_cast<uint32_t>(core->self), node_->identity().scheme(),
                                            node_->identity().public_key()));
      core->ledger_path = state_dir_.empty() ? "" : state_dir_ + "/ledger.db";
      SWARM_ASSIGN_OR_RETURN(auto ledger,
                             LedgerStateMachine::Open(core->ledger_path, ServiceLimits(config_).ledger_schemes));
      // epoch.admission records are authored by the swarm's grant issuers only.
      EpochRules rules;
      if (const auto v = node_->admission().verifier) {
        for (const auto& k : v->issuers()) rules.admission_authors.insert(k.id);
      }
      ledger->SetEpochRules(std::move(rules));
      core->ledger = ledger.get();
      core->machine = std::move(ledger);
      ConsensusDriverOptions o;
      o.replica = replica_config_;
      o.replica.n = n;
      o.replica.self = consensus::ReplicaId(static_cast<uint32_t>(core->self));
      o.committee = committee;
      o.state_dir = state_dir_;
      o.fsync = config_.GetBool("consensus.fsync");
      o.inbound_per_source.items_per_second = static_cast<double>(config_.GetInt("consensus.inbound_per_second"));
      o.inbound_per_source.burst_items = 2 * o.inbound_per_source.items_per_second;
      CommitteeKeys* keys = core->keys.get();  // outlives the driver (ConsensusCore member order)
      o.signer_known = [keys](uint32_t i) { return keys->Known(i); };
      Node* node = node_;
      core->driver = std::make_unique<ConsensusDriver>(
          o, core->keys.get(), core->machine.get(), [node](const std::string& a) { return node->ChannelTo(a); });
      core->driver->set_on_commit([this](const consensus::CommittedEntry& e, std::optional<double> latency) {
        rounds_->Increment();
        if (latency && !e.requests.empty()) latency_->Observe(*latency);
      });
      SWARM_RETURN_IF_ERROR(core->driver->Start());
    }
    if (!state_dir_.empty()) {
      std::ofstream out(state_dir_ + "/committee.json");
      out << nlohmann::json{{"committee", committee}}.dump(2) << "\n";
    }
    if (core->self < 0) {
      spdlog::warn("consensus: this peer's address {} is not in the committee (addresses must be written as "
                   "the peers' gRPC addresses); running as an observer", self_address_);
    }
    spdlog::info("consensus: committee of {} formed; this peer is {}", n,
                 core->self >= 0 ? absl::StrCat("replica ", core->self) : std::string("not a member"));
    std::lock_guard<std::mutex> lock(mu_);
    core_ = std::move(core);
    return absl::OkStatus();
  }

  // Forms a derived committee, then learns missing keys by Pbft.Identify.
  void Background() {
    const size_t size = static_cast<size_t>(config_.GetInt("consensus.committee_size"));
    const Nanos settle = Millis(config_.GetInt("consensus.form_settle_ms"));
    RealClock clock;
    std::vector<std::string> last;
    Nanos since = clock.Now();
    for (;;) {
      std::shared_ptr<ConsensusCore> core;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::nanoseconds(kIdentifyInterval), [&] { return stop_; });
        if (stop_) return;
        core = core_;
      }
      if (!core) {
        std::vector<std::string> alive = node_->Placement().AliveAddresses();
        std::sort(alive.begin(), alive.end());
        if (alive != last) {
          last = alive;
          since = clock.Now();
        }
        if (alive.size() >= size && clock.Now() - since >= settle) {
          alive.resize(size);
          if (Status s = Form(alive); !s.ok()) spdlog::error("consensus: cannot form committee: {}", std::string(s.message()));
        }
        continue;
      }
      if (core->driver && config_.GetBool("consensus.epochs")) EpochStep(*core, clock.Now());
      if (core->driver) ActOnCommittedEpochs(*core);
      if (!core->keys || core->keys->known() == core->committee.size()) continue;
      for (uint32_t i = 0; i < core->committee.size(); ++i) {
        if (core->keys->Known(i)) continue;
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(kIdentifyDeadline));
        swarm::v1::PbftIdentifyRequest req;
        swarm::v1::PbftIdentifyReply reply;
        auto s = swarm::v1::Pbft::NewStub(node_->ChannelTo(core->committee[i]))->Identify(&ctx, req, &reply);
        if (!s.ok()) continue;
        auto scheme = crypto::SchemeFromName(reply.scheme());
        if (!scheme.ok()) {
          spdlog::warn("consensus: {} answered Identify with scheme '{}'", core->committee[i], reply.scheme());
          continue;
        }
        if (Status p = core->keys->Pin(i, *scheme, AsBytes(reply.public_key())); !p.ok()) {
          spdlog::warn("consensus: {}", std::string(p.message()));
        } else {
          spdlog::info("consensus: learned key of replica {} ({}): peer id {}", i, core->committee[i],
                       crypto::PeerIdHexOf(*scheme, AsBytes(reply.public_key())));
        }
      }
    }
  }

  // Acting on what the ledger committed (docs/security.md "Committed
  // admission"): the last epoch.admission becomes the GrantVerifier's
  // committed set (guard, membership and placement admit only its grants),
  // and the last epoch.membership is the set the placement ring is built
  // from (Node::SetCommittedMembers). Each takes effect here as soon as this
  // member executed the record (PBFT commits are final: there is no pipelined
  // block whose validator set is already fixed, which is why CometBFT waits
  // until H+2). Applied once per version, on the background tick (300 ms).
  void ActOnCommittedEpochs(ConsensusCore& core) {
    const EpochState adm = core.ledger->Epoch(EpochKind::kAdmission);
    if (adm.version > acted_admission_) {
      const auto verifier = node_->admission().verifier;
      auto body = core.ledger->EpochBody(adm.root);
      auto set = body ? ParseAdmissionEpoch(*body) : StatusOr<AdmissionEpoch>(absl::NotFoundError("no body"));
      if (verifier && set.ok()) {
        admission::CommittedGrants c;
        c.version = adm.version;
        c.index = adm.index;
        for (const auto& [sha3, subject] : set->grants) c.grants.insert(sha3);
        c.revoked.insert(set->revoked.begin(), set->revoked.end());
        verifier->SetCommitted(std::move(c));
        spdlog::info("consensus: acting on epoch.admission version {} (ledger index {}): {} grant(s), {} revoked",
                     adm.version, adm.index, set->grants.size(), set->revoked.size());
      } else if (!set.ok()) {
        spdlog::error("consensus: committed epoch.admission version {}: {}", adm.version,
                      std::string(set.status().message()));
      }
      acted_admission_ = adm.version;
    }
    const EpochState mem = core.ledger->Epoch(EpochKind::kMembership);
    if (mem.version > acted_membership_) {
      auto body = core.ledger->EpochBody(mem.root);
      auto members = body ? ParseMembershipEpoch(*body)
                          : StatusOr<std::vector<EpochMember>>(absl::NotFoundError("no body"));
      if (members.ok()) {
        std::set<std::string> addresses;
        for (const auto& m : *members) addresses.insert(m.address);
        node_->SetCommittedMembers(std::move(addresses), mem.version);
      }
      acted_membership_ = mem.version;
    }
  }

  // {membership: {version, index, root, members: [{id, address}]},
  //  placement: {version, index, root, experts}, admission: {version, index,
  //  root, grants, revoked}}
  static nlohmann::json EpochsJson(const ConsensusCore& core) {
    nlohmann::json out = nlohmann::json::object();
    for (size_t k = 0; k < kEpochKinds; ++k) {
      const EpochKind kind = static_cast<EpochKind>(k);
      if (kind == EpochKind::kAdmission) {
        const EpochState e = core.ledger->Epoch(kind);
        nlohmann::json j = {{"version", e.version}};
        if (e.version > 0) {
          j["index"] = e.index;
          j["root"] = ToHex(e.root);
          if (auto body = core.ledger->EpochBody(e.root)) {
            if (auto a = ParseAdmissionEpoch(*body); a.ok()) {
              j["grants"] = a->grants.size();
              j["revoked"] = a->revoked.size();
            }
          }
        }
        out["admission"] = j;
        continue;
      }
      const EpochState e = core.ledger->Epoch(kind);
      nlohmann::json j = {{"version", e.version}};
      if (e.version > 0) {
        j["index"] = e.index;
        j["root"] = ToHex(e.root);
        if (auto body = core.ledger->EpochBody(e.root)) {
          if (kind == EpochKind::kMembership) {
            nlohmann::json members = nlohmann::json::array();
            if (auto m = ParseMembershipEpoch(*body); m.ok()) {
              for (const auto& x : *m) members.push_back({{"id", x.id}, {"address", x.address}});
            }
            j["members"] = members;
          } else if (auto t = ParsePlacementEpoch(*body); t.ok()) {
            j["experts"] = t->size();
          }
        }
      }
      out[kind == EpochKind::kMembership ? "membership" : "placement"] = j;
    }
    return out;
  }

  // The canonical bodies of this peer's current view: members alive or
  // suspect (SWIM: a suspect is still a member until declared dead; the
  // placement ring counts them too), and the ring's expert owners.
  // nullopt when membership is off / no expert is placed.
  static std::pair<std::optional<Bytes>, std::optional<Bytes>> ViewBodies(const PlacementView& v) {
    std::pair<std::optional<Bytes>, std::optional<Bytes>> out;
    std::vector<EpochMember> members;
    for (const auto& m : v.members) {
      if (m.state != "alive" && m.state != "suspect") continue;
      // The id is for display: characters the encoding forbids become '_'.
      std::string id = m.id.empty() ? m.address : m.id.substr(0, kEpochFieldBytesMax);
      for (char& ch : id) {
        if (ch <= ' ' || ch > '~' || ch == ',') ch = '_';
      }
      members.push_back({m.address, id});
    }
    if (!members.empty()) {
      if (auto b = EncodeMembershipEpoch(members); b.ok()) out.first = std::move(*b);
      else spdlog::warn("consensus: cannot encode the membership view: {}", std::string(b.status().message()));
    }
    if (!v.owners.empty()) {
      if (auto b = EncodePlacementEpoch(v.owners); b.ok()) out.second = std::move(*b);
      else spdlog::warn("consensus: cannot encode the placement table: {}", std::string(b.status().message()));
    }
    return out;
  }

  // Background thread: feeds the proposers (consensus_epoch_proposer.h) and
  // submits what they propose through this member's own replica.
  void EpochStep(ConsensusCore& core, Nanos now) {
    if (!proposers_[0]) {
      EpochProposerOptions o;
      o.settle = Millis(config_.GetInt("consensus.epoch_settle_ms"));
      o.retry = std::max<Nanos>(Millis(500), o.settle / 2);
      for (size_t k = 0; k < kEpochKinds; ++k) {
        if (ProposedFromView(static_cast<EpochKind>(k))) {
          proposers_[k] = std::make_unique<EpochProposer>(static_cast<EpochKind>(k), o);
        }
      }
    }
    auto bodies = ViewBodies(node_->Placement());
    for (size_t k = 0; k < kEpochKinds; ++k) {
      const EpochKind kind = static_cast<EpochKind>(k);
      if (!ProposedFromView(kind)) continue;  // epoch.admission: the issuer's
      std::optional<EpochProposal> p;
      {
        std::lock_guard<std::mutex> lock(epoch_mu_);
        p = proposers_[k]->OnTick(now, k == 0 ? bodies.first : bodies.second, core.ledger->Epoch(kind));
      }
      if (p) SubmitEpoch(core, std::move(*p));
    }
  }

  void SubmitEpoch(ConsensusCore& core, EpochProposal p) {
    const size_t k = static_cast<size_t>(p.kind);
    const store::LedgerHead head = core.ledger->Head();
    auto rec = SignLedgerRecord(node_->identity(), EpochKindName(p.kind), p.version, p.root, head.size, head.hash);
    if (!rec.ok()) {
      spdlog::error("consensus: cannot sign {} record: {}", EpochKindName(p.kind), std::string(rec.status().message()));
      std::lock_guard<std::mutex> lock(epoch_mu_);
      proposers_[k]->OnProposalDone();
      return;
    }
    ++epoch_proposals_;
    spdlog::info("consensus: proposing {} version {} (root {}..) at ledger index {}", EpochKindName(p.kind),
                 p.version, ToHex(p.root).substr(0, 16), head.size);
    const Bytes record = store::EncodeLedgerRecord(*rec);
    consensus::Request req{LedgerStateMachine::ClientOf(*rec), NextClientSeq(), EncodeLedgerRequest(record, p.body)};
    LedgerStateMachine* ledger = core.ledger;
    const uint64_t client = req.client, seq = req.client_seq;
    core.driver->Submit(std::move(req), Millis(config_.GetInt("consensus.submit_timeout_ms")),
                        [this, k, ledger, client, seq,
                         kind = std::string(EpochKindName(p.kind)), version = p.version](StatusOr<ExecutedRequest> r) {
                          if (!r.ok()) {
                            spdlog::warn("consensus: {} version {} not executed: {}", kind, version,
                                         std::string(r.status().message()));
                          } else if (auto res = ledger->Result(client, seq); res && !res->applied) {
                            spdlog::info("consensus: {} version {} refused: {}", kind, version, res->error);
                          } else {
                            spdlog::info("consensus: {} version {} committed at seq {}", kind, version, r->seq);
                          }
                          std::lock_guard<std::mutex> lock(epoch_mu_);
                          proposers_[k]->OnProposalDone();
                        });
  }

  void RegisterMetrics() {
    auto& reg = node_->metrics().registry();
    auto& rejected = node_->metrics().rejected_calls;
    service_.set_on_refused([&rejected](const std::string& reason) {
      rejected.Add({{"service", "pbft"}, {"reason", reason}}).Increment();
    });
    rounds_ = &prometheus::BuildCounter()
                   .Name("swarm_consensus_rounds_total")
                   .Help("PBFT batches committed and executed by this replica")
                   .Register(reg)
                   .Add({});
    auto& view_changes = prometheus::BuildCounter()
                             .Name("swarm_consensus_view_changes_total")
                             .Help("New views this replica installed (completed view changes)")
                             .Register(reg)
                             .Add({});
    latency_ = &prometheus::BuildHistogram()
                    .Name("swarm_consensus_commit_latency_seconds")
                    .Help("Batch pre-prepare seen by this replica (received, or sent as primary) to its execution here")
                    .Register(reg)
                    .Add({}, kLatencyBuckets);
    auto& log_size = prometheus::BuildGauge()
                         .Name("swarm_consensus_log_size")
                         .Help("Sequence numbers held in this replica's log")
                         .Register(reg)
                         .Add({});
    auto& dropped = prometheus::BuildCounter()
                        .Name("swarm_consensus_dropped_messages_total")
                        .Help("PBFT messages dropped by this replica, by reason")
                        .Register(reg);
    auto& epoch = prometheus::BuildGauge()
                      .Name("swarm_consensus_epoch")
                      .Help("Version of the last committed epoch record, by kind (membership, placement)")
                      .Register(reg);
    node_->metrics().AddScrapeHook([this, &view_changes, &log_size, &dropped, &epoch] {
      std::shared_ptr<ConsensusCore> core;
      {
        std::lock_guard<std::mutex> lock(mu_);
        core = core_;
      }
      if (!core || !core->driver) return;
      const ConsensusStatus st = core->driver->status();
      auto bump = [](prometheus::Counter& c, double v) {
        if (v > c.Value()) c.Increment(v - c.Value());
      };
      bump(view_changes, static_cast<double>(st.counters.new_views_installed));
      log_size.Set(static_cast<double>(st.log_size));
      for (size_t i = 0; i < st.counters.dropped.size(); ++i) {
        const char* reason = consensus::DropReasonName(static_cast<consensus::DropReason>(i));
        bump(dropped.Add({{"reason", reason}}), static_cast<double>(st.counters.dropped[i]));
      }
      bump(dropped.Add({{"reason", "malformed_batch"}}), static_cast<double>(st.malformed_batches));
      bump(dropped.Add({{"reason", "unknown_key"}}), static_cast<double>(st.unknown_key_drops));
      for (size_t k = 0; k < kEpochKinds; ++k) {
        const EpochKind kind = static_cast<EpochKind>(k);
        epoch.Add({{"kind", std::string(EpochKindName(kind)).substr(6)}})
            .Set(static_cast<double>(core->ledger->Epoch(kind).version));
      }
    });
  }

  const Config config_;
  const consensus::ReplicaConfig replica_config_;
  PbftServiceImpl service_;
  Node* node_ = nullptr;
  std::string self_address_;
  std::string state_dir_;
  prometheus::Counter* rounds_ = nullptr;
  prometheus::Histogram* latency_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::shared_ptr<ConsensusCore> core_;
  std::mutex epoch_mu_;  // proposers_ (background thread and driver callbacks)
  std::array<std::unique_ptr<EpochProposer>, kEpochKinds> proposers_;
  std::atomic<uint64_t> epoch_proposals_{0};
  uint64_t acted_admission_ = 0;   // background thread only
  uint64_t acted_membership_ = 0;
  std::thread thread_;
};

}  // namespace

ExtensionFactory ConsensusExtensionFactory() {
  ExtensionFactory f;
  f.section = kSection;
  f.add_config_keys = AddKeys;
  f.make = [](const Config& c, const NodeConfig&) -> StatusOr<std::unique_ptr<Extension>> {
    if (!c.GetBool("consensus.enabled")) return std::unique_ptr<Extension>();
    consensus::ReplicaConfig rc;
    SWARM_RETURN_IF_ERROR(BuildReplicaConfig(c, rc));
    consensus::ReplicaConfig check = rc;  // n and self are checked when the committee is known
    check.n = 4;
    check.self = consensus::ReplicaId(0);
    SWARM_RETURN_IF_ERROR(check.Validate());
    const auto& committee = c.GetStringList("consensus.committee");
    const size_t n = committee.size();
    if (n != 0 && (n < 4 || (n - 1) % 3 != 0)) {
      return absl::InvalidArgumentError(absl::StrCat("consensus.committee: ", n,
                                                     " addresses; n must be 3f+1 (4, 7, 10, ...) or empty"));
    }
    for (size_t i = 0; i < n; ++i) {
      if (auto a = net::ParseAddress(committee[i]); !a.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("consensus.committee[", i, "] = '", committee[i],
                                                       "': ", a.status().message()));
      }
    }
    const int64_t size = c.GetInt("consensus.committee_size");
    if ((size - 1) % 3 != 0) {
      return absl::InvalidArgumentError(absl::StrCat("consensus.committee_size = ", size, ": must be 3f+1"));
    }
    return std::unique_ptr<Extension>(new ConsensusExtension(c, rc));
  };
  return f;
}

}  // namespace swarm::node
