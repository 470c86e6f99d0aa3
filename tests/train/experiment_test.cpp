#include "train/experiment.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "support/test_inputs.h"

namespace swarm::train {
namespace {

class SingleThreaded : public ::testing::Environment {
 public:
  void SetUp() override { torch::set_num_threads(1); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new SingleThreaded);

const std::string kDigits = std::string(SWARM_SOURCE_DIR) + "/data/digits.csv.gz";

StatusOr<nn::TrainTestSplit> Digits() {
  nn::DataConfig d;
  d.path = kDigits;
  return LoadExperimentData(d);
}

// Only a missing file skips (fails under CI); a file that exists but does not
// load (corrupt, wrong shape) is a failure of the test.
#define LOAD_DIGITS(data)                                                          \
  SWARM_REQUIRE_INPUT(kDigits, "the digits data set; run scripts/setup");         \
  auto data = Digits();                                                            \
  ASSERT_TRUE(data.ok()) << data.status()

ExperimentConfig Small() {
  ExperimentConfig c;
  c.model.d_model = 32;
  c.model.num_experts = 4;
  c.model.expert_hidden = 32;
  c.model.top_k = 2;
  c.trainers = 4;
  c.steps = 120;
  c.batch_size = 32;
  c.lr = 0.1;
  c.seed = 5;
  return c;
}

TEST(Experiment, CleanRunLearnsDigits) {
  LOAD_DIGITS(data);
  ExperimentConfig c = Small();
  int reports = 0;
  c.eval_every = 60;
  auto r = RunExperiment(c, data->train, data->test, [&](const ProgressPoint&) { ++reports; });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->test_accuracy, 0.85) << "loss " << r->final_train_loss;
  EXPECT_EQ(reports, 2);
  EXPECT_EQ(r->history.size(), 2u);
  EXPECT_GT(r->parameters, 0u);
}

TEST(Experiment, SameSeedSameResult) {
  LOAD_DIGITS(data);
  ExperimentConfig c = Small();
  c.steps = 20;
  auto a = RunExperiment(c, data->train, data->test);
  auto b = RunExperiment(c, data->train, data->test);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->test_accuracy, b->test_accuracy);
  EXPECT_EQ(a->final_train_loss, b->final_train_loss);
}

TEST(Experiment, SignFlipBreaksMeanButNotMedian) {
  LOAD_DIGITS(data);
  ExperimentConfig c = Small();
  c.trainers = 5;
  c.byzantine = 2;
  c.attack.name = "sign_flip";
  c.attack.sign_flip_scale = 4;
  c.aggregator.name = "mean";
  auto mean = RunExperiment(c, data->train, data->test);
  c.aggregator.name = "median";
  auto median = RunExperiment(c, data->train, data->test);
  ASSERT_TRUE(mean.ok() && median.ok()) << mean.status() << median.status();
  EXPECT_LT(mean->test_accuracy, 0.5);
  EXPECT_GT(median->test_accuracy, 0.8);
}

TEST(Experiment, BadConfigIsAnError) {
  nn::Dataset tiny;
  tiny.num_features = 2;
  tiny.num_classes = 2;
  tiny.features = {0, 0};
  tiny.labels = {0};
  ExperimentConfig c = Small();
  auto r = RunExperiment(c, tiny, tiny);  // 1 row < 4 trainers
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  c.aggregator.name = "nope";
  EXPECT_FALSE(RunExperiment(c, tiny, tiny).ok());
}

}  // namespace
}  // namespace swarm::train
