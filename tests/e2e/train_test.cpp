// End-to-end: `swarm train` runs trainer peers (separate `swarm node`
// processes averaging over signed envelopes) with a Byzantine trainer; a
// trainer (and, when built, an expert host) is SIGKILLed mid-run and training
// still finishes.
#include <filesystem>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "e2e/process.h"
#include "support/test_inputs.h"

namespace swarm::e2e {
namespace {

const std::string kData = std::string(SWARM_SOURCE_DIR) + "/data/digits.csv.gz";

// The last progress line ("... trainers alive N (B byzantine) ..."), or "".
std::string LastProgressLine(const std::string& out) {
  std::string last;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.find("trainers alive ") != std::string::npos) last = line;
  }
  return last;
}

// The number of expert hosts `swarm train` started ("N expert host(s)"), or -1.
int ExpertHosts(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"(: ([0-9]+) expert host\(s\))"))) return -1;
  return std::stoi(m[1]);
}

// The percentage of the final "test accuracy: X.XX%" line, or -1.
double FinalAccuracy(const std::string& out) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"(test accuracy: ([0-9.]+)%)"))) return -1;
  return std::stod(m[1]);
}

std::vector<std::string> TrainArgs(const std::string& dir, int steps) {
  return {SwarmBinary(), "train", "--dir", dir, "--set", "data.path=" + kData, "--set",
          "train.trainers=4", "--set", "train.byzantine=1", "--set", "train.steps=" + std::to_string(steps),
          "--set", "train.lr=0.15", "--set", "aggregator.name=centered_clip", "--round-deadline-ms", "1500",
          "--timeout", "80"};
}

TEST(E2eTrain, ByzantineTrainerIsOutvotedAndTheRunFinishes) {
  SWARM_REQUIRE_INPUT(kData, "the digits data set; run scripts/setup");
  const std::string dir = TempDir("train-byz");
  auto args = TrainArgs(dir, 40);
  for (const std::string s : {"--set", "attack.name=sign_flip", "--set", "attack.sign_flip_scale=20",
                              "--expert-hosts", "0"}) {
    args.push_back(s);
  }
  RunResult r = RunSwarm(args, 90);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const double acc = FinalAccuracy(r.out);
  // 40 steps of 4 x 32 rows; a sign-flipped x20 vector through the plain mean
  // would drive the model to chance (~10%).
  EXPECT_GT(acc, 70.0) << r.out;
  EXPECT_NE(r.out.find("4 trainer peers (1 byzantine)"), std::string::npos) << r.out;
  // No peer died: every trainer, the Byzantine one included, is counted alive
  // on the last progress line, and none exited without being told to (swarm
  // train names such a peer: "== peer tN (pid P) exited with status S").
  EXPECT_EQ(r.out.find("== peer "), std::string::npos) << r.out;
  EXPECT_NE(LastProgressLine(r.out).find("trainers alive 4 (1 byzantine)"), std::string::npos) << r.out;
  if (!HasFailure()) std::filesystem::remove_all(dir);  // kept for the logs otherwise
}

// The trust boundary, end to end: a process with a freshly generated, valid
// ML-DSA key but no admission grant calls Backward/Forward on every expert host
// for the whole run (swarm train --rogue). Every one of its calls is refused
// as not_admitted, none is accepted, and training is unharmed.
TEST(E2eTrain, UnadmittedRogueIsRefusedOnEveryCallToTheExpertHosts) {
  SWARM_REQUIRE_INPUT(kData, "the digits data set; run scripts/setup");
  const std::string dir = TempDir("train-rogue");
  auto args = TrainArgs(dir, 40);
  for (const std::string s : {"--set", "attack.name=sign_flip", "--set", "attack.sign_flip_scale=100", "--rogue"}) {
    args.push_back(s);
  }
  RunResult r = RunSwarm(args, 90);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const size_t at = r.out.find("rogue (valid key, no grant): ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
  // "T calls to the expert hosts: R refused (not_admitted R), U unanswered (host down or slow), 0 accepted"
  const long calls = std::stol(line.substr(line.find(": ") + 2));
  EXPECT_GT(calls, 0) << line;
  const size_t refused_at = line.find("hosts: ") + 7;
  const long refused = std::stol(line.substr(refused_at));
  EXPECT_GT(refused, 0) << line;
  EXPECT_NE(line.find(std::to_string(refused) + " refused (not_admitted " + std::to_string(refused) + ")"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(", 0 accepted"), std::string::npos) << line;
  EXPECT_GT(FinalAccuracy(r.out), 70.0) << r.out;
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

TEST(E2eTrain, AKilledTrainerDoesNotStopTraining) {
  SWARM_REQUIRE_INPUT(kData, "the digits data set; run scripts/setup");
  const std::string dir = TempDir("train-kill");
  auto args = TrainArgs(dir, 40);
  for (const std::string s : {"--set", "attack.name=alie", "--kill-trainer-at", "10", "--kill-expert-host-at",
                              "15"}) {
    args.push_back(s);
  }
  RunResult r = RunSwarm(args, 90);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SIGKILL trainer t3"), std::string::npos) << r.out;
  // The expert host was killed too, and the run went on without it: the last
  // progress line counts one host fewer.
  const int hosts = ExpertHosts(r.out);
  ASSERT_GT(hosts, 0) << "swarm train started no expert host, so --kill-expert-host-at had nothing to kill\n"
                      << r.out;
  EXPECT_NE(r.out.find("== SIGKILL expert host e0"), std::string::npos) << r.out;
  const std::string last = LastProgressLine(r.out);
  EXPECT_NE(last.find("expert hosts " + std::to_string(hosts - 1) + "/" + std::to_string(hosts)),
            std::string::npos)
      << last;
  EXPECT_NE(last.find("trainers alive 3 (1 byzantine)"), std::string::npos) << last;
  EXPECT_NE(r.out.find("step 40/40"), std::string::npos) << r.out;
  EXPECT_GT(FinalAccuracy(r.out), 60.0) << r.out;
  if (!HasFailure()) std::filesystem::remove_all(dir);  // kept for the logs otherwise
}

TEST(E2eTrain, RequireCommittedRootCommitsEveryRoundOnAllFourMembers) {
  SWARM_REQUIRE_INPUT(kData, "the digits data set; run scripts/setup");
  const std::string dir = TempDir("train-rcr");
  auto args = TrainArgs(dir, 10);
  for (const std::string s : {"--set", "attack.name=sign_flip", "--expert-hosts", "0", "--require-committed-root"}) {
    args.push_back(s);
  }
  RunResult r = RunSwarm(args, 120);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(committee: ([0-9]+) round roots committed)"))) << r.out;
  EXPECT_GE(std::stoi(m[1]), 10) << r.out;
  // Every member holds the same chain: one head hash, four times.
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(c0 [0-9]+ records head ([0-9a-f]+))"))) << r.out;
  const std::string head = m[1];
  for (const std::string c : {"c1", "c2", "c3"}) {
    EXPECT_NE(r.out.find(c + " " ), std::string::npos) << r.out;
  }
  size_t heads = 0;
  for (size_t p = r.out.find("head " + head); p != std::string::npos; p = r.out.find("head " + head, p + 1)) ++heads;
  EXPECT_EQ(heads, 4u) << r.out;
  if (!HasFailure()) std::filesystem::remove_all(dir);  // kept for the logs otherwise
}

TEST(E2eTrain, UnknownAggregatorListsTheValidOnes) {
  RunResult r = RunSwarm({SwarmBinary(), "train", "--set", "aggregator.name=krum2"}, 30);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("centered_clip"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace swarm::e2e
