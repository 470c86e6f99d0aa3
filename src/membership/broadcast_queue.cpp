#include "membership/broadcast_queue.h"

namespace swarm::membership {

void BroadcastQueue::Enqueue(uint32_t slot) {
  const Entry& e = slots_[slot];
  if (levels_.size() <= e.transmits) levels_.resize(e.transmits + 1);
  levels_[e.transmits].push(Ref{slot, e.gen});
}

void BroadcastQueue::Push(const Update& u) {
  auto it = index_.find(u.member);
  if (it != index_.end()) {
    Entry& e = slots_[it->second];
    e.update = u;
    e.transmits = 0;
    ++e.gen;
    Enqueue(it->second);
    return;
  }
  if (index_.size() >= capacity_) DropMostSent();
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Entry& e = slots_[slot];
  e.update = u;
  e.transmits = 0;
  ++e.gen;
  e.live = true;
  index_[u.member] = slot;
  Enqueue(slot);
}

void BroadcastQueue::Remove(uint32_t slot) {
  Entry& e = slots_[slot];
  index_.erase(e.update.member);
  e.live = false;
  ++e.gen;
  e.update.meta.reset();
  free_.push_back(slot);
}

void BroadcastQueue::DropMostSent() {
  for (size_t l = levels_.size(); l-- > 0;) {
    Fifo& f = levels_[l];
    while (!f.empty()) {
      const Ref r = f.pop();
      if (Valid(r, static_cast<uint32_t>(l))) {
        Remove(r.slot);
        ++dropped_;
        return;
      }
    }
  }
}

void BroadcastQueue::Erase(MemberId member) {
  auto it = index_.find(member);
  if (it != index_.end()) Remove(it->second);
}

void BroadcastQueue::Take(uint32_t max, uint32_t transmit_limit, std::vector<Update>* out) {
  taken_.clear();
  for (size_t l = 0; l < levels_.size() && taken_.size() < max; ++l) {
    Fifo& f = levels_[l];
    while (!f.empty() && taken_.size() < max) {
      const Ref r = f.pop();
      if (!Valid(r, static_cast<uint32_t>(l))) continue;
      Entry& e = slots_[r.slot];
      out->push_back(e.update);
      ++e.transmits;
      taken_.push_back(r.slot);
    }
  }
  // Re-queue after the scan so one call never hands out an entry twice.
  for (uint32_t slot : taken_) {
    if (slots_[slot].transmits >= transmit_limit) {
      Remove(slot);
    } else {
      Enqueue(slot);
    }
  }
}

}  // namespace swarm::membership
