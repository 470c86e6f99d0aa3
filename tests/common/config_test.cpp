#include "common/config.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

ConfigSchema Schema() {
  ConfigSchema s;
  s.Int("net.max_message_bytes", 64 << 20, 1024, 1 << 30, "Largest gRPC message.")
      .Double("net.backoff_multiplier", 2.0, 1.0, 10.0, "Backoff growth.")
      .String("node.region", "local", {}, "Region label.")
      .String("log.format", "text", {"text", "json"}, "Log format.")
      .Bool("tls.enabled", false, "Use TLS.")
      .StringList("node.seeds", {}, "Seed peers.");
  return s;
}

TEST(Config, DefaultsWhenFileEmpty) {
  auto c = Schema().ParseString("", "x.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->GetInt("net.max_message_bytes"), 64 << 20);
  EXPECT_FALSE(c->IsSet("net.max_message_bytes"));
}

TEST(Config, ParsesSectionsAndTypes) {
  auto c = Schema().ParseString(
      "[net]\nmax_message_bytes = 2048\nbackoff_multiplier = 3\n"
      "[node]\nregion = \"eu\"\nseeds = [\"a:1\", \"b:2\"]\n[tls]\nenabled = true\n",
      "x.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->GetInt("net.max_message_bytes"), 2048);
  EXPECT_DOUBLE_EQ(c->GetDouble("net.backoff_multiplier"), 3.0);
  EXPECT_EQ(c->GetString("node.region"), "eu");
  EXPECT_EQ(c->GetStringList("node.seeds").size(), 2u);
  EXPECT_TRUE(c->GetBool("tls.enabled"));
}

TEST(Config, OutOfRangeNamesFileLineKeyValueAndRange) {
  auto c = Schema().ParseString("[net]\n\nmax_message_bytes = 12\n", "node.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "node.toml:3: key 'net.max_message_bytes' = 12 is out of range [1024, 1073741824]");
}

TEST(Config, UnknownKeySuggestsClosest) {
  auto c = Schema().ParseString("[net]\nmax_mesage_bytes = 2048\n", "node.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "node.toml:2: unknown key 'net.max_mesage_bytes' (did you mean "
            "'net.max_message_bytes'?)");
}

TEST(Config, UnknownKeyFarFromAnyHasNoSuggestion) {
  auto c = Schema().ParseString("zzzzzzzzzzzzzzzzzz = 1\n", "n.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "n.toml:1: unknown key 'zzzzzzzzzzzzzzzzzz'");
}

TEST(Config, WrongTypeNamesExpectedType) {
  auto c = Schema().ParseString("[tls]\nenabled = \"yes\"\n", "n.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "n.toml:2: key 'tls.enabled' = \"yes\" must be a boolean");
}

TEST(Config, EnumListsAllowedValues) {
  auto c = Schema().ParseString("[log]\nformat = \"xml\"\n", "n.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "n.toml:2: key 'log.format' = \"xml\" is not one of: text, json");
}

TEST(Config, SyntaxErrorNamesLine) {
  auto c = Schema().ParseString("[net]\nmax_message_bytes = = 3\n", "n.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(std::string(c.status().message()).rfind("n.toml:2: TOML syntax error", 0) == 0)
      << c.status();
}

TEST(Config, MissingFileIsNotFound) {
  auto c = Schema().ParseFile("/nonexistent/dir/node.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("/nonexistent/dir/node.toml"), std::string::npos);
}

TEST(Config, OverridesAreValidated) {
  ConfigSchema s = Schema();
  auto ok = s.ApplyOverrides(s.Defaults(), {"node.region=us", "net.max_message_bytes=4096"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->GetString("node.region"), "us");
  EXPECT_EQ(ok->GetInt("net.max_message_bytes"), 4096);
  auto bad = s.ApplyOverrides(s.Defaults(), {"net.max_message_bytes=1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--set: key 'net.max_message_bytes' = 1 is out of range [1024, 1073741824]");
  auto unknown = s.ApplyOverrides(s.Defaults(), {"node.regoin=us"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "--set: unknown key 'node.regoin' (did you mean 'node.region'?)");
}

TEST(Config, ExampleTomlParsesBackToDefaults) {
  ConfigSchema s = Schema();
  auto c = s.ParseString(s.ExampleToml(), "example");
  ASSERT_TRUE(c.ok()) << c.status() << "\n" << s.ExampleToml();
  EXPECT_EQ(c->values(), s.Defaults().values());
}

TEST(Config, EditDistance) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("same", "same"), 0u);
}

}  // namespace
}  // namespace swarm

TEST(ConfigSchema, IntKeyWithInt64MaxBoundAcceptsValues) {
  swarm::ConfigSchema s;
  s.Int("a.seed", 1, 0, INT64_MAX, "seed");
  auto c = s.ApplyOverrides(s.Defaults(), {"a.seed=42"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->GetInt("a.seed"), 42);
  EXPECT_FALSE(s.ApplyOverrides(s.Defaults(), {"a.seed=-1"}).ok());
}
