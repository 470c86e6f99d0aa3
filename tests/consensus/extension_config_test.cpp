// The [consensus] node extension's config: off by default, and every bad
// value refused with the key, the value and what is allowed.
#include <gtest/gtest.h>

#include "node/config.h"
#include "node/consensus/extension.h"

namespace swarm::node {
namespace {

StatusOr<std::unique_ptr<Extension>> Make(const std::vector<std::string>& sets) {
  const ExtensionFactory f = ConsensusExtensionFactory();
  ConfigSchema schema;
  f.add_config_keys(schema);
  SWARM_ASSIGN_OR_RETURN(Config c, schema.ApplyOverrides(schema.Defaults(), sets));
  return f.make(c, NodeConfig{});
}

std::string Error(const std::vector<std::string>& sets) {
  auto r = Make(sets);
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(ConsensusExtensionConfig, OffByDefaultOnWhenEnabled) {
  auto off = Make({});
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, nullptr);
  auto on = Make({"consensus.enabled=true"});
  ASSERT_TRUE(on.ok()) << on.status();
  ASSERT_NE(*on, nullptr);
  EXPECT_EQ((*on)->name(), "consensus");
  EXPECT_EQ((*on)->services().size(), 1u);
}

TEST(ConsensusExtensionConfig, BadValuesNameTheKeyAndValue) {
  EXPECT_NE(Error({"consensus.enabled=true", R"(consensus.committee=["127.0.0.1:1","127.0.0.1:2"])"})
                .find("consensus.committee: 2 addresses"),
            std::string::npos);
  EXPECT_NE(Error({"consensus.enabled=true",
                   R"(consensus.committee=["127.0.0.1:1","127.0.0.1:2","127.0.0.1:3","nohost"])"})
                .find("consensus.committee[3] = 'nohost'"),
            std::string::npos);
  EXPECT_NE(Error({"consensus.enabled=true", "consensus.log_window=20"}).find("consensus.log_window = 20"),
            std::string::npos);
  EXPECT_NE(Error({"consensus.enabled=true", "consensus.committee_size=5"}).find("consensus.committee_size = 5"),
            std::string::npos);
  // Out-of-range values are refused by the schema itself, naming the key.
  EXPECT_NE(Error({"consensus.batch_size=0"}).find("consensus.batch_size"), std::string::npos);
}

}  // namespace
}  // namespace swarm::node
