#include "train/experiment_config.h"

#include <gtest/gtest.h>

namespace swarm::train {
namespace {

ConfigSchema Schema() {
  ConfigSchema s;
  nn::AddMoeConfigKeys(s);
  AddTrainConfigKeys(s);
  return s;
}

TEST(ExperimentConfig, ParsesTomlIntoSpecs) {
  auto c = Schema().ParseString(R"(
[model]
d_model = 32
[moe]
num_experts = 4
top_k = 1
[train]
trainers = 7
byzantine = 2
[aggregator]
name = "centered_clip"
clip_iterations = 5
[attack]
name = "alie"
)", "test.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  auto e = ExperimentConfigFromConfig(*c);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->model.d_model, 32);
  EXPECT_EQ(e->model.num_experts, 4);
  EXPECT_EQ(e->trainers, 7);
  EXPECT_EQ(e->aggregator.name, "centered_clip");
  EXPECT_EQ(e->aggregator.byzantine, 2);
  EXPECT_EQ(e->aggregator.clip_iterations, 5);
  EXPECT_EQ(e->attack.trainers, 7);
  EXPECT_TRUE(std::isnan(e->attack.alie_z));
}

TEST(ExperimentConfig, UnknownAggregatorListsValidOnes) {
  auto c = Schema().ParseString("[aggregator]\nname = \"krum\"\n", "bad.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("aggregator.name"), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find("multi_krum"), std::string::npos) << c.status();
}

TEST(ExperimentConfig, UnknownAttackListsValidOnes) {
  auto c = Schema().ParseString("[attack]\nname = \"flip\"\n", "bad.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("sign_flip"), std::string::npos) << c.status();
}

TEST(ExperimentConfig, CrossFieldRulesNameTheKey) {
  auto c = Schema().ParseString("[train]\ntrainers = 3\nbyzantine = 3\n", "bad.toml");
  ASSERT_TRUE(c.ok());
  auto e = ExperimentConfigFromConfig(*c);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("train.byzantine"), std::string::npos) << e.status();
  auto g = Schema().ParseString("[moe]\nnum_experts = 6\ngroups = 4\n", "bad.toml");
  ASSERT_TRUE(g.ok());
  auto eg = ExperimentConfigFromConfig(*g);
  ASSERT_FALSE(eg.ok());
  EXPECT_NE(eg.status().message().find("moe.groups"), std::string::npos) << eg.status();
}

TEST(ExperimentConfig, DirectStructUnknownNamesRejected) {
  ExperimentConfig e;
  e.aggregator.name = "avg";
  EXPECT_FALSE(e.Validate().ok());
  e.aggregator.name = "median";
  e.attack.name = "evil";
  EXPECT_FALSE(e.Validate().ok());
  e.attack.name = "alie";
  e.trainers = 7;
  e.byzantine = 2;
  EXPECT_TRUE(e.Validate().ok()) << e.Validate();
}

}  // namespace
}  // namespace swarm::train
