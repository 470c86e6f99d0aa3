// FairQueue: per-source queues drained round-robin, with a token bucket per
// source, so one flooding source can neither fill the queue for everyone nor
// buy more than its share of the consumer's work (signature checks).
//
//   FairQueue<Message> q(limits);
//   Status s = q.Push("peer-a", std::move(items), now);  // refused: nothing queued
//   std::vector<Message> batch = q.Pop(256);             // one per source in turn
//
// Rules (every limit named, units last):
//   - a source spends one token per item; its bucket holds at most
//     `burst_items` and refills at `items_per_second`. Too few tokens: the
//     whole push is refused with "rate_limited: ..." (no item is queued).
//   - a source holds at most `source_items_max` queued items and the queue at
//     most `items_max`: beyond, "overloaded: ...".
//   - at most `sources_max` sources are tracked; a new source beyond that
//     replaces the longest-idle source with an empty queue, else it is
//     refused ("overloaded: ... sources").
//   - Pop takes one item from each non-empty source in turn (a source's items
//     stay in order), so an honest source waits behind at most one item of
//     each other source per round, however much a flooder queued.
// Errors start with the refusal reason counted by callers
// (swarm_rejected_calls_total{reason}). Time is passed in (Nanos); nothing
// here reads a clock or locks. Thread-safety: none; the caller locks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/status.h"

namespace swarm::consensus {

struct FairQueueLimits {
  double items_per_second = 5000;
  double burst_items = 10000;
  size_t source_items_max = 4096;
  size_t items_max = 16384;
  size_t sources_max = 64;
};

template <typename T>
class FairQueue {
 public:
  explicit FairQueue(FairQueueLimits limits) : limits_(limits) {}

  Status Push(const std::string& source, std::vector<T> items, Nanos now) {
    auto it = sources_.find(source);
    if (it == sources_.end()) {
      if (sources_.size() >= limits_.sources_max && !EvictIdle()) {
        return absl::ResourceExhaustedError(absl::StrCat("overloaded: ", sources_.size(),
                                                         " sources are queued (sources_max)"));
      }
      it = sources_.emplace(source, Source{limits_.burst_items, now, {}}).first;
      order_.push_back(source);
    }
    Source& s = it->second;
    s.tokens = std::min(limits_.burst_items, s.tokens + ToSeconds(now - s.refilled) * limits_.items_per_second);
    s.refilled = now;
    s.last_push = now;
    const double n = static_cast<double>(items.size());
    if (n > s.tokens) {
      return absl::ResourceExhaustedError(absl::StrCat("rate_limited: source ", source, " sent ", items.size(),
                                                       " items with ", static_cast<int64_t>(s.tokens),
                                                       " tokens left (items_per_second ", limits_.items_per_second,
                                                       ")"));
    }
    if (s.items.size() + items.size() > limits_.source_items_max) {
      return absl::ResourceExhaustedError(absl::StrCat("overloaded: source ", source, " has ", s.items.size(),
                                                       " items queued (source_items_max ", limits_.source_items_max,
                                                       ")"));
    }
    if (size_ + items.size() > limits_.items_max) {
      return absl::ResourceExhaustedError(
          absl::StrCat("overloaded: ", size_, " items queued (items_max ", limits_.items_max, ")"));
    }
    s.tokens -= n;
    for (auto& x : items) s.items.push_back(std::move(x));
    size_ += items.size();
    return absl::OkStatus();
  }

  // Up to `max` items, one per non-empty source in turn.
  std::vector<T> Pop(size_t max) {
    std::vector<T> out;
    while (out.size() < max && size_ > 0) {
      for (size_t k = 0; k < order_.size() && out.size() < max; ++k) {
        const std::string& name = order_[(next_ + k) % order_.size()];
        auto& q = sources_.at(name).items;
        if (q.empty()) continue;
        out.push_back(std::move(q.front()));
        q.pop_front();
        --size_;
      }
      next_ = order_.empty() ? 0 : (next_ + 1) % order_.size();
    }
    return out;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t sources() const { return sources_.size(); }

 private:
  struct Source {
    double tokens = 0;
    Nanos refilled = 0;
    std::deque<T> items;
    Nanos last_push = 0;
  };

  bool EvictIdle() {
    auto victim = order_.end();
    for (auto it = order_.begin(); it != order_.end(); ++it) {
      const Source& s = sources_.at(*it);
      if (!s.items.empty()) continue;
      if (victim == order_.end() || s.last_push < sources_.at(*victim).last_push) victim = it;
    }
    if (victim == order_.end()) return false;
    sources_.erase(*victim);
    order_.erase(victim);
    next_ = order_.empty() ? 0 : next_ % order_.size();
    return true;
  }

  FairQueueLimits limits_;
  std::map<std::string, Source> sources_;
  std::vector<std::string> order_;  // round-robin order
  size_t next_ = 0;
  size_t size_ = 0;
};

}  // namespace swarm::consensus

namespace swarm::consensus {

// A token bucket per source (same rules as FairQueue's): Admit spends `cost`
// tokens or refuses with "rate_limited: ...". At most `sources_max` sources
// are tracked; beyond, the longest-idle one is forgotten (it comes back with
// a full bucket, so the bound on a source is its identity's, not its
// connection's). Time passed in; thread-safety: none.
class SourceRateLimiter {
 public:
  SourceRateLimiter(double per_second, double burst, size_t sources_max = 1024)
      : per_second_(per_second), burst_(burst), sources_max_(sources_max) {}

  Status Admit(const std::string& source, double cost, Nanos now) {
    auto it = buckets_.find(source);
    if (it == buckets_.end()) {
      if (buckets_.size() >= sources_max_) {
        auto idle = buckets_.begin();
        for (auto j = buckets_.begin(); j != buckets_.end(); ++j) {
          if (j->second.refilled < idle->second.refilled) idle = j;
        }
        buckets_.erase(idle);
      }
      it = buckets_.emplace(source, Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    b.tokens = std::min(burst_, b.tokens + ToSeconds(now - b.refilled) * per_second_);
    b.refilled = now;
    if (cost > b.tokens) {
      return absl::ResourceExhaustedError(absl::StrCat("rate_limited: source ", source, " is over ", per_second_,
                                                       " per second (burst ", burst_, ")"));
    }
    b.tokens -= cost;
    return absl::OkStatus();
  }

 private:
  struct Bucket {
    double tokens = 0;
    Nanos refilled = 0;
  };
  double per_second_, burst_;
  size_t sources_max_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace swarm::consensus
