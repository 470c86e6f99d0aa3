// membership::Swim — a sans-I/O SWIM failure detector and membership protocol
// with Lifeguard extensions, adaptive dissemination, and admission-gated,
// signed membership records (docs/membership.md "Trust rules").
//
// The caller (node/ over gRPC, or the simulator) drives it:
//   - OnMessage(from, msg, now) for every membership message received
//     (decoded by codec.h; `from` is authenticated by the transport);
//   - OnTick(now) whenever now >= NextDeadline() (calling it earlier or more
//     often is harmless);
//   - after either call, TakeOutbox() and send each (to, Message).
// Nothing inside reads a clock, opens a socket or starts a thread; keys and
// grants are behind the Authority (types.h) the caller supplies.
//
// Protocol (see docs/membership.md): every probe period T·(1+health) one member,
// chosen round-robin over a random permutation, gets a Ping; without an Ack
// within probe_timeout·(1+health), k helpers (biased to high link weight) are
// asked to PingReq it; without any Ack by the end of the period it is
// suspected. A suspicion names its incarnation; the suspected member refutes
// by gossiping itself alive with a higher incarnation. Unrefuted suspicions
// become dead after a timeout of suspicion_mult·log10(n)·T that starts
// suspicion_max_mult times longer and shrinks with independent confirmations.
// News is piggybacked on every message, each update ceil(λ·log10(n+1)) times,
// plus dedicated Gossip rounds to `fanout` weighted targets while news is
// pending. Push-pull syncs (join, periodic anti-entropy, reconnect to dead
// members) exchange full state.
//
// Trust rules (each refusal counted in counters().rejected[reason]):
//   - a member exists only through its own signed alive record carrying a
//     credential the Authority admits (`not_admitted`, `expired`, `forged`):
//     gossip about a member that never signed anything is never believed;
//   - alive/left records are signed by the member (`bad_origin` otherwise);
//     suspect/dead claims are signed by their accuser, who must be an admitted
//     member (`unadmitted`, `forged`);
//   - a claim never moves an incarnation: one above the member's latest signed
//     incarnation counts as a claim on that incarnation, and a refutation is
//     always own+1, so nobody can push another's incarnation; a member's own
//     signed record at a higher incarnation always wins over claims about it;
//   - a dead claim from another member is a suspicion (one confirmation): a
//     member becomes dead in this view only when this peer's own suspicion
//     timer expires, which the member can always refute in time;
//   - messages name their recipient (`wrong_recipient`); a sender that is not
//     an admitted member may only present its own record (`unadmitted`).
//
// Thread-safety: none; one thread owns a Swim. Errors: a message that breaks
// a rule is ignored and counted in counters().rejected[reason]; nothing a peer
// sends can make Swim abort.
#pragma once

#include <map>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/clock.h"
#include "common/rng.h"
#include "common/status.h"
#include "membership/broadcast_queue.h"
#include "membership/config.h"
#include "membership/types.h"

namespace swarm::membership {

struct Outgoing {
  MemberId to;
  Message msg;
};

struct MemberView {
  MemberId id;
  MemberState state;
  uint32_t incarnation;
  MetadataPtr meta;        // what the member signed about itself
  AdmissionPtr admission;  // what its grant says (null only for self when not admitted)
  double link_weight;  // this member's view of the link to `id`, in [weight_min, 1]
};

struct Counters {
  uint64_t sent[kMessageTypeCount] = {};
  uint64_t received[kMessageTypeCount] = {};
  uint64_t messages_sent = 0;     // swarm_gossip_messages_total
  uint64_t updates_sent = 0;      // piggybacked updates
  uint64_t probes = 0;
  uint64_t probe_failures = 0;    // probes ending without any ack
  uint64_t suspicions = 0;        // members this peer started to suspect
  uint64_t refutations = 0;       // times this peer refuted a suspicion about itself
  uint64_t deaths = 0;            // suspicions this peer turned into dead
  uint64_t rejected_total = 0;
  std::map<std::string, uint64_t> rejected;  // by reason
};

// Optional callback for state changes in this peer's view (metrics, tests,
// the ring). Called synchronously from OnMessage/OnTick.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void OnMemberChange(MemberId self, MemberId member, std::optional<MemberState> before,
                              MemberState after, uint32_t incarnation, Nanos now) = 0;
};

class Swim {
 public:
  // `cfg` must pass Validate() (asserted). `seed` drives every random choice.
  // `authority` (not owned, outlives the Swim) signs this peer's records and
  // verifies everyone else's; `credential` is this peer's grant, carried by
  // its alive record. SelfAdmission() says whether the authority admits it.
  Swim(MemberId self, Metadata meta, SharedBytes credential, const Config& cfg, uint64_t seed,
       Authority* authority);

  // Adds a member from its signed record (bootstrap from a known list or a
  // simulation); the record is verified like one received. Error names why.
  Status AddKnownMember(const Update& record);
  // This peer's current signed record (alive, or left after Leave).
  Update SelfRecord() const;
  const StatusOr<AdmissionPtr>& SelfAdmission() const { return self_admission_; }

  // Starts joining through `seeds` (sends Sync{join} now and every
  // join_retry_interval). InvalidArgument if `seeds` is empty or holds only
  // self. JoinStatus(): OK once a seed answered, Unavailable while trying,
  // DeadlineExceeded naming the seeds after join_timeout without an answer.
  Status Join(std::span<const MemberId> seeds, Nanos now);
  Status JoinStatus() const { return join_status_; }

  // Gossips that this peer leaves; it stops probing. LeaveDone() once the news
  // was sent its retransmit count or leave_timeout passed.
  void Leave(Nanos now);
  bool LeaveDone(Nanos now) const;

  // New metadata: bumps the incarnation and gossips it.
  void UpdateMetadata(Metadata meta);
  // A new credential for this peer (a renewed grant): the authority must admit
  // it (else the error, and nothing changes); then bumps the incarnation and
  // gossips the new alive record, so other members re-admit this peer with it.
  Status UpdateCredential(SharedBytes credential);

  void OnMessage(MemberId from, const Message& msg, Nanos now);
  void OnTick(Nanos now);
  Nanos NextDeadline() const;
  std::vector<Outgoing> TakeOutbox() { return std::exchange(outbox_, {}); }
  bool HasOutbox() const { return !outbox_.empty(); }

  // --- view ---
  MemberId self() const { return self_; }
  uint32_t incarnation() const { return incarnation_; }
  std::optional<MemberView> Get(MemberId id) const;
  std::vector<MemberView> Members() const;  // every known member, by id
  std::optional<MemberState> StateOf(MemberId id) const {
    if (id >= slots_.size() || !slots_[id].meta) return std::nullopt;
    return slots_[id].state;
  }
  size_t Count(MemberState s) const { return counts_[static_cast<int>(s)]; }
  size_t live_members() const { return Count(MemberState::kAlive) + Count(MemberState::kSuspect); }
  uint32_t health() const { return health_; }
  uint32_t fanout() const { return fanout_; }
  uint32_t RetransmitLimit() const;
  size_t pending_updates() const { return queue_.size(); }
  const Counters& counters() const { return counters_; }
  void SetObserver(Observer* o) { observer_ = o; }
  const Config& config() const { return cfg_; }

 private:
  struct Slot {  // one per known member, indexed by id
    MetadataPtr meta;  // null = unknown member
    AdmissionPtr adm;
    SharedBytes credential;
    SharedBytes record_sig;  // member's signature of its record at `incarnation`
    SharedBytes claim_sig;   // accuser's signature of the claim (suspect/dead)
    uint32_t incarnation = 0;  // of the member's latest signed record
    uint32_t claim_inc = 0;    // incarnation named by the claim (may be above)
    MemberId claim_origin = 0;
    MemberState state = MemberState::kAlive;
    bool record_left = false;  // the latest signed record is `left`
    bool claim_dead = false;   // the stored claim said dead
    bool heard = false;        // it sent us a message we accepted (so it admits us)
    uint16_t weight_q = 0;  // link weight · 65535
  };
  struct Probe {
    bool active = false;
    bool indirect_sent = false;
    MemberId target = 0;
    uint32_t seq = 0;
    Nanos indirect_at = 0;
    Nanos end = 0;
    std::vector<MemberId> helpers;
    std::vector<MemberId> nacked;  // helpers that sent a nack
  };
  struct Relay {
    uint32_t seq;       // our ping to the target
    uint32_t orig_seq;  // requester's probe
    MemberId requester;
    MemberId target;
    Nanos deadline;
  };
  struct Suspicion {
    uint32_t incarnation;
    Nanos start;
    Nanos min_timeout;
    Nanos max_timeout;
    uint32_t needed;  // K
    std::vector<MemberId> confirmers;
    Nanos deadline;  // cached: recomputed when a confirmation arrives
    Nanos ComputeDeadline() const;
  };
  struct Bucket {
    double tokens;
    Nanos last;
  };

  // swim.cpp
  void EnsureStarted(Nanos now);
  Nanos PushPullInterval() const;
  void Send(MemberId to, Message msg, bool piggyback = true);
  void Reject(const char* reason);
  bool Admit(MemberId from, Nanos now);
  void StartProbe(Nanos now);
  void SendIndirect(Nanos now);
  void FinishProbe(bool acked, Nanos now);
  void HandleAck(MemberId from, const Message& msg, Nanos now);
  void GossipRound(Nanos now);
  void SendState(MemberId to, MessageType type, bool join);
  std::optional<MemberId> NextProbeTarget();
  std::optional<MemberId> RandomMember(bool dead, std::span<const MemberId> exclude);
  std::optional<MemberId> WeightedPick(std::span<const MemberId> exclude);
  double Weight(MemberId id) const { return slots_[id].weight_q / 65535.0; }
  void SetWeight(MemberId id, double w);
  void RaiseWeight(MemberId id);
  void DecayWeight(MemberId id);
  void AdjustHealth(int delta);
  void NoteNewUpdate();
  // swim_state.cpp
  void ApplyUpdate(const Update& u, Nanos now);
  void ApplyRecord(const Update& u, Nanos now);
  void ApplyClaim(const Update& u, Nanos now);
  void ApplyOwnRecord(const Update& u, Nanos now);
  void AddMember(const Update& u, AdmissionPtr adm, Nanos now);
  void Refute(Nanos now);
  Update SignedSelf(MemberState state);
  void RaiseClaim(MemberId m, MemberState state, Nanos now);
  void TellAccused(const Update& claim);
  bool IsAdmittedMember(MemberId id) const {
    return id < slots_.size() && slots_[id].meta && slots_[id].adm;
  }
  void RejectStatus(const Status& st);
  void StartSuspicion(MemberId m, uint32_t inc, MemberId origin, Nanos now);
  bool Confirm(MemberId m, MemberId origin);
  void SetState(MemberId m, MemberState s, uint32_t inc, Nanos now);
  void ExpireSuspicions(Nanos now);
  Slot& SlotFor(MemberId id);

  MemberId self_;
  Config cfg_;
  Authority* authority_;
  StatusOr<AdmissionPtr> self_admission_;
  Rng rng_;
  Observer* observer_ = nullptr;
  std::vector<Slot> slots_;
  size_t counts_[4] = {};
  uint32_t incarnation_ = 0;
  uint32_t health_ = 0;
  uint32_t next_seq_ = 1;

  Probe probe_;
  Nanos next_probe_at_ = 0;
  uint64_t perm_a_ = 1, perm_b_ = 0, perm_m_ = 0, perm_i_ = 0;
  std::vector<Relay> relays_;
  absl::flat_hash_map<MemberId, Suspicion> suspicions_;
  // Earliest suspicion deadline first; entries whose suspicion was removed or
  // re-timed are stale and skipped lazily.
  using DeadlineEntry = std::pair<Nanos, MemberId>;
  mutable std::priority_queue<DeadlineEntry, std::vector<DeadlineEntry>, std::greater<>> suspicion_heap_;
  Nanos SuspicionMin() const;

  BroadcastQueue queue_;
  Nanos next_gossip_at_ = 0;
  uint32_t fanout_;
  double new_updates_ = 0;     // new updates since the last rate sample
  double update_rate_ = 0;     // EWMA of new updates per gossip interval
  Nanos rate_sampled_at_ = 0;

  bool started_ = false;
  bool bootstrapping_ = false;
  Nanos next_push_pull_at_ = 0;
  Nanos next_reconnect_at_ = 0;
  std::optional<MemberId> reconnect_target_;

  std::vector<MemberId> join_seeds_;
  bool joining_ = false;
  Nanos join_started_ = 0;
  Nanos next_join_at_ = 0;
  Status join_status_ = absl::OkStatus();

  bool leaving_ = false;
  Nanos leave_started_ = 0;

  absl::flat_hash_map<MemberId, Bucket> buckets_;
  Nanos next_bucket_prune_ = 0;

  std::vector<Outgoing> outbox_;
  std::vector<MemberId> stale_;  // members the current sender holds refuted claims about
  Counters counters_;
};

}  // namespace swarm::membership
