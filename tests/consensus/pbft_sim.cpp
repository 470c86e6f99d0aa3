#include "consensus/pbft_sim.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "common/rng.h"
#include "consensus/canonical.h"
#include "consensus/codec.h"
#include "sim/simulator.h"

namespace swarm::consensus::sim {

const char* BehaviorName(Behavior b) {
  switch (b) {
    case Behavior::kSilent: return "silent";
    case Behavior::kEquivocate: return "equivocate";
    case Behavior::kDelay: return "delay";
    case Behavior::kReplay: return "replay";
    case Behavior::kForge: return "forge";
    case Behavior::kConflictingViewChange: return "conflicting_view_change";
    case Behavior::kMixed: return "mixed";
  }
  return "?";
}

ReplicaConfig SimReplicaConfig() {
  ReplicaConfig c;
  c.checkpoint_interval = 2;
  c.log_window = 6;
  c.batch_requests_max = 3;
  c.batch_delay = Millis(2);
  c.request_timeout = Millis(300);
  c.view_change_timeout = Millis(300);
  c.backoff_exponent_max = 3;
  c.resend_interval = Millis(60);
  c.status_interval = Millis(100);
  c.fetch_entries_max = 4;
  c.checkpoint_lookahead = 4;
  return c;
}

namespace {

// Deterministic application: a hash chain over applied requests.
class SimStateMachine final : public StateMachine {
 public:
  void Apply(SeqNumber seq, const Request& r) override {
    uint64_t x = hash_ ^ (r.client * 0x9e3779b97f4a7c15ULL) ^ (r.client_seq * 0xbf58476d1ce4e5b9ULL);
    for (uint8_t b : r.payload) x = (x ^ b) * 0x100000001b3ULL;
    hash_ = x * 0x94d049bb133111ebULL + seq;
    ++count_;
    if (r.client >= 1 && r.client <= kClients) ++client_count_;
  }
  Bytes Snapshot() override {
    Bytes b(24);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(hash_ >> (8 * i));
    for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(count_ >> (8 * i));
    for (int i = 0; i < 8; ++i) b[16 + i] = static_cast<uint8_t>(client_count_ >> (8 * i));
    return b;
  }
  Status Restore(ByteSpan s) override {
    if (s.size() != 24) return absl::InvalidArgumentError("sim state: want 24 bytes");
    hash_ = count_ = client_count_ = 0;
    for (int i = 0; i < 8; ++i) hash_ |= static_cast<uint64_t>(s[i]) << (8 * i);
    for (int i = 0; i < 8; ++i) count_ |= static_cast<uint64_t>(s[8 + i]) << (8 * i);
    for (int i = 0; i < 8; ++i) client_count_ |= static_cast<uint64_t>(s[16 + i]) << (8 * i);
    return absl::OkStatus();
  }
  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }
  // Requests of the simulated clients (ids 1..kClients) applied, duplicates skipped by the replica excluded.
  uint64_t client_count() const { return client_count_; }

  static constexpr uint64_t kClients = 3;

 private:
  uint64_t hash_ = 0, count_ = 0, client_count_ = 0;
};

// Messages travel through sim::Simulator as shared immutable values, so a
// broadcast or a duplicate costs one pointer copy.
using MsgPtr = std::shared_ptr<const Message>;
using Net = ::swarm::sim::Simulator<MsgPtr>;
constexpr uint32_t kTickTimer = 1;

struct Node {
  std::unique_ptr<KeyedHashAuthenticator> auth;
  std::unique_ptr<SimStateMachine> sm;
  std::unique_ptr<Replica> replica;
  bool byzantine = false;
  Behavior behavior = Behavior::kSilent;
  bool alive = true;
  bool may_crash = false;
  DurableState saved;  // what the driver persisted (only when Ready.must_persist said so)
  ReplicaCounters counters_before_crash;
  std::vector<Message> seen;  // Byzantine replay/forge material
  std::map<ViewNumber, std::map<uint32_t, Signed<ViewChange>>> vcs;
};

struct ClientRequest {
  Request request;
  bool committed = false;
};

class Sim final : public Net::Handler {
 public:
  explicit Sim(const SimOptions& o) : o_(o), net_(o.seed, o.n, this), rng_(net_.rng()) {}

  SimResult Run() {
    Setup();
    while (result_.failure.empty() && net_.Step()) {
      ++result_.events;
      if (net_.now() >= next_check_) {
        next_check_ = net_.now() + Millis(50);
        if (net_.now() > o_.gst && Done()) break;
        if (net_.now() > o_.gst + o_.horizon) {
          Fail("liveness: not done " + std::to_string(ToSeconds(o_.horizon)) + " s after GST; " + Describe());
        }
      }
    }
    if (result_.failure.empty() && !Done()) Fail("event queue empty before completion; " + Describe());
    if (result_.failure.empty()) FinalChecks();
    result_.ok = result_.failure.empty();
    result_.finished_at = net_.now();
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].byzantine || !nodes_[i].replica) continue;
      const auto& c = nodes_[i].replica->counters();
      Accumulate(result_.honest_counters, c);
      Accumulate(result_.honest_counters, nodes_[i].counters_before_crash);
    }
    if (result_.ok && (result_.honest_counters.state_divergences || result_.honest_counters.state_install_failures)) {
      result_.ok = false;
      result_.failure = "honest replica saw a state divergence or could not install certified state";
    }
    result_.view_changes = result_.honest_counters.view_changes_started;
    result_.state_transfers = result_.honest_counters.state_transfers;
    result_.dropped = result_.honest_counters.dropped_total();
    return result_;
  }

 private:
  static void Accumulate(ReplicaCounters& a, const ReplicaCounters& b) {
    for (size_t k = 0; k < a.dropped.size(); ++k) a.dropped[k] += b.dropped[k];
    a.messages_received += b.messages_received;
    a.batches_committed += b.batches_committed;
    a.requests_executed += b.requests_executed;
    a.view_changes_started += b.view_changes_started;
    a.new_views_installed += b.new_views_installed;
    a.checkpoints_stable += b.checkpoints_stable;
    a.state_transfers += b.state_transfers;
    a.entries_fetched += b.entries_fetched;
    a.state_divergences += b.state_divergences;
    a.state_install_failures += b.state_install_failures;
  }

  void Fail(const std::string& why) {
    if (result_.failure.empty()) {
      result_.failure = "t=" + std::to_string(ToSeconds(net_.now())) + "s: " + why;
    }
  }

  ReplicaConfig ConfigFor(uint32_t i) const {
    ReplicaConfig c = o_.replica;
    c.n = o_.n;
    c.self = ReplicaId(i);
    return c;
  }

  void StartReplica(uint32_t i, std::optional<DurableState> saved) {
    Node& nd = nodes_[i];
    nd.sm = std::make_unique<SimStateMachine>();
    auto r = Replica::Create(ConfigFor(i), nd.auth.get(), nd.sm.get(), std::move(saved));
    if (!r.ok()) {
      Fail("replica " + std::to_string(i) + " failed to start: " + std::string(r.status().message()));
      nd.alive = false;
      return;
    }
    nd.replica = std::move(r).value();
    nd.alive = true;
    net_.SetTimer(i, net_.now() + static_cast<Nanos>(rng_.Uniform(o_.tick)) + 1, kTickTimer);
    Drain(i);
  }

  void Setup() {
    // Before GST: the scenario's loss and duplication on every link; after: none.
    ::swarm::sim::LinkModel link;
    link.latency_base = o_.delay_min;
    link.latency_jitter_mean = 0;
    link.latency_jitter_max = o_.delay_max - o_.delay_min;
    link.loss = o_.loss;
    link.duplicate = o_.duplicate;
    if (Status st = link.Validate(); !st.ok()) return Fail(std::string(st.message()));
    net_.links().SetDefault(link);
    link.loss = link.duplicate = 0;
    net_.At(o_.gst, [this, link] { net_.links().SetDefault(link); });
    const auto keys = KeyedHashAuthenticator::DeriveKeys(o_.n, o_.seed);
    nodes_.resize(o_.n);
    for (uint32_t i = 0; i < o_.n; ++i) {
      nodes_[i].auth = std::make_unique<KeyedHashAuthenticator>(ReplicaId(i), keys);
      if (i >= o_.byzantine_offset && i - o_.byzantine_offset < o_.byzantine.size()) {
        nodes_[i].byzantine = true;
        nodes_[i].behavior = o_.byzantine[i - o_.byzantine_offset];
      } else {
        honest_.push_back(i);
      }
      StartReplica(i, std::nullopt);
    }
    // Client requests: three clients, consecutive sequence numbers each.
    std::vector<Nanos> times;
    for (int k = 0; k < o_.requests; ++k) times.push_back(static_cast<Nanos>(rng_.Uniform(o_.gst + Millis(500))));
    std::sort(times.begin(), times.end());
    std::map<uint64_t, uint64_t> next_seq;
    for (int k = 0; k < o_.requests; ++k) {
      const uint64_t client = 1 + rng_.Uniform(SimStateMachine::kClients);
      Request r{client, ++next_seq[client], Bytes(1 + rng_.Uniform(24))};
      for (auto& b : r.payload) b = static_cast<uint8_t>(rng_.Next());
      submitted_.emplace(std::make_pair(r.client, r.client_seq), r.payload);
      clients_.push_back(ClientRequest{std::move(r), false});
      net_.At(times[k], [this, k] { Submit(static_cast<uint32_t>(k)); });
    }
    // Crashes of distinct honest replicas, restarted before GST.
    std::vector<uint32_t> order = honest_;
    rng_.Shuffle(order);
    for (int c = 0; c < o_.crashes && c < static_cast<int>(order.size()); ++c) {
      const Nanos at = static_cast<Nanos>(o_.gst * rng_.UniformDouble(0.1, 0.6));
      const Nanos back = at + static_cast<Nanos>(o_.gst * rng_.UniformDouble(0.05, 0.3));
      nodes_[order[c]].may_crash = true;
      nodes_[order[c]].saved = nodes_[order[c]].replica->durable_state();
      net_.Crash(order[c], at);
      net_.Restart(order[c], back);
    }
    if (o_.partitions) {
      // Random two-way splits one after another, the last healed at GST.
      Nanos t = static_cast<Nanos>(rng_.Uniform(o_.gst / 3));
      for (int k = 0; t < o_.gst; ++k) {
        const Nanos end = std::min(o_.gst, t + static_cast<Nanos>(rng_.Uniform(o_.gst / 2)) + Millis(50));
        std::vector<::swarm::sim::NodeId> side;
        for (uint32_t i = 0; i < o_.n; ++i) {
          if (rng_.Uniform(2)) side.push_back(i);
        }
        if (Status st = net_.partitions().Add("split" + std::to_string(k), side, t, end); !st.ok()) {
          return Fail(std::string(st.message()));
        }
        t = end + static_cast<Nanos>(rng_.Uniform(o_.gst / 3)) + Millis(10);
      }
    }
  }

  // ---- sim::Simulator<MsgPtr>::Handler ----
  void OnDeliver(::swarm::sim::NodeId to, ::swarm::sim::NodeId from, MsgPtr&& msg) override {
    Deliver(to, from, std::move(msg));
  }
  void OnTimer(::swarm::sim::NodeId i, uint32_t tag) override {
    Node& nd = nodes_[i];
    if (!nd.alive) return;
    nd.replica->OnTick(net_.now());
    Drain(i);
    if (nd.byzantine) ByzantineTick(i);
    net_.SetTimer(i, net_.now() + o_.tick, kTickTimer);
  }
  void OnCrash(::swarm::sim::NodeId i) override {
    Node& nd = nodes_[i];
    if (!nd.replica) return;
    ReplicaCounters c = nd.replica->counters();
    Accumulate(nd.counters_before_crash, c);
    nd.replica.reset();
    nd.sm.reset();
    nd.alive = false;
  }
  void OnRestart(::swarm::sim::NodeId i) override {
    // Through the storage encoding, as a real driver would read it back.
    auto bytes = EncodeDurableState(nodes_[i].saved);
    auto state = bytes.ok() ? DecodeDurableState(*bytes) : StatusOr<DurableState>(bytes.status());
    if (!state.ok()) return Fail("durable state codec: " + std::string(state.status().message()));
    StartReplica(i, std::move(state).value());
  }

  void Submit(uint32_t k) {
    ClientRequest& c = clients_[k];
    if (c.committed) return;
    std::vector<uint32_t> alive;
    for (uint32_t i : honest_) {
      if (nodes_[i].alive) alive.push_back(i);
    }
    if (!alive.empty()) {
      const uint32_t at = alive[rng_.Uniform(alive.size())];
      const Status s = nodes_[at].replica->Propose(c.request);
      if (!s.ok()) Fail("Propose failed: " + std::string(s.message()));
      Drain(at);
    }
    // The client retries until the request is committed.
    net_.At(net_.now() + Millis(700), [this, k] { Submit(k); });
  }

  void Deliver(uint32_t to, uint32_t from, MsgPtr held) {
    Node& nd = nodes_[to];
    if (!nd.alive) return;
    const Message* mp = held.get();
    Message decoded;
    if (o_.codec) {
      const Message& m = *mp;
      auto wire = EncodeMessage(m);
      if (!wire.ok()) return Fail("codec encode: " + std::string(wire.status().message()));
      auto back = DecodeMessage(*wire);
      if (!back.ok()) return Fail("codec decode of own encoding: " + std::string(back.status().message()));
      if (!(*back == m)) return Fail("codec round trip changed a " + std::string(MessageKind(m)));
      decoded = std::move(*back);
      mp = &decoded;
    }
    const Message& m = *mp;
    if (nd.byzantine && nd.seen.size() < 512) nd.seen.push_back(m);
    if (nd.byzantine) {
      if (const auto* vc = std::get_if<Signed<ViewChange>>(&m)) nd.vcs[vc->body.new_view][vc->signer.value()] = *vc;
    }
    nd.replica->OnMessage(ReplicaId(from), m);
    Drain(to);
  }

  void Drain(uint32_t i) {
    Node& nd = nodes_[i];
    if (!nd.replica) return;
    Ready r = nd.replica->TakeOutbox();
    // Persist before sending, as Ready's contract says; a crash loses the rest.
    if (r.must_persist && nd.may_crash) nd.saved = nd.replica->durable_state();
    if (!nd.byzantine) {
      for (const auto& e : r.committed) {
        auto [it, fresh] = committed_.try_emplace(e.seq, e.digest);
        if (!fresh && it->second != e.digest) {
          Fail("SAFETY: honest replica " + std::to_string(i) + " committed a different batch at seq " +
               std::to_string(e.seq));
          return;
        }
        result_.max_committed = std::max(result_.max_committed, e.seq);
        for (size_t k = 0; k < e.requests.size(); ++k) {
          const Request& req = e.requests[k];
          committed_requests_.insert({req.client, req.client_seq});
          if (k < e.applied.size() && !e.applied[k]) continue;
          // Validity: an applied request is one a client submitted, byte for
          // byte; only a Byzantine primary may add requests of its own (under
          // client ids that are not the simulated clients').
          auto it = submitted_.find({req.client, req.client_seq});
          const bool client_id = req.client >= 1 && req.client <= SimStateMachine::kClients;
          if ((it == submitted_.end() && (client_id || o_.byzantine.empty())) ||
              (it != submitted_.end() && it->second != req.payload)) {
            Fail("VALIDITY: honest replica " + std::to_string(i) + " applied a request no client submitted (client " +
                 std::to_string(req.client) + " seq " + std::to_string(req.client_seq) + ") at seq " +
                 std::to_string(e.seq));
            return;
          }
        }
      }
    }
    for (auto& out : r.messages) SendFrom(i, std::move(out));
  }

  // ---- network: everything goes through sim::Simulator (partitions, loss,
  // duplication, bounded delay; `hold` is a Byzantine sender's extra delay) ----
  void Transmit(uint32_t from, uint32_t to, const Message& m, Nanos hold = 0) {
    Transmit(from, to, std::make_shared<const Message>(m), hold);
  }
  void Transmit(uint32_t from, uint32_t to, MsgPtr m, Nanos hold = 0) {
    if (to == from || to >= o_.n) return;
    net_.Send(from, to, std::move(m), hold);
  }

  std::vector<uint32_t> Destinations(uint32_t from, const Outgoing& out) const {
    std::vector<uint32_t> d;
    if (out.to) {
      d.push_back(out.to->value());
    } else {
      for (uint32_t j = 0; j < o_.n; ++j) {
        if (j != from) d.push_back(j);
      }
    }
    return d;
  }

  void SendFrom(uint32_t from, Outgoing out) {
    Node& nd = nodes_[from];
    const auto dests = Destinations(from, out);
    if (!nd.byzantine) {
      auto shared = std::make_shared<const Message>(std::move(out.message));
      for (uint32_t to : dests) Transmit(from, to, shared);
      return;
    }
    if (nd.seen.size() < 512) nd.seen.push_back(out.message);
    if (const auto* vc = std::get_if<Signed<ViewChange>>(&out.message)) nd.vcs[vc->body.new_view][from] = *vc;
    Behavior b = nd.behavior;
    if (b == Behavior::kMixed) b = static_cast<Behavior>(rng_.Uniform(6));
    switch (b) {
      case Behavior::kSilent:
        return;
      case Behavior::kDelay:
        for (uint32_t to : dests) Transmit(from, to, out.message, Millis(100) + static_cast<Nanos>(rng_.Uniform(Millis(1400))));
        return;
      case Behavior::kEquivocate:
        for (uint32_t to : dests) Transmit(from, to, rng_.Bernoulli(0.5) ? out.message : Conflicting(from, out.message));
        return;
      case Behavior::kReplay:
        for (uint32_t to : dests) Transmit(from, to, out.message);
        for (int k = 0; k < 2; ++k) {
          if (!nd.seen.empty()) Transmit(from, static_cast<uint32_t>(rng_.Uniform(o_.n)), nd.seen[rng_.Uniform(nd.seen.size())]);
        }
        return;
      case Behavior::kForge:
        for (uint32_t to : dests) Transmit(from, to, out.message);
        if (rng_.Bernoulli(0.3)) Transmit(from, static_cast<uint32_t>(rng_.Uniform(o_.n)), Forged(from));
        return;
      case Behavior::kConflictingViewChange:
        if (std::holds_alternative<Signed<NewView>>(out.message)) {
          DualNewViews(from, std::get<Signed<NewView>>(out.message));
          return;
        }
        for (uint32_t to : dests) {
          if (std::holds_alternative<Signed<ViewChange>>(out.message) && rng_.Bernoulli(0.5)) {
            Transmit(from, to, OtherViewChange(from, std::get<Signed<ViewChange>>(out.message)));
          } else {
            Transmit(from, to, out.message);
          }
        }
        return;
      case Behavior::kMixed:
        return;
    }
  }

  template <typename T>
  Message SignAs(uint32_t from, T body) {
    Bytes sig = nodes_[from].auth->Sign(CanonicalBytes(body));
    return Signed<T>{ReplicaId(from), std::move(body), std::move(sig)};
  }

  Digest RandomDigest() {
    Digest d;
    for (auto& b : d) b = static_cast<uint8_t>(rng_.Next());
    return d;
  }

  // A validly signed message that conflicts with `m`.
  Message Conflicting(uint32_t from, const Message& m) {
    if (const auto* pp = std::get_if<Signed<PrePrepare>>(&m)) {
      PrePrepare x = pp->body;
      if (rng_.Bernoulli(0.25)) {
        x.seq += 1 + rng_.Uniform(2);  // same batch at another sequence number: gaps and duplicates
        return SignAs(from, std::move(x));
      }
      if (!x.batch.empty() && rng_.Bernoulli(0.5)) {
        x.batch.pop_back();
      } else {
        x.batch.push_back(Request{777, rng_.Next(), Bytes{0xba, 0xad}});
      }
      x.digest = BatchDigest(x.batch);
      return SignAs(from, std::move(x));
    }
    if (const auto* p = std::get_if<Signed<Prepare>>(&m)) return SignAs(from, Prepare{p->body.view, p->body.seq, RandomDigest()});
    if (const auto* c = std::get_if<Signed<Commit>>(&m)) return SignAs(from, Commit{c->body.view, c->body.seq, RandomDigest()});
    if (const auto* c = std::get_if<Signed<Checkpoint>>(&m)) return SignAs(from, Checkpoint{c->body.seq, RandomDigest()});
    if (const auto* s = std::get_if<Signed<StatusReport>>(&m)) {
      StatusReport x = s->body;
      x.last_executed += 1 + rng_.Uniform(50);  // lies about being ahead
      x.view = rng_.Uniform(x.view + 3);
      return SignAs(from, x);
    }
    return m;
  }

  Message OtherViewChange(uint32_t from, const Signed<ViewChange>& vc) {
    ViewChange x = vc.body;
    if (rng_.Bernoulli(0.5)) {
      x.prepared.clear();  // hides what it prepared
    } else {
      x.new_view += 1 + rng_.Uniform(3);
    }
    return SignAs(from, std::move(x));
  }

  // Fabrications and tamperings an attacker without others' keys can make.
  Message Forged(uint32_t from) {
    Node& nd = nodes_[from];
    const uint32_t other = static_cast<uint32_t>((from + 1 + rng_.Uniform(o_.n - 1)) % o_.n);
    const ViewNumber v = nd.replica->view();
    const SeqNumber s = nd.replica->last_executed() + 1;
    switch (rng_.Uniform(7)) {
      case 0:
        if (!nd.seen.empty()) {  // someone else's message, re-attributed
          Message m = nd.seen[rng_.Uniform(nd.seen.size())];
          std::visit([&](auto& x) { x.signer = ReplicaId(other); }, m);
          return m;
        }
        [[fallthrough]];
      case 1:
        if (!nd.seen.empty()) {  // flipped signature bit
          Message m = nd.seen[rng_.Uniform(nd.seen.size())];
          std::visit([&](auto& x) { if (!x.signature.empty()) x.signature[rng_.Uniform(x.signature.size())] ^= 1; }, m);
          return m;
        }
        [[fallthrough]];
      case 2: {  // pre-prepare in the name of the primary
        PrePrepare pp{v, s, {}, {Request{666, rng_.Next(), Bytes{1, 2, 3}}}};
        pp.digest = BatchDigest(pp.batch);
        Message m = SignAs(from, pp);
        std::get<Signed<PrePrepare>>(m).signer = ReplicaId(static_cast<uint32_t>(v % o_.n));
        return m;
      }
      case 3: {  // checkpoint certificate with votes all signed by the forger
        CheckpointCert cert{((s / o_.replica.checkpoint_interval) + 1) * o_.replica.checkpoint_interval, RandomDigest(), {}};
        for (uint32_t j = 0; j < o_.n; ++j) {
          Message vote = SignAs(from, Checkpoint{cert.seq, cert.digest});
          auto sv = std::get<Signed<Checkpoint>>(vote);
          sv.signer = ReplicaId(j);
          cert.votes.push_back(sv);
        }
        FetchReply fr;
        fr.checkpoint = cert;
        fr.snapshot = Bytes{1, 2, 3};
        return SignAs(from, std::move(fr));
      }
      case 4: {  // commit certificate with forged commits
        PrePrepare pp{v, s, {}, {Request{555, rng_.Next(), Bytes{9}}}};
        pp.digest = BatchDigest(pp.batch);
        CommitCert cc;
        cc.pre_prepare = std::get<Signed<PrePrepare>>(SignAs(from, pp));
        cc.pre_prepare.signer = ReplicaId(static_cast<uint32_t>(v % o_.n));
        for (uint32_t j = 0; j < o_.n; ++j) {
          auto c = std::get<Signed<Commit>>(SignAs(from, Commit{v, s, pp.digest}));
          c.signer = ReplicaId(j);
          cc.commits.push_back(c);
        }
        FetchReply fr;
        fr.entries.push_back(cc);
        return SignAs(from, std::move(fr));
      }
      case 5: {  // view change with a fabricated prepared certificate
        PrePrepare pp{v, nd.replica->stable_checkpoint() + 1, {}, {Request{444, rng_.Next(), Bytes{7}}}};
        pp.digest = BatchDigest(pp.batch);
        PreparedCert pc;
        pc.pre_prepare = std::get<Signed<PrePrepare>>(SignAs(from, pp));
        pc.pre_prepare.signer = ReplicaId(static_cast<uint32_t>(v % o_.n));
        for (uint32_t j = 0; j < o_.n; ++j) {
          auto p = std::get<Signed<Prepare>>(SignAs(from, Prepare{v, pp.seq, pp.digest}));
          p.signer = ReplicaId(j);
          pc.prepares.push_back(p);
        }
        ViewChange vc{v + 1, nd.replica->durable_state().stable, {pc}};
        return SignAs(from, std::move(vc));
      }
      default: {  // new view without view changes, from a non-primary or not
        NewView nv{v + 1, {}, {}};
        return SignAs(from, std::move(nv));
      }
    }
  }

  // As primary of a new view: two different valid new-views (different
  // 2f+1 subsets of the view changes it holds) to different replicas.
  void DualNewViews(uint32_t from, const Signed<NewView>& real) {
    const ViewNumber v = real.body.view;
    std::vector<Signed<ViewChange>> all;
    for (const auto& [who, vc] : nodes_[from].vcs[v]) all.push_back(vc);
    const size_t q = 2 * ((o_.n - 1) / 3) + 1;
    std::vector<Signed<NewView>> versions{real};
    if (all.size() > q) {
      rng_.Shuffle(all);
      std::vector<Signed<ViewChange>> subset(all.begin(), all.begin() + static_cast<long>(q));
      NewView nv{v, subset, {}};
      for (auto& pp : Replica::ComputeNewViewPlan(v, subset).pre_prepares) {
        nv.pre_prepares.push_back(std::get<Signed<PrePrepare>>(SignAs(from, std::move(pp))));
      }
      versions.push_back(std::get<Signed<NewView>>(SignAs(from, std::move(nv))));
      ++result_.forked_new_views;
    }
    for (uint32_t to = 0; to < o_.n; ++to) {
      if (to != from) Transmit(from, to, versions[rng_.Uniform(versions.size())]);
    }
  }

  void ByzantineTick(uint32_t i) {
    Node& nd = nodes_[i];
    if (nd.behavior == Behavior::kSilent) return;
    if ((nd.behavior == Behavior::kConflictingViewChange || nd.behavior == Behavior::kMixed) && rng_.Bernoulli(0.03)) {
      // A view change for a random higher view, to a random subset.
      ViewChange vc{nd.replica->view() + 1 + rng_.Uniform(3), nd.replica->durable_state().stable, {}};
      const Message m = SignAs(i, std::move(vc));
      for (uint32_t to = 0; to < o_.n; ++to) {
        if (rng_.Bernoulli(0.5)) Transmit(i, to, m);
      }
    }
    if ((nd.behavior == Behavior::kReplay || nd.behavior == Behavior::kMixed) && !nd.seen.empty() && rng_.Bernoulli(0.1)) {
      Transmit(i, static_cast<uint32_t>(rng_.Uniform(o_.n)), nd.seen[rng_.Uniform(nd.seen.size())]);
    }
    if ((nd.behavior == Behavior::kForge || nd.behavior == Behavior::kMixed) && rng_.Bernoulli(0.05)) {
      Transmit(i, static_cast<uint32_t>(rng_.Uniform(o_.n)), Forged(i));
    }
  }

  // ---- checks ----
  bool Done() {
    for (const auto& c : clients_) {
      if (!c.committed && !committed_requests_.count({c.request.client, c.request.client_seq})) return false;
    }
    for (auto& c : clients_) c.committed = true;
    for (uint32_t i : honest_) {
      const Node& nd = nodes_[i];
      if (!nd.alive || nd.replica->last_executed() < result_.max_committed) return false;
    }
    return true;
  }

  void FinalChecks() {
    const Node& first = nodes_[honest_[0]];
    for (uint32_t i : honest_) {
      const Node& nd = nodes_[i];
      if (nd.replica->last_executed() != first.replica->last_executed()) {
        return Fail("honest replicas ended at different sequence numbers; " + Describe());
      }
      if (nd.sm->hash() != first.sm->hash() || nd.sm->count() != first.sm->count()) {
        return Fail("SAFETY: honest replicas " + std::to_string(honest_[0]) + " and " + std::to_string(i) +
                    " hold different application states at the same sequence number");
      }
    }
    if (first.sm->count() < clients_.size()) {
      return Fail("application applied " + std::to_string(first.sm->count()) + " requests, want at least " +
                  std::to_string(clients_.size()));
    }
    // Exactly once: every client request applied once, retries and re-proposals skipped.
    if (first.sm->client_count() != clients_.size()) {
      return Fail("application applied " + std::to_string(first.sm->client_count()) +
                  " requests of the clients, want exactly " + std::to_string(clients_.size()));
    }
  }

  std::string Describe() const {
    std::string s = "max committed " + std::to_string(result_.max_committed) + "; committed requests " +
                    std::to_string(committed_requests_.size()) + "/" + std::to_string(clients_.size()) + ";";
    for (uint32_t i = 0; i < o_.n; ++i) {
      const Node& nd = nodes_[i];
      s += " [r" + std::to_string(i) + (nd.byzantine ? std::string(" byz:") + BehaviorName(nd.behavior) : "");
      if (!nd.alive) {
        s += " down]";
        continue;
      }
      const Replica& r = *nd.replica;
      s += " v" + std::to_string(r.view()) + (r.in_view_change() ? "(vc)" : "") + " exec " +
           std::to_string(r.last_executed()) + " stable " + std::to_string(r.stable_checkpoint()) + " pending " +
           std::to_string(r.pending_requests()) + "]";
    }
    return s;
  }

  SimOptions o_;
  Net net_;
  Rng& rng_;  // the simulator's: one seed drives the network and the driver
  Nanos next_check_ = 0;
  std::vector<Node> nodes_;
  std::vector<uint32_t> honest_;
  std::vector<ClientRequest> clients_;
  std::map<std::pair<uint64_t, uint64_t>, Bytes> submitted_;  // (client, client_seq) -> payload
  std::map<SeqNumber, Digest> committed_;
  std::set<std::pair<uint64_t, uint64_t>> committed_requests_;
  SimResult result_;
};

}  // namespace

SimResult RunSimulation(const SimOptions& options) {
  Sim sim(options);
  return sim.Run();
}

}  // namespace swarm::consensus::sim
