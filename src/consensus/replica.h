// A PBFT replica (Castro & Liskov, OSDI'99, the signature variant) as a
// sans-I/O state machine, in the style of etcd-raft's RawNode.
//
// The driver feeds it Propose(request) for client requests, OnMessage(from,
// msg) for every message received, and OnTick(now) regularly (every few
// milliseconds of its clock); after each call it takes TakeOutbox() and acts on
// it in the order documented on Ready. The replica never reads a clock, opens
// a socket or starts a thread. It signs and verifies through the injected
// Authenticator and applies committed requests through the injected
// StateMachine.
//
// What is built: request batching at the primary; pre-prepare / prepare /
// commit; execution in sequence order with at-most-once per (client,
// client_seq); checkpoints every `checkpoint_interval` sequence numbers,
// stable at 2f+1 matching votes, which move the low watermark and garbage
// collect the log; view change with prepared certificates and a new-view whose
// pre-prepares every backup recomputes from the 2f+1 view changes it carries;
// state transfer (a stable checkpoint's state plus committed batches with
// commit certificates) for a replica that fell behind; periodic status and
// retransmission so progress resumes after message loss.
//
// Bad input (bad signature, unknown signer, view or sequence outside the
// watermarks, malformed or inconsistent bodies, invalid certificates) is
// dropped and counted by reason in counters(); it never aborts.
//
// Thread-safety: none. One thread owns a Replica; the Authenticator and
// StateMachine must outlive it and are used only from that thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "consensus/authenticator.h"
#include "consensus/canonical.h"
#include "consensus/client_table.h"
#include "consensus/state_machine.h"
#include "consensus/types.h"

namespace swarm::consensus {

struct ReplicaConfig {
  uint32_t n = 4;  // committee size, n = 3f+1 (n >= 4)
  ReplicaId self{0};
  uint64_t checkpoint_interval = 16;     // K: checkpoint after every K sequence numbers
  uint64_t log_window = 64;              // L: high watermark = stable + L (multiple of K, >= 2K)
  size_t batch_requests_max = 64;        // requests per pre-prepare
  size_t batch_bytes_max = 1 << 20;      // payload bytes per pre-prepare
  Nanos batch_delay = Millis(1);         // the primary waits this long to fill a batch
  size_t request_payload_bytes_max = 64 * 1024;
  size_t pending_requests_max = 10000;   // requests known but not yet executed
  Nanos request_timeout = Millis(500);   // no execution for this long with requests pending -> view change
  Nanos view_change_timeout = Millis(500);  // no new-view for this long -> next view
  uint32_t backoff_exponent_max = 3;     // timeouts double per failed view, up to 2^this
  Nanos resend_interval = Millis(100);   // retransmit own uncommitted votes / view change
  Nanos status_interval = Millis(200);   // broadcast StatusReport
  size_t fetch_entries_max = 64;         // commit certificates per FetchReply
  uint64_t checkpoint_lookahead = 4;     // accept checkpoint votes up to stable + lookahead * L

  uint32_t f() const { return (n - 1) / 3; }
  uint32_t quorum() const { return 2 * f() + 1; }
  // Checks every field; the error names the field and value.
  Status Validate() const;
};

// Why an incoming message was dropped.
enum class DropReason : uint8_t {
  kBadSignature,
  kUnknownSigner,
  kMalformed,         // inconsistent body (digest mismatch, wrong modulus, too large...)
  kOutsideWatermarks, // sequence outside (low, high]
  kWrongView,         // view not the current one (or stale)
  kNotPrimary,        // pre-prepare / new-view not from the view's primary
  kEquivocation,      // conflicting pre-prepare for a (view, seq) already accepted
  kInvalidCertificate,// checkpoint / prepared / commit certificate or new-view fails
  kDuplicate,         // already known
  kOverloaded,        // a bounded queue is full
  kCount
};
const char* DropReasonName(DropReason r);

struct ReplicaCounters {
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> dropped{};
  uint64_t messages_received = 0;
  uint64_t batches_committed = 0;   // "rounds"
  uint64_t requests_executed = 0;
  uint64_t view_changes_started = 0;
  uint64_t new_views_installed = 0;
  uint64_t checkpoints_stable = 0;
  uint64_t state_transfers = 0;     // snapshots installed from peers
  uint64_t entries_fetched = 0;     // batches executed from commit certificates of peers
  uint64_t state_divergences = 0;   // own checkpoint digest differed from the stable one
  uint64_t state_install_failures = 0;  // certified state the StateMachine could not restore
  uint64_t dropped_total() const;
};

struct Outgoing {
  std::optional<ReplicaId> to;  // nullopt: every other committee member
  Message message;
};

struct CommittedEntry {
  SeqNumber seq = 0;
  ViewNumber view = 0;
  Digest digest{};
  std::vector<Request> requests;  // the whole batch (may be empty: null request)
  std::vector<bool> applied;      // per request: false if it was a duplicate and skipped
};

// Outputs accumulated since the last TakeOutbox. The driver acts on the fields
// in this order:
struct Ready {
  // 1. If set, save durable_state() durably (fsync) BEFORE sending any of
  //    `messages`: a restarted replica must not contradict votes it sent.
  bool must_persist = false;
  // 2. Then send `messages` (any order; loss and duplication are tolerated).
  std::vector<Outgoing> messages;
  // 3. `committed`, in order: batches already applied to the StateMachine by
  //    the replica; the driver answers the clients that submitted through it,
  //    updates metrics, etc. A replica that installs a snapshot by state
  //    transfer reports it in `restored_to` instead of the skipped entries.
  std::vector<CommittedEntry> committed;
  std::optional<SeqNumber> restored_to;
  // 4. A checkpoint became stable: persisted data older than it may go.
  std::optional<SeqNumber> stable_checkpoint;
};

// What must survive a crash (everything else is rebuilt). Opaque to drivers
// except for persistence; pass it back to Replica::Create after a restart.
struct DurableState {
  struct Slot {
    std::optional<Signed<PrePrepare>> pre_prepare;      // current view
    std::map<uint32_t, Signed<Prepare>> prepares;       // current view, by signer
    std::map<uint32_t, Signed<Commit>> commits;         // current view, by signer
    std::optional<PreparedCert> prepared;               // highest view prepared
    std::optional<CommitCert> committed;
  };
  ViewNumber view = 0;
  bool in_view_change = false;
  SeqNumber next_seq = 0;  // last sequence number this replica assigned as primary of `view`
  CheckpointCert stable;   // seq 0 = genesis
  Bytes stable_state;      // state bytes at `stable` (empty for genesis)
  std::map<SeqNumber, Slot> log;  // (stable.seq, stable.seq + L]
  std::map<SeqNumber, std::map<uint32_t, Signed<Checkpoint>>> checkpoint_votes;
  std::optional<Signed<NewView>> new_view;  // the one that installed `view` (view > 0)
};

class Replica {
 public:
  // `recovered`: the DurableState saved before a crash, or nullopt for a fresh
  // replica. `state_machine` must be at genesis state; after recovery the
  // replica restores it from the durable stable checkpoint.
  static StatusOr<std::unique_ptr<Replica>> Create(const ReplicaConfig& config, Authenticator* auth,
                                                   StateMachine* state_machine,
                                                   std::optional<DurableState> recovered = std::nullopt);

  // A client request submitted through this replica. Errors: payload too
  // large, pending queue full (ResourceExhausted). A request already
  // executed or already pending is accepted and ignored.
  Status Propose(Request request);
  void OnMessage(ReplicaId from, const Message& message);
  // `now` is the driver's monotonic clock; it must not decrease.
  void OnTick(Nanos now);

  Ready TakeOutbox();
  bool HasReady() const;
  const DurableState& durable_state() const { return d_; }

  ViewNumber view() const { return d_.view; }
  bool in_view_change() const { return d_.in_view_change; }
  ReplicaId primary() const { return Primary(d_.view); }
  SeqNumber last_executed() const { return last_executed_; }
  // Whether (client, client_seq) was executed — also inside a snapshot
  // installed by state transfer, for which no CommittedEntry is reported.
  bool Executed(uint64_t client, uint64_t client_seq) const { return executed_.Contains(client, client_seq); }
  SeqNumber stable_checkpoint() const { return d_.stable.seq; }
  size_t log_size() const { return d_.log.size(); }
  size_t pending_requests() const { return pending_.size(); }
  const ReplicaCounters& counters() const { return counters_; }
  const ReplicaConfig& config() const { return cfg_; }

  // Visible for tests: the pre-prepares a new view must carry, recomputed from
  // a set of view changes (sequence numbers above the highest stable
  // checkpoint among them, each with the highest-view prepared batch or the
  // null batch). `checkpoint` receives the highest checkpoint certificate.
  struct NewViewPlan {
    CheckpointCert checkpoint;
    std::vector<PrePrepare> pre_prepares;
  };
  static NewViewPlan ComputeNewViewPlan(ViewNumber view, const std::vector<Signed<ViewChange>>& vcs);

 private:
  Replica(const ReplicaConfig& config, Authenticator* auth, StateMachine* sm);
  struct Pending {
    Request request;
    Nanos arrived = 0;
    Nanos last_forwarded = 0;
    bool in_flight = false;  // part of a pre-prepare accepted in the current view
  };
  using RequestKey = std::pair<uint64_t, uint64_t>;

  ReplicaId Primary(ViewNumber v) const { return ReplicaId(static_cast<uint32_t>(v % cfg_.n)); }
  bool IsPrimary() const { return Primary(d_.view) == cfg_.self; }
  SeqNumber Low() const { return d_.stable.seq; }
  SeqNumber High() const { return d_.stable.seq + cfg_.log_window; }
  bool StateMissing() const { return last_executed_ < d_.stable.seq || diverged_; }
  void Drop(DropReason r) { ++counters_.dropped[static_cast<size_t>(r)]; }

  template <typename T>
  Signed<T> SignBody(T body);
  template <typename T>
  bool VerifySig(const Signed<T>& s);
  void Send(std::optional<ReplicaId> to, Message m);
  void Broadcast(Message m) { Send(std::nullopt, std::move(m)); }

  // Validation of certificates (all signatures, quorum sizes, consistency).
  bool ValidBatch(const PrePrepare& pp) const;
  bool VerifyCheckpointCert(const CheckpointCert& c);
  bool VerifyPreparedCert(const PreparedCert& c, ViewNumber below_view);
  bool VerifyCommitCert(const CommitCert& c);
  bool VerifyViewChange(const Signed<ViewChange>& vc);

  // Normal case (replica.cpp).
  bool AddPending(const Request& r, bool local);
  void OnRequest(const Signed<Request>& m);
  void OnPrePrepare(const Signed<PrePrepare>& m);
  void OnPrepare(const Signed<Prepare>& m);
  void OnCommit(const Signed<Commit>& m);
  bool AcceptPrePrepare(const Signed<PrePrepare>& m);
  void CheckSlot(SeqNumber seq);
  void MaybePropose(bool timer_fired);
  void Execute();
  void Resend();
  void ResetRequestTimer();

  // Checkpoints and state transfer (replica_checkpoint.cpp).
  void TakeCheckpoint();
  void OnCheckpoint(const Signed<Checkpoint>& m);
  void CheckCheckpointQuorum(SeqNumber seq);
  void ResendNewView(ReplicaId to);
  void AdoptStableCheckpoint(const CheckpointCert& cert, const Bytes* state);
  bool InstallState(const CheckpointCert& cert, const Bytes& state);
  void OnStatus(const Signed<StatusReport>& m);
  void OnFetch(const Signed<Fetch>& m);
  void OnFetchReply(const Signed<FetchReply>& m);
  void MaybeFetch();

  // View change (replica_view_change.cpp).
  void StartViewChange(ViewNumber v);
  Signed<ViewChange> BuildViewChange();
  void OnViewChange(const Signed<ViewChange>& m);
  void OnNewView(const Signed<NewView>& m);
  void MaybeSendNewView();
  void InstallNewView(const Signed<NewView>& nv);
  void EnterView(ViewNumber v);
  Nanos Backoff(Nanos base) const;

  ReplicaConfig cfg_;
  Authenticator* auth_;
  StateMachine* sm_;
  DurableState d_;

  // Volatile state.
  Nanos now_ = 0;
  SeqNumber last_executed_ = 0;
  bool diverged_ = false;
  ClientTable executed_;
  std::map<SeqNumber, std::pair<Digest, Bytes>> own_checkpoints_;  // unstable, state bytes
  std::map<RequestKey, Pending> pending_;
  std::optional<Nanos> request_deadline_;
  Nanos view_change_deadline_ = 0;
  uint32_t backoff_ = 0;        // consecutive views without progress
  Nanos next_resend_ = 0;
  Nanos next_status_ = 0;
  std::map<uint32_t, Signed<ViewChange>> view_changes_;  // latest (highest view) per replica
  std::map<uint32_t, StatusReport> peer_status_;
  std::map<uint32_t, Nanos> new_view_sent_;  // to whom we re-sent our new-view, when
  SeqNumber executed_at_last_status_ = 0;
  bool stalled_ = false;  // no execution during the last status interval
  Nanos next_fetch_ = 0;
  uint32_t fetch_rotor_ = 0;
  std::map<uint32_t, Nanos> fetch_served_;
  ReplicaCounters counters_;
  Ready ready_;
};

template <typename T>
Signed<T> Replica::SignBody(T body) {
  Bytes sig = auth_->Sign(CanonicalBytes(body));
  return Signed<T>{cfg_.self, std::move(body), std::move(sig)};
}

template <typename T>
bool Replica::VerifySig(const Signed<T>& s) {
  return auth_->Verify(s.signer, CanonicalBytes(s.body), s.signature);
}

}  // namespace swarm::consensus
