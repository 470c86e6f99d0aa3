#include "chunks/fetch.h"

namespace swarm::chunks {

ChunkFetcher::ChunkFetcher(std::vector<ChunkEntry> need, std::vector<std::string> donors,
                           const FetchOptions& options)
    : options_(options) {
  SWARM_ASSERT(options_.in_flight_per_donor_max >= 1);
  std::set<ChunkId> seen;
  for (const ChunkEntry& c : need) {
    if (!seen.insert(c.id).second) continue;
    chunks_.push_back({c, false, false, 0, {}, {}});
    bytes_total_ += c.raw_bytes;
  }
  std::set<std::string> names;
  for (std::string& d : donors) {
    if (names.insert(d).second) donors_.push_back({std::move(d)});
  }
}

bool ChunkFetcher::stuck() const { return !done() && unavailable_chunk().has_value(); }

bool ChunkFetcher::MayAsk(const ChunkState& c, size_t d) const {
  if (donors_[d].dropped || c.lied.count(d) != 0) return false;
  if (c.soft_failed.count(d) == 0) return true;
  // Ask a donor that failed this chunk again only if every usable donor has.
  for (size_t o = 0; o < donors_.size(); ++o) {
    if (!donors_[o].dropped && c.lied.count(o) == 0 && c.soft_failed.count(o) == 0) return false;
  }
  return true;
}

bool ChunkFetcher::Unavailable(const ChunkState& c) const {
  if (c.done || c.in_flight) return false;
  if (c.attempts >= options_.attempts_per_chunk_max) return true;
  for (size_t d = 0; d < donors_.size(); ++d) {
    if (!donors_[d].dropped && c.lied.count(d) == 0) return false;
  }
  return true;
}

std::optional<ChunkId> ChunkFetcher::unavailable_chunk() const {
  for (const ChunkState& c : chunks_) {
    if (Unavailable(c)) return c.entry.id;
  }
  return std::nullopt;
}

void ChunkFetcher::OnTick(int64_t now_ms) {
  if (first_ms_ < 0) first_ms_ = now_ms;
  // Time out requests older than the bound.
  std::vector<uint64_t> expired;
  for (const auto& [id, p] : pending_) {
    if (now_ms - p.sent_ms >= options_.request_timeout_ms) expired.push_back(id);
  }
  for (uint64_t id : expired) {
    size_t chunk = 0, donor = 0;
    Settle(id, &chunk, &donor);
    ++rejected_["timeout"];
    Fail(chunk, donor, false);
  }
  // Hand out work: walk the donors round-robin, one request each per pass,
  // until no donor can take more or no chunk is left for it.
  size_t cursor = 0;  // first chunk that may still be unassigned
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t k = 0; k < donors_.size(); ++k) {
      const size_t d = (next_donor_ + k) % donors_.size();
      DonorState& donor = donors_[d];
      if (donor.dropped || donor.in_flight >= options_.in_flight_per_donor_max) continue;
      while (cursor < chunks_.size() && (chunks_[cursor].done || chunks_[cursor].in_flight)) ++cursor;
      size_t pick = chunks_.size();
      for (size_t c = cursor; c < chunks_.size(); ++c) {
        const ChunkState& s = chunks_[c];
        if (!s.done && !s.in_flight && s.attempts < options_.attempts_per_chunk_max && MayAsk(s, d)) {
          pick = c;
          break;
        }
      }
      if (pick == chunks_.size()) continue;
      ChunkState& s = chunks_[pick];
      s.in_flight = true;
      ++s.attempts;
      ++donor.in_flight;
      const uint64_t rid = next_request_++;
      pending_[rid] = {pick, d, now_ms};
      outbox_.push_back({rid, donor.name, s.entry.id, s.entry.raw_bytes});
      progress = true;
    }
  }
  if (!donors_.empty()) next_donor_ = (next_donor_ + 1) % donors_.size();
}

void ChunkFetcher::Settle(uint64_t request_id, size_t* chunk, size_t* donor) {
  auto it = pending_.find(request_id);
  SWARM_ASSERT(it != pending_.end());
  *chunk = it->second.chunk;
  *donor = it->second.donor;
  pending_.erase(it);
  chunks_[*chunk].in_flight = false;
  SWARM_ASSERT(donors_[*donor].in_flight > 0);
  --donors_[*donor].in_flight;
}

void ChunkFetcher::Fail(size_t chunk, size_t donor, bool evidence) {
  (evidence ? chunks_[chunk].lied : chunks_[chunk].soft_failed).insert(donor);
  DonorState& d = donors_[donor];
  if (evidence || ++d.consecutive_failures >= options_.failures_per_donor_max) d.dropped = true;
}

void ChunkFetcher::OnChunk(uint64_t request_id, ByteSpan stored, int64_t now_ms) {
  if (pending_.count(request_id) == 0) return;  // late, duplicated or unsolicited
  size_t chunk = 0, donor = 0;
  Settle(request_id, &chunk, &donor);
  ChunkState& s = chunks_[chunk];
  ChunkReject why = ChunkReject::kNone;
  auto raw = OpenChunk(s.entry.id, s.entry.raw_bytes, stored, &why);
  if (!raw.ok()) {
    const std::string reason = ChunkRejectName(why);
    ++rejected_[reason];
    evidence_.push_back({donors_[donor].name, s.entry.id, reason, std::string(raw.status().message())});
    Fail(chunk, donor, true);
    return;
  }
  s.done = true;
  ++done_count_;
  donors_[donor].consecutive_failures = 0;
  bytes_done_ += s.entry.raw_bytes;
  bytes_by_donor_[donors_[donor].name] += s.entry.raw_bytes;
  last_done_ms_ = now_ms;
  if (first_ms_ < 0) first_ms_ = now_ms;
  verified_.push_back({s.entry, Bytes(stored.begin(), stored.end())});
}

void ChunkFetcher::OnError(uint64_t request_id, std::string_view reason, int64_t now_ms) {
  if (pending_.count(request_id) == 0) return;
  size_t chunk = 0, donor = 0;
  Settle(request_id, &chunk, &donor);
  ++rejected_["refused"];
  Fail(chunk, donor, false);
}

std::vector<ChunkRequest> ChunkFetcher::TakeOutbox() { return std::exchange(outbox_, {}); }

std::vector<std::pair<ChunkEntry, Bytes>> ChunkFetcher::TakeVerified() { return std::exchange(verified_, {}); }

size_t ChunkFetcher::InFlight(const std::string& donor) const {
  for (const DonorState& d : donors_) {
    if (d.name == donor) return d.in_flight;
  }
  return 0;
}

FetchProgress ChunkFetcher::progress(int64_t now_ms) const {
  FetchProgress p;
  p.chunks_total = chunks_.size();
  p.chunks_done = done_count_;
  p.bytes_total = bytes_total_;
  p.bytes_done = bytes_done_;
  for (const DonorState& d : donors_) p.donors_usable += d.dropped ? 0 : 1;
  p.in_flight = pending_.size();
  if (bytes_done_ > 0 && first_ms_ >= 0 && now_ms > first_ms_) {
    const double rate = static_cast<double>(bytes_done_) / static_cast<double>(now_ms - first_ms_);  // bytes/ms
    p.eta_seconds = static_cast<double>(bytes_total_ - bytes_done_) / rate / 1000.0;
  }
  return p;
}

}  // namespace swarm::chunks
