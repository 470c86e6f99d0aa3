#include "membership/broadcast_queue.h"

#include <algorithm>

namespace swarm::membership {

void BroadcastQueue::Push(const Update& u) {
  auto it = index_.find(u.member);
  if (it != index_.end()) {
    entries_[it->second] = Entry{u, 0};
    return;
  }
  if (entries_.size() >= capacity_ && !entries_.empty()) {
    size_t worst = 0;
    for (size_t i = 1; i < entries_.size(); ++i)
      if (entries_[i].transmits > entries_[worst].transmits) worst = i;
    RemoveAt(worst);
    ++dropped_;
  }
  index_[u.member] = static_cast<uint32_t>(entries_.size());
  entries_.push_back(Entry{u, 0});
}

void BroadcastQueue::RemoveAt(size_t i) {
  index_.erase(entries_[i].update.member);
  if (i + 1 != entries_.size()) {
    entries_[i] = std::move(entries_.back());
    index_[entries_[i].update.member] = static_cast<uint32_t>(i);
  }
  entries_.pop_back();
}

void BroadcastQueue::Erase(MemberId member) {
  auto it = index_.find(member);
  if (it != index_.end()) RemoveAt(it->second);
}

void BroadcastQueue::Take(uint32_t max, uint32_t transmit_limit, std::vector<Update>* out) {
  if (entries_.empty() || max == 0) return;
  scratch_.clear();
  for (uint32_t i = 0; i < entries_.size(); ++i) scratch_.push_back(i);
  if (scratch_.size() > max) {
    auto fewer = [&](uint32_t a, uint32_t b) {
      const auto ta = entries_[a].transmits, tb = entries_[b].transmits;
      return ta != tb ? ta < tb : entries_[a].update.member < entries_[b].update.member;
    };
    std::nth_element(scratch_.begin(), scratch_.begin() + max, scratch_.end(), fewer);
    scratch_.resize(max);
  }
  for (uint32_t i : scratch_) {
    out->push_back(entries_[i].update);
    ++entries_[i].transmits;
  }
  // Remove exhausted entries, highest index first so swap-removal keeps the
  // remaining indices valid.
  std::sort(scratch_.begin(), scratch_.end(), std::greater<>());
  for (uint32_t i : scratch_)
    if (entries_[i].transmits >= transmit_limit) RemoveAt(i);
}

}  // namespace swarm::membership
