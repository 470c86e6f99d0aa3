// ApplyNeatOverride: the "key=value" overrides a peer's IslandStep carries
// (node/evo_service.cpp) and `swarm evolve --set` passes. Bad values are
// errors naming the field and the value, and leave the config unchanged.
#include "evo/presets.h"

#include <gtest/gtest.h>

#include <string>

namespace swarm::evo {
namespace {

void ExpectRejected(const std::string& kv, const std::string& field, const std::string& value,
                    const std::string& why) {
  SCOPED_TRACE(kv);
  NeatConfig c;
  const NeatConfig before = c;
  const Status s = ApplyNeatOverride(c, kv);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("'" + field + "'"), std::string::npos) << s;
  EXPECT_NE(s.message().find(value), std::string::npos) << s;
  EXPECT_NE(s.message().find(why), std::string::npos) << s;
  // Unchanged: the fields a bad override could have touched.
  EXPECT_EQ(c.population_size, before.population_size);
  EXPECT_EQ(c.target_species, before.target_species);
  EXPECT_EQ(c.stagnation_generations, before.stagnation_generations);
  EXPECT_EQ(c.feed_forward, before.feed_forward);
  EXPECT_EQ(c.add_node_prob, before.add_node_prob);
}

TEST(NeatOverride, NanInfAndHugeValuesAreErrorsNamingFieldAndValue) {
  for (const char* v : {"nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e400"}) {
    ExpectRejected(std::string("population_size=") + v, "population_size", v, "not a finite number");
    ExpectRejected(std::string("add_node_prob=") + v, "add_node_prob", v, "not a finite number");
  }
  ExpectRejected("population_size=1e30", "population_size", "1e30", "whole number from 0 to 4294967295");
  ExpectRejected("target_species=4294967296", "target_species", "4294967296", "whole number");
  ExpectRejected("stagnation_generations=2.5", "stagnation_generations", "2.5", "whole number");
  ExpectRejected("protected_species=-1", "protected_species", "-1", "must not be negative");
  ExpectRejected("feed_forward=2", "feed_forward", "2", "must be 0 or 1");
  ExpectRejected("check_species_in_turn=0.5", "check_species_in_turn", "0.5", "must be 0 or 1");
  ExpectRejected("add_node_prob=abc", "add_node_prob", "abc", "not a number");
  ExpectRejected("add_node_prob=", "add_node_prob", "''", "not a number");
}

TEST(NeatOverride, InRangeButInvalidConfigIsRejectedAndLeavesConfigUnchanged) {
  // 4294967295 fits uint32_t but Validate bounds population_size (2..1e6).
  NeatConfig c;
  const Status s = ApplyNeatOverride(c, "population_size=4294967295");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("population_size"), std::string::npos) << s;
  EXPECT_EQ(c.population_size, NeatConfig{}.population_size);
  EXPECT_FALSE(ApplyNeatOverride(c, "add_node_prob=1.5").ok());
  EXPECT_EQ(c.add_node_prob, NeatConfig{}.add_node_prob);
}

TEST(NeatOverride, ValidValuesAreApplied) {
  NeatConfig c;
  ASSERT_TRUE(ApplyNeatOverride(c, "population_size=300").ok());
  EXPECT_EQ(c.population_size, 300u);
  ASSERT_TRUE(ApplyNeatOverride(c, "population_size=1e3").ok());
  EXPECT_EQ(c.population_size, 1000u);
  ASSERT_TRUE(ApplyNeatOverride(c, "target_species=0").ok());
  EXPECT_EQ(c.target_species, 0u);
  ASSERT_TRUE(ApplyNeatOverride(c, "feed_forward=0").ok());
  EXPECT_FALSE(c.feed_forward);
  ASSERT_TRUE(ApplyNeatOverride(c, "add_node_prob=0.25").ok());
  EXPECT_EQ(c.add_node_prob, 0.25);
  const Status unknown = ApplyNeatOverride(c, "no_such=1");
  EXPECT_NE(unknown.message().find("'no_such'"), std::string::npos) << unknown;
  EXPECT_FALSE(ApplyNeatOverride(c, "population_size").ok());
}

}  // namespace
}  // namespace swarm::evo
