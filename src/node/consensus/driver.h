// Runs one consensus::Replica (sans-I/O PBFT) over gRPC: the Pbft.Deliver
// service carries batches of signed PbftMessages between committee members.
//
// Threads: one driver thread owns the Replica and the StateMachine. gRPC
// handler threads only decode and enqueue (Deliver) or enqueue a client
// request with a completion callback (Submit); status() reads a snapshot the
// driver thread refreshes after every step. The loop: take queued messages
// and proposals, feed them, OnTick(monotonic clock), TakeOutbox, then act on
// Ready in its documented order: persist the DurableState (fsync) before any
// message goes out, send (one PbftBatch per destination, async, bounded
// calls in flight per peer; loss is tolerated by the replica's resends), then
// complete the callbacks of executed requests.
//
// Durable state, under `state_dir` ("" = none): pbft_state.bin (the
// DurableState without the checkpoint state, rewritten atomically on every
// must_persist) and pbft_checkpoint.bin (u64 seq LE + the stable checkpoint's
// state, rewritten when the stable checkpoint moves). Start reloads both; a
// checkpoint file for another seq is ignored (state transfer fetches it).
//
// Errors: Start fails on unreadable/corrupt state (naming the file) or a bad
// replica config. Deliver refuses a malformed batch (InvalidArgument naming
// the message index) and counts it; Submit completes with ResourceExhausted
// when queues are full and DeadlineExceeded when the request was not executed
// here in time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/clock.h"
#include "consensus/codec.h"
#include "consensus/fair_queue.h"
#include "consensus/replica.h"
#include "swarm/v1/consensus.pb.h"

namespace swarm::node {

struct ConsensusDriverOptions {
  consensus::ReplicaConfig replica;
  std::vector<std::string> committee;  // gRPC addresses; index = ReplicaId
  std::string state_dir;               // "" = no durable state
  bool fsync = true;                   // fsync durable state before sending
  Nanos tick_interval = Millis(5);
  size_t inbound_messages_max = 16384;  // queued decoded messages, all sources
  // Per source (the authenticated caller; the connection until the call guard
  // names it): inbound messages are queued per source and drained round-robin,
  // at most `step_messages_max` per replica step, with a token bucket of
  // signature checks (consensus/fair_queue.h). One flooder of well-formed,
  // wrongly signed messages gets its share of the replica's time, not all of it.
  consensus::FairQueueLimits inbound_per_source{5000, 10000, 4096, 16384, 64};
  size_t step_messages_max = 256;
  size_t submits_max = 20000;           // queued + waiting client requests
  size_t calls_in_flight_max = 64;      // per destination
  Nanos send_deadline = Seconds(2);
  consensus::CodecLimits limits;
  // Whether the key of committee member i is known yet (null = all are).
  // Messages whose top-level signer is a member with no known key are
  // dropped before the replica sees them and counted as unknown_key, not as
  // bad signatures (committee formation: keys are learned by Identify
  // shortly after the first messages arrive; PBFT's resends recover them).
  std::function<bool(uint32_t)> signer_known;
  size_t latency_tracked_max = 4096;  // sequence numbers with a pending start time
};

// What a submitter learns when its request was executed by this replica.
struct ExecutedRequest {
  // Where it was executed; for a request inside a snapshot installed by state
  // transfer, the snapshot's sequence number (it was executed at or before).
  consensus::SeqNumber seq = 0;
  consensus::ViewNumber view = 0;
  double latency_seconds = 0;  // submit → local execution
};

struct ConsensusStatus {
  bool running = false;
  uint64_t view = 0;
  uint32_t primary = 0;
  bool in_view_change = false;
  uint64_t last_committed = 0;  // last executed sequence number
  uint64_t stable_checkpoint = 0;
  uint64_t log_size = 0;
  uint64_t pending_requests = 0;
  consensus::ReplicaCounters counters;
  uint64_t malformed_batches = 0;
  uint64_t send_failures = 0;
  uint64_t sends_dropped = 0;   // calls_in_flight_max reached
  uint64_t persist_writes = 0;
  uint64_t persist_failures = 0;
  uint64_t unknown_key_drops = 0;  // see ConsensusDriverOptions::signer_known
  uint64_t commit_latency_samples = 0;  // committed non-empty batches whose pre-prepare this replica saw
  double commit_latency_seconds_sum = 0;
};

class ConsensusDriver {
 public:
  using ChannelFn = std::function<std::shared_ptr<grpc::Channel>(const std::string&)>;
  using Done = std::function<void(StatusOr<ExecutedRequest>)>;

  // `auth` and `state_machine` are not owned and must outlive the driver;
  // they are used only by the driver thread after Start.
  ConsensusDriver(ConsensusDriverOptions options, consensus::Authenticator* auth,
                  consensus::StateMachine* state_machine, ChannelFn channel_to);
  ~ConsensusDriver();

  Status Start();
  void Stop();  // joins the thread; pending submits complete with Cancelled

  // From gRPC threads.
  // `source` names the sender for fair queueing and rate limits; errors start
  // with the refusal reason (malformed, rate_limited, overloaded).
  Status Deliver(const swarm::v1::PbftBatch& batch, const std::string& source);
  // Proposes `request` through this replica (a backup relays it to the
  // primary); `done` runs on the driver thread once this replica executed it,
  // or with an error at `deadline` (relative). `done` must not block.
  void Submit(consensus::Request request, Nanos deadline, Done done);

  ConsensusStatus status() const;
  const ConsensusDriverOptions& options() const { return opts_; }
  // Called on the driver thread for every committed batch (metrics), with its
  // commit latency at this replica: from the first time this replica saw the
  // batch's pre-prepare (received from the primary, or sent when it is the
  // primary) to its execution here; nullopt when the pre-prepare was not
  // seen (state transfer, new-view re-proposals installed before a restart).
  using OnCommit = std::function<void(const consensus::CommittedEntry&, std::optional<double> latency_seconds)>;
  void set_on_commit(OnCommit fn) { on_commit_ = std::move(fn); }

 private:
  struct Proposal {
    consensus::Request request;
    Nanos deadline = 0;  // absolute, driver clock
    Nanos submitted = 0;
    Done done;
  };
  using Key = std::pair<uint64_t, uint64_t>;
  void Loop();
  void Step(std::deque<consensus::Message>& in, std::deque<Proposal>& props);
  void Persist();
  void SendAll(std::vector<consensus::Outgoing> out);
  void SendBatch(uint32_t to, swarm::v1::PbftBatch batch);
  void Publish();
  Nanos Now() const { return clock_.Now() - origin_; }
  Status LoadDurable(std::optional<consensus::DurableState>& out);
  Status WriteFileSync(const std::string& path, ByteSpan bytes);

  const ConsensusDriverOptions opts_;
  consensus::Authenticator* auth_;
  consensus::StateMachine* sm_;
  ChannelFn channel_to_;
  RealClock clock_;
  Nanos origin_;

  // Driver thread only.
  std::unique_ptr<consensus::Replica> replica_;
  std::map<Key, std::vector<Proposal>> waiting_;
  uint64_t persisted_checkpoint_ = 0;
  OnCommit on_commit_;
  std::map<consensus::SeqNumber, Nanos> pre_prepare_seen_;  // commit latency start times

  // Shared.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<consensus::FairQueue<consensus::Message>> inbound_;
  std::deque<Proposal> proposals_;
  size_t waiting_count_ = 0;
  bool stop_ = false;
  ConsensusStatus status_;
  // Counters touched by gRPC completion callbacks, which may outlive us.
  struct SendState {
    explicit SendState(size_t n) : in_flight(n) {}
    std::vector<std::atomic<size_t>> in_flight;  // per destination
    std::atomic<uint64_t> failures{0}, dropped{0};
  };
  std::shared_ptr<SendState> send_;
  std::atomic<uint64_t> malformed_{0};
  uint64_t unknown_key_ = 0;  // driver thread; published in status_
  uint64_t latency_samples_ = 0;
  double latency_sum_ = 0;
  std::thread thread_;
};

}  // namespace swarm::node
