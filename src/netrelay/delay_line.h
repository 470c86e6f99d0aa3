// DelayLine: one direction of a delaying TCP relay, as a pure queue in time.
//
// Bytes read from a socket at time `now` are released `delay ± jitter` later,
// never before bytes read earlier (a TCP stream stays in order: a chunk's
// release time is max(previous release, now + sample)). The queue is bounded
// by `bytes_max`; the caller reads at most `room()` bytes, so a slow or
// delayed receiver pushes back on the sender instead of growing memory.
// The end of the stream (the sender's FIN) is queued like data.
//
// Times are microseconds on any monotonic clock the caller chooses. Jitter
// comes from a seeded swarm::Rng, so a seed replays the same schedule.
// Not thread-safe; owned by one relay connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "common/rng.h"

namespace swarm::netrelay {

class DelayLine {
 public:
  // delay_us >= 0, 0 <= jitter_us <= delay_us, bytes_max > 0 (the relay checks its flags).
  DelayLine(int64_t delay_us, int64_t jitter_us, size_t bytes_max, uint64_t seed);

  size_t room() const { return queued_bytes_ >= bytes_max_ ? 0 : bytes_max_ - queued_bytes_; }
  size_t queued_bytes() const { return queued_bytes_; }
  bool ended() const { return end_queued_; }  // PushEnd was called
  bool empty() const { return chunks_.empty(); }

  // Queues `bytes` (at most room() of them; more is a caller bug) read at now_us.
  void Push(int64_t now_us, std::string_view bytes);
  // Queues the end of the stream after everything pushed so far.
  void PushEnd(int64_t now_us);

  // Release time of the front chunk (data or end), or nullopt when empty.
  std::optional<int64_t> NextDueUs() const;
  // The front chunk's bytes not yet written, if it is data and due at now_us;
  // empty otherwise.
  std::string_view DueBytes(int64_t now_us) const;
  // `n` bytes of DueBytes() were written.
  void Consume(size_t n);
  // True (and the end marker is removed) when the end is at the front and due.
  bool TakeDueEnd(int64_t now_us);

 private:
  struct Chunk {
    int64_t due_us = 0;
    std::string data;
    size_t offset = 0;
    bool end = false;
  };
  int64_t ReleaseTime(int64_t now_us);

  int64_t delay_us_;
  int64_t jitter_us_;
  size_t bytes_max_;
  Rng rng_;
  std::deque<Chunk> chunks_;
  size_t queued_bytes_ = 0;
  int64_t last_due_us_ = 0;
  bool end_queued_ = false;
};

}  // namespace swarm::netrelay
