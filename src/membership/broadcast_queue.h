// BroadcastQueue — the updates a member still has to piggyback, each sent a
// bounded number of times (SWIM/memberlist "transmit-limited queue").
//
// One entry per member: a newer update about a member replaces the older one
// and restarts its count. Take() hands out the entries sent fewest times so
// far (fresh news first; FIFO within one count), counts one transmission for
// each, and drops entries that reached the limit. When the queue exceeds its
// capacity, an entry sent most often is dropped.
//
// Cost: entries sit in one FIFO per transmit count with lazy deletion, so
// Push, Take (per update taken) and Erase are O(1) amortized — this runs on
// every protocol message, with hundreds of pending updates during a
// partition. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "membership/types.h"

namespace swarm::membership {

class BroadcastQueue {
 public:
  explicit BroadcastQueue(uint32_t capacity) : capacity_(capacity) {}

  // Adds (or replaces) the update about `u.member`.
  void Push(const Update& u);
  // Appends up to `max` updates to `out`; each counts one transmission; entries
  // reaching `transmit_limit` are removed.
  void Take(uint32_t max, uint32_t transmit_limit, std::vector<Update>* out);
  // Removes the pending update about `member`, if any.
  void Erase(MemberId member);
  bool Contains(MemberId member) const { return index_.contains(member); }
  size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Entry {
    Update update;
    uint32_t transmits = 0;
    uint32_t gen = 0;  // bumped on replace/remove: older FIFO positions are stale
    bool live = false;
  };
  struct Ref {
    uint32_t slot;
    uint32_t gen;
  };
  struct Fifo {  // vector with a head index; compacts when half consumed
    std::vector<Ref> v;
    size_t head = 0;
    bool empty() const { return head == v.size(); }
    void push(Ref r) { v.push_back(r); }
    Ref pop() {
      Ref r = v[head++];
      if (head == v.size()) {
        v.clear();
        head = 0;
      } else if (head > 64 && head * 2 > v.size()) {
        v.erase(v.begin(), v.begin() + static_cast<long>(head));
        head = 0;
      }
      return r;
    }
  };
  bool Valid(Ref r, uint32_t level) const {
    const Entry& e = slots_[r.slot];
    return e.live && e.gen == r.gen && e.transmits == level;
  }
  void Enqueue(uint32_t slot);
  void Remove(uint32_t slot);
  void DropMostSent();

  uint32_t capacity_;
  std::vector<Entry> slots_;
  std::vector<uint32_t> free_;
  absl::flat_hash_map<MemberId, uint32_t> index_;
  std::vector<Fifo> levels_;  // levels_[t]: entries sent t times
  std::vector<uint32_t> taken_;
  uint64_t dropped_ = 0;
};

}  // namespace swarm::membership
