// Property tests of PlaceExperts (placement/experts.h): over random swarms
// with Sybil-heavy operators and inflated granted capacities, no identity and
// no operator exceeds its primary cap, every expert has distinct owners on
// distinct operators whenever enough operators exist, and the result is a
// pure function of the membership (same owners whatever the input order).
#include <gtest/gtest.h>

#include <iostream>

#include <algorithm>
#include <map>
#include <set>

#include "common/rng.h"
#include "placement/experts.h"

namespace swarm::placement {
namespace {

struct Swarm {
  std::vector<PeerInfo> peers;
  uint32_t experts;
};

Swarm RandomSwarm(Rng& rng) {
  Swarm s;
  const int honest_ops = 1 + static_cast<int>(rng.Uniform(5));
  for (int o = 0; o < honest_ops; ++o) {
    const int hosts = 1 + static_cast<int>(rng.Uniform(3));
    for (int h = 0; h < hosts; ++h)
      s.peers.push_back(PeerInfo{"op" + std::to_string(o) + "-h" + std::to_string(h),
                                 0.5 + rng.UniformDouble(0, 2), "r" + std::to_string(rng.Uniform(3)),
                                 "op" + std::to_string(o)});
  }
  // One operator runs many identities, each granted the largest capacity.
  const int sybils = static_cast<int>(rng.Uniform(20));
  for (int i = 0; i < sybils; ++i)
    s.peers.push_back(PeerInfo{"sybil-" + std::to_string(i), 64.0, "r0", "evil"});
  // A few peers without operator (each its own).
  for (int i = 0, n = static_cast<int>(rng.Uniform(3)); i < n; ++i)
    s.peers.push_back(PeerInfo{"solo-" + std::to_string(i), 1.0, "r1", ""});
  s.experts = 1 + static_cast<uint32_t>(rng.Uniform(64));
  return s;
}

TEST(PlaceExperts, CapsHoldOverRandomSybilHeavySwarms) {
  Rng rng(2024);
  uint64_t relaxed = 0, relaxed_identity = 0, cases = 0;
  uint32_t worst_evil = 0, worst_evil_cap = 0;
  for (int t = 0; t < 1000; ++t) {
    Swarm s = RandomSwarm(rng);
    RingConfig rc;
    rc.vnodes_per_capacity = 10;  // fewer points, same property (keeps the test fast)
    rc.replicas = 1 + static_cast<uint32_t>(rng.Uniform(3));
    auto ring = Ring::Build(s.peers, rc);
    ASSERT_TRUE(ring.ok()) << ring.status();
    const auto p = PlaceExperts(*ring, s.experts);
    ++cases;
    relaxed += p.relaxed_caps;
    relaxed_identity += p.relaxed_identity;
    std::set<std::string> ops;
    for (const auto& peer : ring->peers()) ops.insert(OperatorOf(peer));
    const uint32_t E = s.experts, H = static_cast<uint32_t>(ring->peers().size());
    const uint32_t O = static_cast<uint32_t>(ops.size());
    // The documented caps.
    const uint32_t op_cap = std::max<uint32_t>((E + 2) / 3, (E + O - 1) / O);
    EXPECT_EQ(p.operator_cap, std::max<uint32_t>(op_cap, 1)) << "case " << t;
    EXPECT_EQ(p.identity_cap, std::min<uint32_t>((E + H - 1) / H + 1, p.operator_cap)) << "case " << t;
    ASSERT_EQ(p.owners.size(), E);
    std::map<std::string, uint32_t> by_op;
    for (const auto& o : ops) by_op[o] = 0;
    std::vector<uint32_t> by_peer(H, 0);
    for (const auto& owners : p.owners) {
      ASSERT_FALSE(owners.empty());
      ++by_peer[owners[0]];
      ++by_op[OperatorOf(ring->peers()[owners[0]])];
      const size_t want = std::min<size_t>(rc.replicas, H);
      EXPECT_EQ(owners.size(), want) << "case " << t;
      std::set<uint32_t> distinct(owners.begin(), owners.end());
      EXPECT_EQ(distinct.size(), owners.size()) << "case " << t;
      std::set<std::string> owner_ops;
      for (uint32_t o : owners) owner_ops.insert(OperatorOf(ring->peers()[o]));
      EXPECT_EQ(owner_ops.size(), std::min<size_t>(owners.size(), O)) << "replicas on distinct operators, case " << t;
    }
    for (const auto& [op, n] : by_op) EXPECT_LE(n, p.operator_cap) << op << " case " << t;
    if (p.relaxed_identity == 0)
      for (uint32_t n : by_peer) EXPECT_LE(n, p.identity_cap) << "case " << t;
    EXPECT_EQ(by_op, p.operator_primaries);
    if (by_op.count("evil") && O >= 3 && E >= 12) {
      worst_evil = std::max(worst_evil, by_op["evil"] * 100 / E);
      worst_evil_cap = std::max(worst_evil_cap, p.operator_cap * 100 / E);
    }
  }
  std::cout << "[place-experts] " << cases << " random swarms: primaries over the operator cap " << relaxed
            << ", over the identity cap (operators with too few hosts) " << relaxed_identity
            << "; largest share of the Sybil operator with >= 3 operators " << worst_evil
            << "% (its cap at most " << worst_evil_cap << "%) over swarms with >= 12 experts" << std::endl;
  EXPECT_EQ(relaxed, 0u) << "the operator cap always holds";
}

TEST(PlaceExperts, SameMembershipSameOwnersInAnyOrder) {
  Rng rng(7);
  for (int t = 0; t < 50; ++t) {
    Swarm s = RandomSwarm(rng);
    auto a = Ring::Build(s.peers);
    std::reverse(s.peers.begin(), s.peers.end());
    auto b = Ring::Build(s.peers);
    ASSERT_TRUE(a.ok() && b.ok());
    const auto pa = PlaceExperts(*a, s.experts), pb = PlaceExperts(*b, s.experts);
    for (uint32_t e = 0; e < s.experts; ++e) {
      ASSERT_EQ(pa.owners[e].size(), pb.owners[e].size());
      for (size_t i = 0; i < pa.owners[e].size(); ++i)
        EXPECT_EQ(a->peers()[pa.owners[e][i]].id, b->peers()[pb.owners[e][i]].id);
    }
  }
}

TEST(PlaceExperts, OneSybilWithHugeCapacityNoLongerOwnsEverything) {
  // Issue 14: a self-declared capacity-100 identity became primary of 8/8.
  std::vector<PeerInfo> peers = {{"h0", 1, "r0", "a"}, {"h1", 1, "r1", "b"}, {"h2", 1, "r2", "c"},
                                 {"big", 64, "r0", "d"}};
  auto ring = Ring::Build(peers);
  ASSERT_TRUE(ring.ok());
  const auto p = PlaceExperts(*ring, 8);
  EXPECT_EQ(p.identity_cap, 3u);  // ceil(8/4)+1
  EXPECT_EQ(p.operator_cap, 3u);  // max(ceil(8/3), ceil(8/4))
  EXPECT_EQ(p.operator_primaries.at("d"), 3u) << "capped, not 8";
  EXPECT_EQ(p.relaxed_caps, 0u);
}

}  // namespace
}  // namespace swarm::placement
