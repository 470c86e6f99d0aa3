// ChunkFetcher: fetching a checkpoint's chunks from several untrusted donors
// at once — the sans-I/O core of "join and replace" (issue 17, item 4).
//
// The caller already trusts the manifest (its ManifestRoot equals the root the
// swarm committed), so every chunk id in it is trusted; donors are not. The
// fetcher hands out requests (TakeOutbox), at most `in_flight_per_donor_max`
// per donor at a time (no donor is overloaded), spreading chunks over every
// usable donor. Each answer is checked with OpenChunk against the id and size
// from the manifest: a good chunk is handed to the caller (TakeVerified) to
// store; a bad one is evidence against its donor (DonorEvidence: donor, chunk,
// reason), the donor is dropped, and the chunk is asked of another donor. A
// refusal or timeout is not evidence (the donor may be busy or gone): the
// chunk is asked of another donor first, of the same one again only when
// every usable donor has failed it; a donor that fails
// `failures_per_donor_max` times in a row is dropped. A chunk with no usable
// donor left, or asked `attempts_per_chunk_max` times, leaves the fetch
// stuck() (unavailable_chunk() names it), never spinning.
//
// Driver contract (who calls what):
//   OnTick(now_ms)                    every few hundred ms: times out requests,
//                                     issues new ones
//   OnChunk(request_id, stored, now)  a donor's answer (zstd frame bytes)
//   OnError(request_id, reason, now)  a donor's refusal or a transport error
//   TakeOutbox()                      requests to send: {request_id, donor, chunk}
//   TakeVerified()                    checked chunks to store (stored form)
// Answers to unknown or already-settled request ids are ignored (late,
// duplicated or unsolicited). Nothing a donor sends can make it abort.
// Thread-safety: none; one thread drives a fetcher.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "chunks/chunk.h"
#include "chunks/manifest.h"

namespace swarm::chunks {

struct FetchOptions {
  size_t in_flight_per_donor_max = 4;
  int64_t request_timeout_ms = 10000;
  uint32_t failures_per_donor_max = 8;  // consecutive refusals/timeouts before a donor is dropped
  uint32_t attempts_per_chunk_max = 16;
};

struct ChunkRequest {
  uint64_t request_id = 0;
  std::string donor;
  ChunkId id{};
  uint32_t raw_bytes = 0;
};

struct DonorEvidence {
  std::string donor;
  ChunkId id{};
  std::string reason;  // ChunkRejectName: hash_mismatch, size_mismatch, not_zstd, corrupt
  std::string detail;  // OpenChunk's message
};

struct FetchProgress {
  uint64_t chunks_total = 0, chunks_done = 0;
  uint64_t bytes_total = 0, bytes_done = 0;  // raw bytes
  size_t donors_usable = 0;
  size_t in_flight = 0;
  double eta_seconds = -1;  // -1 until some bytes arrived
};

class ChunkFetcher {
 public:
  // `need`: the chunks to fetch (e.g. the manifest's table minus those on
  // disk; duplicates are fetched once). `donors`: peer names, distinct.
  ChunkFetcher(std::vector<ChunkEntry> need, std::vector<std::string> donors, const FetchOptions& options = {});

  void OnTick(int64_t now_ms);
  void OnChunk(uint64_t request_id, ByteSpan stored, int64_t now_ms);
  void OnError(uint64_t request_id, std::string_view reason, int64_t now_ms);

  std::vector<ChunkRequest> TakeOutbox();
  std::vector<std::pair<ChunkEntry, Bytes>> TakeVerified();

  bool done() const { return done_count_ == chunks_.size(); }
  // Chunks are left and no usable donor may still give them.
  bool stuck() const;
  // A chunk no donor could give (set when stuck).
  std::optional<ChunkId> unavailable_chunk() const;
  FetchProgress progress(int64_t now_ms) const;
  // Requests to `donor` not yet answered or timed out (<= in_flight_per_donor_max).
  size_t InFlight(const std::string& donor) const;
  const std::vector<DonorEvidence>& evidence() const { return evidence_; }
  // Raw bytes of verified chunks by donor (swarm_sync_bytes_total{donor}).
  const std::map<std::string, uint64_t>& bytes_by_donor() const { return bytes_by_donor_; }
  // Rejected answers by reason (swarm_sync_rejected_chunks_total{reason}):
  // the ChunkRejectName reasons plus "timeout" and "refused".
  const std::map<std::string, uint64_t>& rejected_by_reason() const { return rejected_; }

 private:
  struct ChunkState {
    ChunkEntry entry;
    bool done = false;
    bool in_flight = false;
    uint32_t attempts = 0;
    std::set<size_t> lied;         // donors that sent a bad copy: never again
    std::set<size_t> soft_failed;  // refused or timed out: others first
  };
  struct DonorState {
    std::string name;
    size_t in_flight = 0;
    uint32_t consecutive_failures = 0;
    bool dropped = false;
  };
  struct Pending {
    size_t chunk;
    size_t donor;
    int64_t sent_ms;
  };
  void Settle(uint64_t request_id, size_t* chunk, size_t* donor);
  void Fail(size_t chunk, size_t donor, bool evidence);
  bool MayAsk(const ChunkState& c, size_t donor) const;
  bool Unavailable(const ChunkState& c) const;

  FetchOptions options_;
  std::vector<ChunkState> chunks_;
  std::vector<DonorState> donors_;
  std::map<uint64_t, Pending> pending_;
  std::vector<ChunkRequest> outbox_;
  std::vector<std::pair<ChunkEntry, Bytes>> verified_;
  std::vector<DonorEvidence> evidence_;
  std::map<std::string, uint64_t> bytes_by_donor_;
  std::map<std::string, uint64_t> rejected_;
  size_t done_count_ = 0;
  size_t next_donor_ = 0;  // round-robin start
  uint64_t next_request_ = 1;
  uint64_t bytes_total_ = 0, bytes_done_ = 0;
  int64_t first_ms_ = -1, last_done_ms_ = -1;
};

}  // namespace swarm::chunks
