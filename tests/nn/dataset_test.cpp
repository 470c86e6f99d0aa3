#include "nn/dataset.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>

#include "common/config.h"
#include "nn/moe_config.h"
#include "support/test_inputs.h"

namespace swarm::nn {
namespace {

TEST(Csv, ParsesFeaturesAndLabels) {
  auto d = ParseCsv("1,2,0\n3.5, -4 ,2\n\n", "t.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->num_features, 2);
  EXPECT_EQ(d->num_classes, 3);
  EXPECT_EQ(d->features, (std::vector<float>{1, 2, 3.5f, -4}));
  EXPECT_EQ(d->labels, (std::vector<int64_t>{0, 2}));
}

TEST(Csv, HeaderSkippedWhenAsked) {
  CsvOptions o;
  o.header = true;
  auto d = ParseCsv("a,b,label\n1,2,1\n", "t.csv", o);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->size(), 1u);
  EXPECT_FALSE(ParseCsv("a,b,label\n1,2,1\n", "t.csv").ok());
}

void ExpectError(const std::string& text, const std::string& fragment, CsvOptions o = {}) {
  auto d = ParseCsv(text, "t.csv", o);
  ASSERT_FALSE(d.ok()) << text;
  EXPECT_NE(d.status().message().find(fragment), std::string::npos) << d.status();
}

TEST(Csv, ErrorsNameLineColumnAndValue) {
  ExpectError("1,2,0\n1,x,1\n", "t.csv:2: column 2 = 'x' is not a number");
  ExpectError("1,2,0\n1,2\n", "t.csv:2: has 2 columns, earlier rows have 3");
  ExpectError("1,2,1.5\n", "column 3 = '1.5' is not a label");
  ExpectError("1,2,-1\n", "is not a label");
  ExpectError("1,nan,1\n", "is not finite");
  ExpectError("5\n", "needs at least one feature and a label");
  ExpectError("\n\n", "no data rows");
  ExpectError("1,,1\n", "column 2 = '' is not a number");
  CsvOptions few;
  few.rows_max = 1;
  ExpectError("1,0\n2,0\n", "rows_max", few);
  CsvOptions narrow;
  narrow.columns_max = 2;
  ExpectError("1,2,3,4,0\n", "columns_max", narrow);
}

TEST(Csv, LoadsGzipAndPlainFiles) {
  const std::string dir = ::testing::TempDir();
  const std::string plain = dir + "/swarm_nn_plain.csv", gz = dir + "/swarm_nn_data.csv.gz";
  {
    std::ofstream(plain) << "1,2,1\n3,4,0\n";
    gzFile f = gzopen(gz.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string text = "9,8,7,2\n";
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
  }
  auto a = LoadCsv(plain);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->size(), 2u);
  auto b = LoadCsv(gz);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->num_features, 3);
  EXPECT_EQ(b->labels[0], 2);
  auto missing = LoadCsv(dir + "/does_not_exist.csv");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  std::remove(plain.c_str());
  std::remove(gz.c_str());
}

TEST(Csv, DigitsFileHasTheExpectedShape) {
  const std::string path = std::string(SWARM_SOURCE_DIR) + "/data/digits.csv.gz";
  SWARM_REQUIRE_INPUT(path, "the digits data set; run scripts/setup");
  auto d = LoadCsv(path);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->size(), 1797u);
  EXPECT_EQ(d->num_features, 64);
  EXPECT_EQ(d->num_classes, 10);
}

TEST(Split, DeterministicDisjointAndComplete) {
  Dataset d;
  d.num_features = 1;
  for (int i = 0; i < 100; ++i) {
    d.features.push_back(static_cast<float>(i));
    d.labels.push_back(i % 3);
  }
  d.num_classes = 3;
  auto s1 = SplitTrainTest(d, 0.25, 7), s2 = SplitTrainTest(d, 0.25, 7), s3 = SplitTrainTest(d, 0.25, 8);
  ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok());
  EXPECT_EQ(s1->test.size(), 25u);
  EXPECT_EQ(s1->train.size(), 75u);
  EXPECT_EQ(s1->test.features, s2->test.features);
  EXPECT_NE(s1->test.features, s3->test.features);
  std::vector<int> seen(100, 0);
  for (float v : s1->train.features) ++seen[static_cast<int>(v)];
  for (float v : s1->test.features) ++seen[static_cast<int>(v)];
  for (int c : seen) EXPECT_EQ(c, 1);
  EXPECT_FALSE(SplitTrainTest(d, 0.0, 1).ok());
  EXPECT_FALSE(SplitTrainTest(d, 0.001, 1).ok());  // empty test set
}

TEST(Standardizer, ZeroMeanUnitVarianceAndConstantColumns) {
  Dataset d;
  d.num_features = 2;
  d.features = {1, 5, 3, 5, 5, 5};
  d.labels = {0, 0, 0};
  const Standardizer s = Standardizer::Fit(d);
  EXPECT_FLOAT_EQ(s.mean[0], 3);
  EXPECT_FLOAT_EQ(s.stddev[1], 1);  // constant column
  ASSERT_TRUE(s.Apply(d).ok());
  EXPECT_NEAR(d.features[0] + d.features[2] + d.features[4], 0, 1e-6);
  EXPECT_FLOAT_EQ(d.features[1], 0);
  Dataset other;
  other.num_features = 3;
  EXPECT_FALSE(s.Apply(other).ok());
}

TEST(MoeConfig, DefaultsValidateAndCrossFieldRules) {
  ConfigSchema schema;
  AddMoeConfigKeys(schema);
  auto ok = MoeConfigFromConfig(schema.Defaults());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->top_k, 2);
  auto c = schema.ParseString("[moe]\nnum_experts = 1\ntop_k = 2\n", "m.toml");
  ASSERT_TRUE(c.ok());
  auto bad = MoeConfigFromConfig(*c);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("moe.top_k"), std::string::npos) << bad.status();
  auto range = schema.ParseString("[moe]\ntop_k = 3\n", "m.toml");
  EXPECT_FALSE(range.ok());
}

}  // namespace
}  // namespace swarm::nn
