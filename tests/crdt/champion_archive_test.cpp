// CRDT laws of the champion archive over random entries and merge orders.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/rng.h"
#include "crdt/champion_archive.h"
#include "crdt/merkle.h"

namespace swarm::crdt {
namespace {

ArchiveEntry Entry(Rng& rng, int distinct_payloads = 1000, int fitness_levels = 20) {
  std::string p = "genome-" + std::to_string(rng.Uniform(distinct_payloads));
  // Few fitness levels: many ties, so the id tie-break matters.
  return *MakeEntry(static_cast<double>(rng.Uniform(fitness_levels)), Bytes(p.begin(), p.end()));
}

ChampionArchive RandomArchive(Rng& rng, size_t cap, int n) {
  ChampionArchive a({cap, 1024});
  for (int i = 0; i < n; ++i) EXPECT_TRUE(a.Insert(Entry(rng)).ok());
  return a;
}

ChampionArchive Merged(const ChampionArchive& a, const ChampionArchive& b) {
  ChampionArchive r = a;
  r.Merge(b);
  return r;
}

TEST(ChampionArchive, MergeIsCommutativeAssociativeIdempotent) {
  Rng rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t cap = 1 + rng.Uniform(12);
    auto a = RandomArchive(rng, cap, static_cast<int>(rng.Uniform(30)));
    auto b = RandomArchive(rng, cap, static_cast<int>(rng.Uniform(30)));
    auto c = RandomArchive(rng, cap, static_cast<int>(rng.Uniform(30)));
    EXPECT_EQ(Merged(a, b), Merged(b, a));
    EXPECT_EQ(Merged(Merged(a, b), c), Merged(a, Merged(b, c)));
    EXPECT_EQ(Merged(a, a), a);
    EXPECT_FALSE(Merged(a, b).Merge(b));  // merging again changes nothing
  }
}

TEST(ChampionArchive, AnyMergeOrderGivesTopNOfEverything) {
  Rng rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const size_t cap = 1 + rng.Uniform(10);
    std::vector<ChampionArchive> replicas;
    std::vector<ArchiveEntry> all;
    for (int r = 0; r < 6; ++r) {
      ChampionArchive a({cap, 1024});
      for (int i = 0; i < 15; ++i) {
        auto e = Entry(rng, 60, 8);
        all.push_back(e);
        ASSERT_TRUE(a.Insert(e).ok());
      }
      replicas.push_back(a);
    }
    // Reference: dedupe by id keeping the max, sort, take N.
    std::sort(all.begin(), all.end(), BetterThan);
    std::vector<ArchiveEntry> expect;
    for (const auto& e : all) {
      if (std::none_of(expect.begin(), expect.end(), [&](auto& x) { return x.id == e.id; }))
        expect.push_back(e);
    }
    if (expect.size() > cap) expect.resize(cap);
    // Random pairwise gossip until one replica has merged everything, in random orders.
    for (int order = 0; order < 5; ++order) {
      std::vector<ChampionArchive> reps = replicas;
      std::vector<size_t> idx(reps.size());
      for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      rng.Shuffle(idx);
      ChampionArchive acc({cap, 1024});
      for (size_t i : idx) {
        // Merge via a random intermediate to vary association.
        if (rng.Bernoulli(0.5)) acc.Merge(reps[i]);
        else {
          reps[i].Merge(acc);
          acc = reps[i];
        }
      }
      EXPECT_EQ(acc.entries(), expect);
    }
  }
}

TEST(ChampionArchive, SameIdHigherFitnessWins) {
  Bytes p = {1, 2, 3};
  ChampionArchive a({4, 100});
  ASSERT_TRUE(a.Insert(*MakeEntry(1.0, p)).ok());
  ASSERT_TRUE(*a.Insert(*MakeEntry(5.0, p)));
  ASSERT_FALSE(*a.Insert(*MakeEntry(2.0, p)));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a.entries()[0].fitness, 5.0);
}

TEST(ChampionArchive, RejectsBadEntries) {
  ChampionArchive a({4, 8});
  EXPECT_FALSE(MakeEntry(std::nan(""), {1}).ok());
  auto e = *MakeEntry(1.0, {1, 2});
  e.payload.push_back(3);  // id no longer matches
  EXPECT_FALSE(a.Insert(e).ok());
  EXPECT_FALSE(a.Insert(*MakeEntry(1.0, Bytes(9, 0))).ok());  // over payload limit
  auto inf = *MakeEntry(1.0, {1});
  inf.fitness = INFINITY;
  EXPECT_FALSE(a.Insert(inf).ok());
}

TEST(Merkle, EqualArchivesEqualRootsAndDifferencesLocalised) {
  Rng rng(3);
  ChampionArchive a = RandomArchive(rng, 32, 40);
  ChampionArchive b = a;
  ArchiveMerkle ma, mb;
  ma.Update(a);
  mb.Update(b);
  EXPECT_EQ(ma.root(), mb.root());
  ChampionArchive empty;
  ArchiveMerkle me;
  me.Update(empty);
  EXPECT_EQ(me.root(), Hash{});
  auto e = *MakeEntry(1000.0, {9, 9, 9});
  ASSERT_TRUE(b.Insert(e).ok());
  mb.Update(b);
  EXPECT_NE(ma.root(), mb.root());
  int differing_leaves = 0;
  for (int i = 0; i < kBuckets; ++i) differing_leaves += ma.leaf(i) != mb.leaf(i);
  // The new entry's leaf, plus at most the leaf of the entry it evicted.
  EXPECT_GE(differing_leaves, 1);
  EXPECT_LE(differing_leaves, 2);
  EXPECT_NE(ma.leaf(e.id[0]), mb.leaf(e.id[0]));
}

}  // namespace
}  // namespace swarm::crdt
