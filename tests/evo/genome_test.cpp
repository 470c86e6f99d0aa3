#include <gtest/gtest.h>

#include <cmath>

#include "common/rng.h"
#include "evo/genome_codec.h"
#include "evo/network.h"
#include "evo/operators.h"

namespace swarm::evo {
namespace {

Genome Evolved(uint64_t seed, bool ff, int rounds) {
  NeatConfig cfg;
  cfg.feed_forward = ff;
  Rng rng(seed);
  Genome g = RandomInitialGenome(3, 2, cfg, rng);
  for (int i = 0; i < rounds; ++i) {
    MutateAddNode(g, cfg, rng);
    MutateAddConnection(g, cfg, rng);
    MutateWeights(g, cfg, rng);
    if (i % 3 == 0) MutateToggleEnable(g, rng);
  }
  return g;
}

TEST(Innovation, SameLinkSameIdEverywhere) {
  EXPECT_EQ(ConnectionInnovation(1, 5), ConnectionInnovation(1, 5));
  EXPECT_NE(ConnectionInnovation(1, 5), ConnectionInnovation(5, 1));
  EXPECT_EQ(SplitNodeId(42, 0), SplitNodeId(42, 0));
  EXPECT_NE(SplitNodeId(42, 0), SplitNodeId(42, 1));
  EXPECT_NE(SplitNodeId(42, 0) >> 63, 0u);
}

TEST(Innovation, IndependentIslandsAgreeOnSplitNodes) {
  // Two genomes that split the same link, in different processes/islands,
  // produce the same hidden node and the same two new innovations.
  NeatConfig cfg;
  Rng r1(1), r2(999);
  Genome a = MinimalGenome(2, 1, true, true), b = a;
  Genome single = MinimalGenome(0, 1, true, true);  // only bias -> out
  Genome s1 = single, s2 = single;
  ASSERT_TRUE(MutateAddNode(s1, cfg, r1));
  ASSERT_TRUE(MutateAddNode(s2, cfg, r2));
  EXPECT_EQ(s1.nodes, s2.nodes);
  std::vector<Innovation> i1, i2;
  for (auto& c : s1.connections) i1.push_back(c.innovation);
  for (auto& c : s2.connections) i2.push_back(c.innovation);
  EXPECT_EQ(i1, i2);
  (void)a, (void)b;
}

TEST(Operators, MutationsKeepFeedForwardGenomesValidAndAcyclic) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Genome g = Evolved(seed, true, 40);
    ASSERT_TRUE(ValidateGenome(g, 8.0).ok()) << ValidateGenome(g, 8.0);
    EXPECT_GT(g.HiddenCount(), 0u);
  }
}

TEST(Operators, RecurrentGenomesMayHoldCyclesAndStillRun) {
  bool saw_cycle = false;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Genome g = Evolved(seed, false, 40);
    ASSERT_TRUE(ValidateGenome(g, 8.0).ok());
    Genome as_ff = g;
    as_ff.feed_forward = true;
    if (!ValidateGenome(as_ff, 8.0).ok()) saw_cycle = true;
    Network net(g);
    const double in[3] = {0.1, 0.2, 0.3};
    for (int t = 0; t < 5; ++t)
      for (double o : net.Activate(in)) EXPECT_TRUE(std::isfinite(o));
  }
  EXPECT_TRUE(saw_cycle);
}

TEST(Operators, CrossoverTakesFitterStructure) {
  NeatConfig cfg;
  Rng rng(5);
  Genome a = Evolved(3, true, 10), b = Evolved(4, true, 10);
  Genome c = Crossover(a, b, cfg, rng);
  ASSERT_EQ(c.connections.size(), a.connections.size());
  EXPECT_EQ(c.nodes, a.nodes);
  EXPECT_TRUE(ValidateGenome(c, 8.0).ok());
}

TEST(Operators, CrossoverAveragingTakesTheMeanOfMatchingWeights) {
  NeatConfig cfg;
  cfg.crossover_average_prob = 1.0;
  Rng rng(5);
  Genome a = MinimalGenome(2, 1, true, true), b = a;
  for (size_t i = 0; i < a.connections.size(); ++i) {
    a.connections[i].weight = 1.0 + i;
    b.connections[i].weight = -3.0 + i;
  }
  Genome c = Crossover(a, b, cfg, rng);
  for (size_t i = 0; i < c.connections.size(); ++i)
    EXPECT_DOUBLE_EQ(c.connections[i].weight, -1.0 + i);
  cfg.crossover_average_prob = 0;  // one parent's weight, never the mean
  Genome d = Crossover(a, b, cfg, rng);
  for (size_t i = 0; i < d.connections.size(); ++i) {
    const double w = d.connections[i].weight;
    EXPECT_TRUE(w == a.connections[i].weight || w == b.connections[i].weight) << w;
  }
}

TEST(Operators, ExclusiveMutationsNeverMixStructureAndWeights) {
  NeatConfig cfg;
  cfg.exclusive_mutations = true;
  cfg.add_node_prob = 0.5;
  cfg.add_connection_prob = 0.5;
  cfg.weight_mutate_prob = 1.0;
  cfg.toggle_enable_prob = 0;
  Rng rng(11);
  int structural = 0, weights = 0;
  for (int i = 0; i < 200; ++i) {
    const Genome before = Evolved(100 + i, false, 2);
    Genome g = before;
    Mutate(g, cfg, rng);
    bool weight_changed = false;
    for (const auto& c : before.connections) {
      const ConnGene* n = g.FindConnection(c.innovation);
      ASSERT_NE(n, nullptr);
      if (n->weight != c.weight) weight_changed = true;
    }
    const bool grew = g.connections.size() != before.connections.size();
    EXPECT_FALSE(grew && weight_changed) << "offspring " << i;
    structural += grew, weights += weight_changed;
  }
  EXPECT_GT(structural, 50);
  EXPECT_GT(weights, 20);
}

TEST(Operators, UniformWeightMutationStaysWithinPower) {
  NeatConfig cfg;
  cfg.weight_uniform_power = 2.5;
  Rng rng(3);
  int replaced_or_kept = 0;
  for (int i = 0; i < 100; ++i) {
    const Genome before = Evolved(200 + i, true, 3);
    Genome g = before;
    MutateWeights(g, cfg, rng);
    for (size_t k = 0; k < g.connections.size(); ++k) {
      const double w0 = before.connections[k].weight, w = g.connections[k].weight;
      ASSERT_LE(std::fabs(w), cfg.weight_abs_max);
      // Perturbed by at most the power (clamped), kept, or replaced by a
      // value within the power.
      const bool perturbed = std::fabs(w - w0) <= cfg.weight_uniform_power + 1e-12;
      if (!perturbed) EXPECT_LE(std::fabs(w), cfg.weight_uniform_power);
      if (w == w0 || !perturbed) ++replaced_or_kept;
    }
  }
  EXPECT_GT(replaced_or_kept, 0);  // severe events keep or replace some links
}

TEST(Operators, CompatibilityDistance) {
  NeatConfig cfg;
  Genome a = Evolved(3, true, 10);
  EXPECT_DOUBLE_EQ(CompatibilityDistance(a, a, cfg), 0.0);
  Genome b = a;
  b.connections[0].weight += 1.0;
  EXPECT_NEAR(CompatibilityDistance(a, b, cfg), cfg.c3_weight / a.connections.size(), 1e-12);
  Genome c = Evolved(8, true, 10);
  EXPECT_GT(CompatibilityDistance(a, c, cfg), 0.0);
  EXPECT_DOUBLE_EQ(CompatibilityDistance(a, c, cfg), CompatibilityDistance(c, a, cfg));
}

TEST(Codec, RoundTripIsExactAndCanonical) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    for (bool ff : {true, false}) {
      Genome g = Evolved(seed, ff, 15);
      const std::string s = EncodeGenome(g);
      auto d = DecodeGenome(s);
      ASSERT_TRUE(d.ok()) << d.status();
      EXPECT_EQ(*d, g);
      EXPECT_EQ(EncodeGenome(*d), s);
    }
  }
}

std::string Json(const std::string& conns, const std::string& hidden = "[]", bool ff = true) {
  return std::string(R"({"format":"swarm.neat.genome","version":1,"inputs":1,"outputs":1,)") +
         "\"feed_forward\":" + (ff ? "true" : "false") + ",\"hidden\":" + hidden +
         ",\"connections\":" + conns + "}";
}

std::string Conn(uint64_t in, uint64_t out, const std::string& w = "0.5", int64_t innov = -1) {
  const uint64_t i = innov < 0 ? ConnectionInnovation(in, out) : static_cast<uint64_t>(innov);
  return "{\"innov\":" + std::to_string(i) + ",\"in\":" + std::to_string(in) +
         ",\"out\":" + std::to_string(out) + ",\"weight\":" + w + ",\"enabled\":true}";
}

void ExpectRejected(const std::string& text, const std::string& reason_part) {
  auto d = DecodeGenome(text);
  ASSERT_FALSE(d.ok()) << text;
  EXPECT_NE(std::string(d.status().message()).find(reason_part), std::string::npos)
      << d.status().message();
}

TEST(Codec, AcceptsMinimal) { EXPECT_TRUE(DecodeGenome(Json("[" + Conn(1, 2) + "]")).ok()); }

TEST(Codec, RejectsBadGenomesWithReasons) {
  const uint64_t h = SplitNodeId(7, 0), h2 = SplitNodeId(8, 0);
  const std::string hid = "[" + std::to_string(h) + "," + std::to_string(h2) + "]";
  ExpectRejected(Json("[" + Conn(1, 99) + "]"), "dangling");
  ExpectRejected(Json("[" + Conn(1, 2) + "," + Conn(1, 2) + "]"), "duplicate");
  ExpectRejected(Json("[" + Conn(1, 2, "0.5", 12345) + "]"), "swarm-wide rule");
  ExpectRejected(Json("[" + Conn(1, 2, "1e300") + "]"), "weight");
  ExpectRejected(Json("[" + Conn(1, 2, "NaN") + "]"), "not valid JSON");
  ExpectRejected(Json("[" + Conn(1, 2, "\"x\"") + "]"), "weight");
  ExpectRejected(Json("[" + Conn(2, 1) + "]"), "may not enter");
  ExpectRejected(Json("[" + Conn(h, h2) + "," + Conn(h2, h) + "]", hid), "cycle");
  EXPECT_TRUE(DecodeGenome(Json("[" + Conn(h, h2) + "," + Conn(h2, h) + "]", hid, false)).ok());
  ExpectRejected(Json("[]", "[5]"), "hidden node id");
  ExpectRejected(Json("[]", "[" + std::to_string(h) + "," + std::to_string(h) + "]"), "duplicate");
  ExpectRejected("[1,2]", "not an object");
  ExpectRejected("{", "not valid JSON");
  ExpectRejected(std::string(100, '['), "nesting depth");
  ExpectRejected(R"({"format":"other"})", "format");
  GenomeLimits small;
  small.genome_bytes_max = 10;
  EXPECT_FALSE(DecodeGenome(Json("[]"), small).ok());
}

}  // namespace
}  // namespace swarm::evo
