// ChunkFetcher on the deterministic simulator (sim/): one newcomer fetches a
// checkpoint's chunks from 4 donors over lossy links; one donor lies (sends
// another chunk's frame or garbage), one refuses a third of its requests.
// Every run must finish with every chunk verified, the liar (and only the
// liar) reported as evidence, and no donor ever holding more than the bound
// of requests. Seeds follow tests/support/sim_seeds.h: a failure prints the
// seed and its replay line (SWARM_SIM_SEED=<n>).
#include <gtest/gtest.h>

#include <map>

#include "chunks/chunk.h"
#include "chunks/fetch.h"
#include "common/rng.h"
#include "sim/simulator.h"
#include "support/sim_seeds.h"

namespace swarm::chunks {
namespace {

struct FetchMsg {
  enum Kind { kRequest, kChunk, kError } kind = kRequest;
  uint64_t rid = 0;
  ChunkId id{};
  Bytes stored;
};

constexpr sim::NodeId kNewcomer = 0;
constexpr uint32_t kDonors = 4;
constexpr sim::NodeId kLiar = 2;
constexpr sim::NodeId kRefuser = 3;
constexpr uint32_t kTickTag = 1;
constexpr int64_t kTickMs = 50;

std::string DonorName(sim::NodeId n) { return "donor" + std::to_string(n); }

class Harness : public sim::Simulator<FetchMsg>::Handler {
 public:
  Harness(uint64_t seed, size_t chunk_count) : sim_(seed, kDonors + 1, this), rng_(seed ^ 0xabcdef) {
    sim::LinkModel link;
    link.loss = 0.05;
    link.duplicate = 0.02;
    link.reorder = 0.1;
    sim_.links().SetDefault(link);
    for (size_t i = 0; i < chunk_count; ++i) {
      Bytes raw(1000 + rng_.Uniform(3000));
      for (auto& b : raw) b = static_cast<uint8_t>(rng_.Next());
      const ChunkEntry e{ChunkIdOf(raw), static_cast<uint32_t>(raw.size())};
      need_.push_back(e);
      stored_[e.id] = CompressChunk(raw, 1);
      raw_[e.id] = std::move(raw);
    }
    std::vector<std::string> donors;
    for (sim::NodeId d = 1; d <= kDonors; ++d) donors.push_back(DonorName(d));
    fetcher_ = std::make_unique<ChunkFetcher>(need_, donors, FetchOptions{.in_flight_per_donor_max = 3,
                                                                         .request_timeout_ms = 500});
    sim_.SetTimer(kNewcomer, 0, kTickTag);
  }

  void OnDeliver(sim::NodeId to, sim::NodeId from, FetchMsg&& m) override {
    const int64_t now = sim_.now() / kNanosPerMilli;
    if (to == kNewcomer) {
      if (m.kind == FetchMsg::kChunk) fetcher_->OnChunk(m.rid, m.stored, now);
      if (m.kind == FetchMsg::kError) fetcher_->OnError(m.rid, "refused", now);
      Drain();
      return;
    }
    // A donor answering a request.
    FetchMsg reply{FetchMsg::kChunk, m.rid, m.id, {}};
    if (to == kLiar) {
      // Another chunk's real frame (right format, wrong content), or garbage.
      if (rng_.Bernoulli(0.5)) {
        reply.stored = stored_.begin()->second;
        if (stored_.begin()->first == m.id) reply.stored = std::next(stored_.begin())->second;
      } else {
        reply.stored = Bytes(100, 0x5a);
      }
    } else if (to == kRefuser && rng_.Bernoulli(0.33)) {
      reply.kind = FetchMsg::kError;
    } else {
      reply.stored = stored_.at(m.id);
    }
    sim_.Send(to, kNewcomer, std::move(reply));
  }

  void OnTimer(sim::NodeId node, uint32_t tag) override {
    fetcher_->OnTick(sim_.now() / kNanosPerMilli);
    Drain();
    if (!fetcher_->done() && !fetcher_->stuck()) sim_.SetTimer(kNewcomer, sim_.now() + Millis(kTickMs), kTickTag);
  }

  void Drain() {
    for (ChunkRequest& r : fetcher_->TakeOutbox()) {
      const sim::NodeId to = static_cast<sim::NodeId>(std::stoi(r.donor.substr(5)));
      sim_.Send(kNewcomer, to, FetchMsg{FetchMsg::kRequest, r.request_id, r.id, {}});
    }
    for (sim::NodeId d = 1; d <= kDonors; ++d) max_in_flight_ = std::max(max_in_flight_, fetcher_->InFlight(DonorName(d)));
    for (auto& [entry, stored] : fetcher_->TakeVerified()) {
      auto raw = OpenChunk(entry.id, entry.raw_bytes, stored);
      SWARM_ASSERT(raw.ok() && *raw == raw_.at(entry.id));
      ++verified_[entry.id];
    }
  }

  sim::Simulator<FetchMsg> sim_;
  Rng rng_;
  std::vector<ChunkEntry> need_;
  std::map<ChunkId, Bytes> stored_, raw_;
  std::unique_ptr<ChunkFetcher> fetcher_;
  std::map<ChunkId, int> verified_;
  size_t max_in_flight_ = 0;
};

TEST(ChunkFetchSim, ManyDonorsOneLiarLossyLinks) {
  constexpr int kSeeds = 150;
  uint64_t evidence_total = 0;
  for (uint64_t seed : swarm::testing::SimSeeds(kSeeds)) {
    SWARM_SIM_SEED_TRACE(seed);
    Harness h(seed, 60);
    h.sim_.RunUntil(Seconds(120));
    const auto& f = *h.fetcher_;
    ASSERT_TRUE(f.done()) << "seed " << seed << ": " << f.progress(0).chunks_done << "/" << f.progress(0).chunks_total
                          << (f.stuck() ? " stuck" : "");
    ASSERT_EQ(h.verified_.size(), h.need_.size()) << "seed " << seed;
    for (const auto& [id, n] : h.verified_) ASSERT_EQ(n, 1) << "seed " << seed << ": a chunk verified twice";
    ASSERT_LE(h.max_in_flight_, 3u) << "seed " << seed;
    for (const DonorEvidence& e : f.evidence()) {
      ASSERT_EQ(e.donor, DonorName(kLiar)) << "seed " << seed << ": honest donor blamed: " << e.detail;
    }
    // The liar is asked at the start (round-robin) and caught at its first answer
    // unless every request to it was lost.
    evidence_total += f.evidence().size();
    EXPECT_EQ(f.bytes_by_donor().count(DonorName(kLiar)), 0u) << "seed " << seed;
    const auto p = f.progress(h.sim_.now() / kNanosPerMilli);
    EXPECT_EQ(p.bytes_done, p.bytes_total);
    // The liar is dropped once caught; the refuser may be dropped after a run
    // of refusals and timeouts; the two reliable donors serve throughout.
    EXPECT_GE(p.donors_usable, 2u) << "seed " << seed;
    EXPECT_LE(p.donors_usable, kDonors - (f.evidence().empty() ? 0 : 1)) << "seed " << seed;
    EXPECT_GT(f.bytes_by_donor().count(DonorName(1)), 0u) << "seed " << seed;
    EXPECT_GT(f.bytes_by_donor().count(DonorName(4)), 0u) << "seed " << seed;
  }
  if (!swarm::testing::SimSeedReplay()) {
    EXPECT_GE(evidence_total, static_cast<uint64_t>(kSeeds) * 9 / 10);
  }
}

TEST(ChunkFetchSim, EveryDonorLyingLeavesItStuckNamingTheChunk) {
  const Bytes raw(2000, 7);
  const ChunkEntry e{ChunkIdOf(raw), 2000};
  ChunkFetcher f({e}, {"a", "b"}, {.in_flight_per_donor_max = 2, .request_timeout_ms = 100});
  f.OnTick(0);
  auto out = f.TakeOutbox();
  ASSERT_EQ(out.size(), 1u);  // one chunk: one request
  f.OnChunk(out[0].request_id, CompressChunk(Bytes(2000, 8)), 10);
  EXPECT_EQ(f.evidence().size(), 1u);
  EXPECT_EQ(f.evidence()[0].reason, "hash_mismatch");
  f.OnTick(20);
  out = f.TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].donor, f.evidence()[0].donor);  // asked of the other donor
  f.OnChunk(out[0].request_id, Bytes(10, 1), 30);
  EXPECT_EQ(f.evidence()[1].reason, "not_zstd");
  f.OnTick(40);
  EXPECT_TRUE(f.TakeOutbox().empty());
  EXPECT_TRUE(f.stuck());
  EXPECT_EQ(f.unavailable_chunk(), e.id);
  EXPECT_EQ(f.rejected_by_reason().at("hash_mismatch"), 1u);
  // Unknown and repeated answers are ignored.
  f.OnChunk(999, CompressChunk(raw), 50);
  f.OnChunk(out[0].request_id, CompressChunk(raw), 50);
  EXPECT_FALSE(f.done());
}

TEST(ChunkFetchSim, TimeoutsRetryOnAnotherDonorThenTheSame) {
  const Bytes raw(500, 3);
  const ChunkEntry e{ChunkIdOf(raw), 500};
  ChunkFetcher f({e}, {"a", "b"}, {.in_flight_per_donor_max = 1, .request_timeout_ms = 100});
  f.OnTick(0);
  auto first = f.TakeOutbox();
  ASSERT_EQ(first.size(), 1u);
  f.OnTick(100);  // times out
  auto second = f.TakeOutbox();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].donor, first[0].donor);
  f.OnTick(200);  // times out on the other donor too: the first is asked again
  auto third = f.TakeOutbox();
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(f.rejected_by_reason().at("timeout"), 2u);
  f.OnChunk(third[0].request_id, CompressChunk(raw), 250);
  EXPECT_TRUE(f.done());
  EXPECT_TRUE(f.evidence().empty());
  EXPECT_EQ(f.TakeVerified().size(), 1u);
}

}  // namespace
}  // namespace swarm::chunks
