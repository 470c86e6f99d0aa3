// BroadcastQueue — the updates a member still has to piggyback, each sent a
// bounded number of times (SWIM/memberlist "transmit-limited queue").
//
// One entry per member: a newer update about a member replaces the older one
// and restarts its count. Take() hands out the entries sent fewest times so
// far (fresh news first), counts one transmission for each, and drops entries
// that reached the limit. When the queue exceeds its capacity, the entry sent
// most often is dropped. Not thread-safe.
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
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Entry {
    Update update;
    uint32_t transmits;
  };
  void RemoveAt(size_t i);

  uint32_t capacity_;
  std::vector<Entry> entries_;
  absl::flat_hash_map<MemberId, uint32_t> index_;
  std::vector<uint32_t> scratch_;
  uint64_t dropped_ = 0;
};

}  // namespace swarm::membership
