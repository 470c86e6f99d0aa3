// Ring figures (CTest label `sim`, as listed in issue 3): load spread with
// 150 vnodes per peer, bounded-load max/mean, keys moved when a peer joins.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "placement/bounded.h"
#include "placement/ring.h"

namespace swarm::placement {
namespace {

std::vector<PeerInfo> Peers(int n, int regions = 4) {
  std::vector<PeerInfo> v;
  for (int i = 0; i < n; ++i) v.push_back(PeerInfo{"peer-" + std::to_string(i), 1.0, "r" + std::to_string(i % regions)});
  return v;
}

TEST(RingFigures, LoadSpreadWith150Vnodes) {
  for (int n : {10, 100, 1000}) {
    auto ring = Ring::Build(Peers(n)).value();
    const uint64_t keys = 1000000;
    std::vector<double> load(n);
    for (uint64_t k = 0; k < keys; ++k) load[ring.Primary(KeyHash(k))] += 1;
    double mean = static_cast<double>(keys) / n, var = 0, mx = 0;
    for (double l : load) {
      var += (l - mean) * (l - mean);
      mx = std::max(mx, l);
    }
    const double sd = std::sqrt(var / n);
    std::cout << "[ring] n=" << n << " vnodes/peer=150 keys=1e6: load stddev/mean=" << sd / mean
              << " max/mean=" << mx / mean << std::endl;
    // Theory: ~1/sqrt(150) = 0.082 for the arc lengths.
    EXPECT_LT(sd / mean, 0.15) << "n=" << n;
  }
}

TEST(RingFigures, BoundedLoadsMaxOverMeanAtMostC) {
  for (double eps : {0.1, 0.25}) {
    RingConfig cfg;
    cfg.load_epsilon = eps;
    auto ring = Ring::Build(Peers(100), cfg).value();
    std::vector<uint64_t> keys;
    for (uint64_t k = 0; k < 20000; ++k) keys.push_back(KeyHash(k));
    auto a = AssignBounded(ring, keys);
    double mx = 0, total = 0;
    for (uint32_t l : a.load) {
      mx = std::max<double>(mx, l);
      total += l;
    }
    const double mean = total / a.load.size();
    std::cout << "[ring-bounded] n=100 keys=20000 r=3 eps=" << eps << ": max/mean=" << mx / mean
              << " (bound 1+eps=" << 1 + eps << ") relaxed_regions=" << a.relaxed_regions
              << " relaxed_caps=" << a.relaxed_caps << std::endl;
    EXPECT_EQ(total, 20000.0 * 3);
    EXPECT_LE(mx / mean, 1 + eps + 1.0 / mean);  // ceil() adds at most one key
    EXPECT_EQ(a.relaxed_caps, 0u);
    for (const auto& o : a.owners) {
      ASSERT_EQ(o.size(), 3u);
      EXPECT_NE(ring.region_of(o[0]), ring.region_of(o[1]));
      EXPECT_NE(ring.region_of(o[1]), ring.region_of(o[2]));
      EXPECT_NE(ring.region_of(o[0]), ring.region_of(o[2]));
    }
  }
}

TEST(RingFigures, AddingOnePeerMovesAtMost1point2OverNKeys) {
  for (int n : {10, 50, 100, 500}) {
    auto before = Ring::Build(Peers(n)).value();
    auto grown = Peers(n);
    grown.push_back(PeerInfo{"peer-new", 1.0, "r1"});
    auto after = Ring::Build(grown).value();
    const uint64_t keys = 200000;
    uint64_t primary_moves = 0, slot_moves = 0;
    std::vector<uint32_t> ob, oa;
    for (uint64_t k = 0; k < keys; ++k) {
      const uint64_t h = KeyHash(k);
      before.Owners(h, &ob);
      after.Owners(h, &oa);
      if (before.peers()[ob[0]].id != after.peers()[oa[0]].id) ++primary_moves;
      for (uint32_t q : oa) {
        bool was = false;
        for (uint32_t p : ob) was |= before.peers()[p].id == after.peers()[q].id;
        slot_moves += !was;
      }
    }
    const double fp = static_cast<double>(primary_moves) / keys;
    const double fs = static_cast<double>(slot_moves) / (keys * 3.0);
    std::cout << "[ring-moves] n=" << n << " -> n+1: primary owner moved for " << fp
              << " of keys, replica slots moved " << fs << "; 1/(n+1)=" << 1.0 / (n + 1)
              << " limit 1.2/n=" << 1.2 / n << std::endl;
    EXPECT_LE(fp, 1.2 / n) << "n=" << n;
    EXPECT_LE(fs, 1.2 / n) << "n=" << n;
  }
}

TEST(RingFigures, BoundedAssignmentMovesWhenAPeerDies) {
  // The ring after a peer dies: its keys move to others; how many of the
  // other keys move too (bounded loads can cascade)?
  auto peers = Peers(100);
  auto before = Ring::Build(peers).value();
  peers.erase(peers.begin() + 37);
  auto after = Ring::Build(peers).value();
  std::vector<uint64_t> keys;
  for (uint64_t k = 0; k < 10000; ++k) keys.push_back(KeyHash(k));
  auto a = AssignBounded(before, keys), b = AssignBounded(after, keys);
  const uint64_t moves = CountMoves(before, a, after, b);
  uint64_t lost = 0;  // replicas the dead peer held: they must move
  uint32_t dead = 0;
  for (uint32_t p = 0; p < before.peers().size(); ++p)
    if (before.peers()[p].id == "peer-37") dead = p;
  for (const auto& o : a.owners)
    for (uint32_t p : o) lost += p == dead;
  std::cout << "[ring-bounded-moves] n=100 -> 99 (peer-37 dead), 10000 keys r=3 eps=0.25: replicas moved="
            << moves << " of which forced (held by the dead peer)=" << lost << std::endl;
  // docs/placement.md: 290 moved, 282 forced, 8 cascaded. Asserted: the dead
  // peer held replicas (at most its cap), every one of them moved, and the
  // cascade caused by the bounded loads stays under 10 % of the forced moves.
  ASSERT_GT(lost, 0u);
  EXPECT_LE(lost, a.cap[dead]) << "the dead peer held more than its cap";
  ASSERT_GE(moves, lost);
  EXPECT_LE(moves - lost, lost / 10) << "cascaded moves: " << moves - lost;
  EXPECT_EQ(CountMoves(before, a, before, a), 0u);
}

}  // namespace
}  // namespace swarm::placement
