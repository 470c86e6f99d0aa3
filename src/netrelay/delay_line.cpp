#include "netrelay/delay_line.h"

#include <algorithm>

#include "common/status.h"

namespace swarm::netrelay {

DelayLine::DelayLine(int64_t delay_us, int64_t jitter_us, size_t bytes_max, uint64_t seed)
    : delay_us_(delay_us), jitter_us_(jitter_us), bytes_max_(bytes_max), rng_(seed) {
  SWARM_ASSERT(delay_us >= 0 && jitter_us >= 0 && jitter_us <= delay_us && bytes_max > 0);
}

int64_t DelayLine::ReleaseTime(int64_t now_us) {
  int64_t sample = delay_us_;
  if (jitter_us_ > 0) {
    sample += static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(2 * jitter_us_ + 1))) - jitter_us_;
  }
  last_due_us_ = std::max({last_due_us_, now_us + sample, now_us});
  return last_due_us_;
}

void DelayLine::Push(int64_t now_us, std::string_view bytes) {
  SWARM_ASSERT(!end_queued_ && bytes.size() <= room());
  if (bytes.empty()) return;
  chunks_.push_back(Chunk{ReleaseTime(now_us), std::string(bytes), 0, false});
  queued_bytes_ += bytes.size();
}

void DelayLine::PushEnd(int64_t now_us) {
  SWARM_ASSERT(!end_queued_);
  end_queued_ = true;
  chunks_.push_back(Chunk{ReleaseTime(now_us), {}, 0, true});
}

std::optional<int64_t> DelayLine::NextDueUs() const {
  if (chunks_.empty()) return std::nullopt;
  return chunks_.front().due_us;
}

std::string_view DelayLine::DueBytes(int64_t now_us) const {
  if (chunks_.empty() || chunks_.front().end || chunks_.front().due_us > now_us) return {};
  const Chunk& c = chunks_.front();
  return std::string_view(c.data).substr(c.offset);
}

void DelayLine::Consume(size_t n) {
  SWARM_ASSERT(!chunks_.empty() && !chunks_.front().end);
  Chunk& c = chunks_.front();
  SWARM_ASSERT(n <= c.data.size() - c.offset);
  c.offset += n;
  queued_bytes_ -= n;
  if (c.offset == c.data.size()) chunks_.pop_front();
}

bool DelayLine::TakeDueEnd(int64_t now_us) {
  if (chunks_.empty() || !chunks_.front().end || chunks_.front().due_us > now_us) return false;
  chunks_.pop_front();
  return true;
}

}  // namespace swarm::netrelay
