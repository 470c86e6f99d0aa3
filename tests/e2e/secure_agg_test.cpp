// End-to-end: `swarm train --secure-agg ckks` — trainer peers send CKKS-
// encrypted worker momenta to an aggregator peer that holds no secret key;
// the trainers decrypt only the sums and train to a useful accuracy. A robust
// aggregator with --secure-agg ckks is refused before anything starts.
#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "e2e/process.h"
#include "support/test_inputs.h"

namespace swarm::e2e {
namespace {

const std::string kData = std::string(SWARM_SOURCE_DIR) + "/data/digits.csv.gz";

double FinalAccuracy(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"(test accuracy: ([0-9.]+)%)"))) return -1;
  return std::stod(m[1]);
}

TEST(E2eSecureAgg, TrainersLearnFromEncryptedSumsTheAggregatorCannotRead) {
  SWARM_REQUIRE_INPUT(kData, "the digits data set; run scripts/setup");
  const std::string dir = TempDir("secure-agg");
  RunResult r = RunSwarm({SwarmBinary(), "train", "--secure-agg", "ckks", "--expert-hosts", "0", "--dir", dir,
                          "--set", "data.path=" + kData, "--set", "train.trainers=3", "--set", "train.steps=30",
                          "--set", "train.lr=0.15",
                          // Half-width experts: ~40k averaged values instead of ~72k, so
                          // the run stays well under a minute on a loaded 2-core machine.
                          "--set", "moe.expert_hidden=32", "--round-deadline-ms", "3000", "--timeout", "100",
                          // Peers otherwise wait up to 5 s for in-flight calls at the end.
                          "--node-set", "node.shutdown_drain_ms=1000"},
                         120);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_GT(FinalAccuracy(r.out), 70.0) << r.out;
  // The aggregator summed rounds of encrypted contributions without the secret key.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m, std::regex(R"(secure aggregation: aggregator a0 \(CKKS N = (\d+), secret_key_loaded=false\) summed (\d+) rounds, (\d+) encrypted contributions of d = (\d+))")))
      << r.out;
  EXPECT_GE(std::stoi(m[2]), 25) << r.out;  // of 30; a round may close below quorum on a loaded machine
  EXPECT_GE(std::stoi(m[3]), 2 * std::stoi(m[2])) << r.out;
  // It was given the public files only; the trainers' directory has the secret.
  EXPECT_FALSE(std::filesystem::exists(dir + "/run/fhe-public/secret.key"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/run/fhe-keys/secret.key"));
  std::filesystem::remove_all(dir);
}

TEST(E2eSecureAgg, RobustAggregatorIsRefusedBeforeTheRun) {
  RunResult r = RunSwarm({SwarmBinary(), "train", "--secure-agg", "ckks", "--set", "aggregator.name=centered_clip",
                          "--set", "data.path=" + kData},
                         30);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--secure-agg ckks"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("aggregator.name"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("centered_clip"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("trainer peers"), std::string::npos) << r.out;  // nothing was spawned
}

}  // namespace
}  // namespace swarm::e2e
