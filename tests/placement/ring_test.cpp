// Ring properties: validation, determinism, distinct owners/regions,
// capacity weighting, PeersFromView.
#include <gtest/gtest.h>

#include <set>

#include "common/rng.h"
#include "placement/bounded.h"
#include "placement/ring.h"
#include "placement/view.h"

namespace swarm::placement {
namespace {

std::vector<PeerInfo> Peers(int n, int regions = 3) {
  std::vector<PeerInfo> v;
  for (int i = 0; i < n; ++i) v.push_back(PeerInfo{"peer-" + std::to_string(i), 1.0, "r" + std::to_string(i % regions)});
  return v;
}

TEST(Ring, RejectsBadInputNamingIt) {
  EXPECT_FALSE(Ring::Build({}).ok());
  auto p = Peers(3);
  p[1].id = "peer-0";
  auto r = Ring::Build(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate peer id 'peer-0'"), std::string::npos) << r.status();
  p = Peers(3);
  p[2].capacity = -1;
  r = Ring::Build(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("capacity=-1"), std::string::npos) << r.status();
  p[2].capacity = std::nan("");
  EXPECT_FALSE(Ring::Build(p).ok());
  RingConfig cfg;
  cfg.replicas = 0;
  r = Ring::Build(Peers(3), cfg);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("replicas=0"), std::string::npos);
}

TEST(Ring, SameMembershipSameRingInAnyOrder) {
  auto p = Peers(50);
  auto a = Ring::Build(p).value();
  Rng rng(3);
  rng.Shuffle(p);
  auto b = Ring::Build(p).value();
  std::vector<uint32_t> oa, ob;
  for (uint64_t k = 0; k < 2000; ++k) {
    a.Owners(KeyHash(k), &oa);
    b.Owners(KeyHash(k), &ob);
    ASSERT_EQ(oa.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(a.peers()[oa[i]].id, b.peers()[ob[i]].id);
  }
  std::vector<uint64_t> keys;
  for (uint64_t k = 0; k < 500; ++k) keys.push_back(KeyHash(k));
  auto x = AssignBounded(a, keys), y = AssignBounded(b, keys);
  EXPECT_EQ(x.owners, y.owners);  // same peer order (sorted ids) → same indices
}

TEST(Ring, OwnersAreDistinctPeersInDistinctRegions) {
  auto ring = Ring::Build(Peers(30, 4)).value();
  std::vector<uint32_t> o;
  for (uint64_t k = 0; k < 5000; ++k) {
    ring.Owners(KeyHash(k), &o);
    ASSERT_EQ(o.size(), 3u);
    std::set<uint32_t> peers(o.begin(), o.end()), regions;
    for (uint32_t p : o) regions.insert(ring.region_of(p));
    EXPECT_EQ(peers.size(), 3u);
    EXPECT_EQ(regions.size(), 3u);
    EXPECT_EQ(o[0], ring.Primary(KeyHash(k)));
  }
  // Two regions for r = 3: distinct peers, regions may repeat.
  auto two = Ring::Build(Peers(10, 2)).value();
  two.Owners(KeyHash(uint64_t{1}), &o);
  EXPECT_EQ(std::set<uint32_t>(o.begin(), o.end()).size(), 3u);
  // Fewer peers than replicas: all of them.
  auto tiny = Ring::Build(Peers(2)).value();
  tiny.Owners(KeyHash(uint64_t{1}), &o);
  EXPECT_EQ(o.size(), 2u);
}

TEST(Ring, VnodesFollowCapacity) {
  auto p = Peers(20);
  p[0].capacity = 2.0;
  p[1].capacity = 0.5;
  auto ring = Ring::Build(p).value();
  EXPECT_EQ(ring.vnode_count(), 150u * 18 + 300 + 75);
  std::vector<uint64_t> load(20);
  for (uint64_t k = 0; k < 200000; ++k) load[ring.Primary(KeyHash(k))]++;
  auto idx = [&](const std::string& id) {
    for (size_t i = 0; i < ring.peers().size(); ++i)
      if (ring.peers()[i].id == id) return i;
    return size_t{0};
  };
  const double unit = 200000.0 / 19.5;
  EXPECT_NEAR(load[idx("peer-0")] / unit, 2.0, 0.4);
  EXPECT_NEAR(load[idx("peer-1")] / unit, 0.5, 0.2);
}

TEST(Ring, KeyHashIsStable) {
  // Positions must never change between builds or machines: pin published
  // values (SplitMix64's first output for 0; SHA3-256("") prefix).
  EXPECT_EQ(KeyHash(uint64_t{0}), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(KeyHash(std::string_view("")), 0xa7ffc6f8bf1ed766ULL);
}

TEST(Ring, PeersFromViewTakesGrantedFactsOfAdmittedExpertHostsOnly) {
  membership::PeerDirectory dir;
  for (const char* n : {"b", "a", "c", "d", "e"}) ASSERT_TRUE(dir.Intern(n).ok());
  auto meta = std::make_shared<membership::Metadata>();
  meta->capacity = 100;  // self-declared: never used
  meta->region = "self-claimed";
  auto host = std::make_shared<const membership::Admission>(
      membership::Admission{2, "eu", "acme", "", membership::kRoleExpertHost});
  auto trainer = std::make_shared<const membership::Admission>(membership::Admission{4, "eu", "acme", "", 1u});
  std::vector<membership::MemberView> v = {
      {0, membership::MemberState::kAlive, 0, meta, host, 1},
      {1, membership::MemberState::kSuspect, 0, meta, host, 1},
      {2, membership::MemberState::kDead, 0, meta, host, 1},
      {3, membership::MemberState::kAlive, 0, meta, trainer, 1},  // not an expert host
      {4, membership::MemberState::kAlive, 0, meta, nullptr, 1},  // not admitted
  };
  auto peers = PeersFromView(v, dir);
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0], (PeerInfo{"b", 2, "eu", "acme"}));
  EXPECT_EQ(peers[1], (PeerInfo{"a", 2, "eu", "acme"}));
}

}  // namespace
}  // namespace swarm::placement
