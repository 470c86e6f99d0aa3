// sim::Simulator<Msg> — a deterministic discrete-event network simulator.
//
// Drives any number of sans-I/O state machines in virtual time. The caller
// supplies a Handler that receives deliveries, timers and crash/restart
// notifications for node ids 0..node_count-1, and sends through Send(). The
// simulator applies, per message: the Byzantine hook of the sender (if any),
// partitions, the link's loss, latency (with jitter and reordering) and
// duplication. Everything random comes from one Rng seeded by `seed`, and ties
// in the event queue are broken by insertion order, so one seed replays a run
// exactly (events, drops, timings). Events live in a binary heap
// (std::priority_queue) of 32-byte records; message payloads live in a slab
// with a free list, so per-event cost is a heap pop plus one handler call.
//
// Generic over Msg (any movable type): membership uses its plain struct,
// PBFT and CRDT sync can use theirs.
//
// Thread-safety: none; one thread drives a Simulator. The Handler is not
// owned and must outlive the Simulator.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/rng.h"
#include "common/status.h"
#include "sim/link_model.h"
#include "sim/partitions.h"

namespace swarm::sim {

struct SimStats {
  uint64_t events = 0;
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t dropped_loss = 0;
  uint64_t dropped_partition = 0;
  uint64_t dropped_down = 0;       // sender or receiver crashed
  uint64_t dropped_byzantine = 0;  // dropped by a hook
  uint64_t duplicated = 0;
  uint64_t timers = 0;
};

template <typename Msg>
class Simulator {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void OnDeliver(NodeId to, NodeId from, Msg&& msg) = 0;
    virtual void OnTimer(NodeId node, uint32_t tag) = 0;
    // After Crash: the node's pending timers are discarded and messages to it dropped.
    virtual void OnCrash(NodeId node) {}
    // After Restart: the handler builds a fresh state for the node.
    virtual void OnRestart(NodeId node) {}
  };

  enum class HookAction { kDeliver, kDrop };
  // Called for every message a hooked node sends; may rewrite `msg` (and the
  // destination) or drop it. Injected messages (Inject) bypass hooks.
  using ByzantineHook = std::function<HookAction(NodeId from, NodeId& to, Msg& msg)>;

  Simulator(uint64_t seed, uint32_t node_count, Handler* handler)
      : seed_(seed), rng_(seed), node_count_(node_count), handler_(handler),
        partitions_(node_count), up_(node_count, 1), epoch_(node_count, 0),
        hooks_(node_count) {}

  uint64_t seed() const { return seed_; }
  Nanos now() const { return clock_.Now(); }
  const VirtualClock& clock() const { return clock_; }
  uint32_t node_count() const { return node_count_; }
  Rng& rng() { return rng_; }
  LinkTable& links() { return links_; }
  PartitionSet& partitions() { return partitions_; }
  const SimStats& stats() const { return stats_; }
  bool IsUp(NodeId n) const { return up_[n] != 0; }
  size_t pending_events() const { return queue_.size(); }

  // Sends from `from` to `to` now, through hooks, partitions and the link model.
  // `hold` > 0 adds that much delay on top of the link's latency (a sender
  // that sits on its messages; partitions and loss still apply at send time).
  void Send(NodeId from, NodeId to, Msg msg, Nanos hold = 0) {
    SWARM_ASSERT(from < node_count_ && to < node_count_);
    if (!up_[from]) {
      ++stats_.dropped_down;
      return;
    }
    if (hooks_[from]) {
      if (hooks_[from](from, to, msg) == HookAction::kDrop) {
        ++stats_.dropped_byzantine;
        return;
      }
      SWARM_ASSERT(to < node_count_);
    }
    Transmit(from, to, std::move(msg), hold);
  }
  // A message that appears to come from `from` (forged or injected by a test;
  // sent even when `from` is down, bypassing hooks).
  void Inject(NodeId from, NodeId to, Msg msg, Nanos hold = 0) { Transmit(from, to, std::move(msg), hold); }

  void SetByzantine(NodeId node, ByzantineHook hook) { hooks_[node] = std::move(hook); }

  // Timer for `node` at absolute time `at` (clamped to now); discarded if the
  // node crashes before it fires.
  void SetTimer(NodeId node, Nanos at, uint32_t tag) {
    Push(Event{std::max(at, now()), 0, node, epoch_[node], tag, kTimer});
  }
  void Crash(NodeId node, Nanos at) { Push(Event{at, 0, node, 0, 0, kCrash}); }
  void Restart(NodeId node, Nanos at) { Push(Event{at, 0, node, 0, 0, kRestart}); }
  // Runs `fn` at virtual time `at` (clamped to now; test scripting: change
  // links, submit client requests, measure, ...). Slots of calls that ran are
  // reused, so a driver may schedule calls for as long as it runs.
  void At(Nanos at, std::function<void()> fn) {
    uint32_t slot;
    if (!free_calls_.empty()) {
      slot = free_calls_.back();
      free_calls_.pop_back();
      calls_[slot] = std::move(fn);
    } else {
      slot = static_cast<uint32_t>(calls_.size());
      calls_.push_back(std::move(fn));
    }
    Push(Event{std::max(at, now()), 0, 0, 0, slot, kCall});
  }

  // Processes one event; false when the queue is empty.
  bool Step() {
    if (queue_.empty()) return false;
    Event e = queue_.top();
    queue_.pop();
    clock_.AdvanceTo(e.time);
    ++stats_.events;
    switch (e.kind) {
      case kDeliver: {
        Msg m = std::move(*slab_[e.payload]);
        slab_[e.payload].reset();
        free_.push_back(e.payload);
        if (!up_[e.node]) {
          ++stats_.dropped_down;
          break;
        }
        ++stats_.delivered;
        handler_->OnDeliver(e.node, e.aux, std::move(m));
        break;
      }
      case kTimer:
        if (up_[e.node] && e.aux == epoch_[e.node]) {
          ++stats_.timers;
          handler_->OnTimer(e.node, e.payload);
        }
        break;
      case kCrash:
        if (up_[e.node]) {
          up_[e.node] = 0;
          ++epoch_[e.node];
          handler_->OnCrash(e.node);
        }
        break;
      case kRestart:
        if (!up_[e.node]) {
          up_[e.node] = 1;
          ++epoch_[e.node];
          handler_->OnRestart(e.node);
        }
        break;
      case kCall: {
        auto fn = std::move(calls_[e.payload]);
        calls_[e.payload] = nullptr;
        free_calls_.push_back(e.payload);
        fn();
        break;
      }
    }
    return true;
  }

  // Processes every event with time <= t, then sets the clock to t.
  void RunUntil(Nanos t) {
    while (!queue_.empty() && queue_.top().time <= t) Step();
    clock_.AdvanceTo(t);
  }

 private:
  enum Kind : uint8_t { kDeliver, kTimer, kCrash, kRestart, kCall };
  struct Event {
    Nanos time;
    uint64_t seq;
    NodeId node;
    uint32_t aux;      // deliver: sender; timer: node epoch
    uint32_t payload;  // deliver: slab index; timer: tag; call: index
    Kind kind;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };

  void Push(Event e) {
    e.seq = next_seq_++;
    queue_.push(e);
  }

  void Transmit(NodeId from, NodeId to, Msg msg, Nanos hold = 0) {
    ++stats_.sent;
    if (partitions_.Blocked(from, to, now())) {
      ++stats_.dropped_partition;
      return;
    }
    const LinkModel& link = links_.Get(from, to);
    if (link.loss > 0 && rng_.Bernoulli(link.loss)) {
      ++stats_.dropped_loss;
      return;
    }
    if (link.duplicate > 0 && rng_.Bernoulli(link.duplicate)) {
      ++stats_.duplicated;
      Schedule(from, to, Msg(msg), now() + hold + link.SampleLatency(rng_));
    }
    Schedule(from, to, std::move(msg), now() + hold + link.SampleLatency(rng_));
  }

  void Schedule(NodeId from, NodeId to, Msg&& msg, Nanos at) {
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
      slab_[slot].emplace(std::move(msg));
    } else {
      slot = static_cast<uint32_t>(slab_.size());
      slab_.emplace_back(std::move(msg));
    }
    Push(Event{at, 0, to, from, slot, kDeliver});
  }

  uint64_t seed_;
  Rng rng_;
  uint32_t node_count_;
  Handler* handler_;
  VirtualClock clock_;
  LinkTable links_;
  PartitionSet partitions_;
  std::vector<uint8_t> up_;
  std::vector<uint32_t> epoch_;
  std::vector<ByzantineHook> hooks_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::vector<std::optional<Msg>> slab_;
  std::vector<uint32_t> free_;
  std::vector<std::function<void()>> calls_;
  std::vector<uint32_t> free_calls_;
  uint64_t next_seq_ = 0;
  SimStats stats_;
};

}  // namespace swarm::sim
