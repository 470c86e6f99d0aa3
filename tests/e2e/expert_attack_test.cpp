// End-to-end: an admitted Byzantine trainer attacks the expert path too.
// `swarm train` runs 3 expert hosts (experts.update = round: per-round robust
// updates) and 4 trainer peers, one Byzantine whose job attack crafts both its
// averaged momentum and the dL/dy of every expert Backward (sign flip x100,
// then noise sigma = 100), and which also replays every Backward and sends an
// oversized one every 20 rounds. Final accuracy must stay within 2 points of
// the clean run of the same job; the hosts must have clipped the attacker's
// contributions and refused every replayed and oversized call.
#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "e2e/process.h"
#include "support/test_inputs.h"

namespace swarm::e2e {
namespace {

const std::string kData = std::string(SWARM_SOURCE_DIR) + "/data/digits.csv.gz";
constexpr int kSteps = 150;

double Match(const std::string& out, const std::string& re) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(re))) return -1;
  return std::stod(m[1]);
}

std::vector<std::string> Args(const std::string& dir) {
  return {SwarmBinary(), "train", "--dir", dir, "--set", "data.path=" + kData, "--set", "train.trainers=4",
          "--set", "train.byzantine=1", "--set", "train.steps=" + std::to_string(kSteps), "--set",
          "train.lr=0.15", "--set", "moe.num_experts=4", "--set", "aggregator.name=centered_clip",
          "--round-deadline-ms", "1500", "--timeout", "200"};
}

// The hosts' and attacker's figures from the "experts:" summary line.
void ExpectExpertPathDefended(const std::string& out) {
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(experts: ([0-9]+) live host\(s\) applied ([0-9]+) robust)")))
      << out;
  EXPECT_GE(std::stoi(m[2]), kSteps) << out;  // one step per round per expert replica, not per call
  EXPECT_GT(Match(out, R"(contributions, ([0-9]+) clipped)"), 0) << out;
  EXPECT_GT(Match(out, R"(refused[^;]* duplicate=([0-9]+))"), 0) << out;
  EXPECT_GT(Match(out, R"(refused[^;]* oversized=([0-9]+))"), 0) << out;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(sent ([0-9]+) replayed \+ ([0-9]+) oversized expert calls, ([0-9]+) accepted)")))
      << out;
  EXPECT_GT(std::stoi(m[1]), 0) << out;
  EXPECT_GT(std::stoi(m[2]), 0) << out;
  EXPECT_EQ(std::stoi(m[3]), 0) << "a host accepted a replayed or oversized call\n" << out;
}

TEST(E2eExpertAttack, SignFlip100AndNoise100OnTheExpertPathStayWithinTwoPointsOfClean) {
  SWARM_REQUIRE_INPUT(kData, "the digits data set; run scripts/setup");
  const std::string dir = TempDir("expert-attack");
  auto flip = Args(dir + "/flip");
  for (const std::string s : {"--set", "attack.name=sign_flip", "--set", "attack.sign_flip_scale=100",
                              "--clean-baseline"}) {
    flip.push_back(s);
  }
  RunResult r = RunSwarm(flip, 280);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const double clean = Match(r.out, R"(\(clean run: ([0-9.]+)%\))");
  const double flipped = Match(r.out, R"(test accuracy: ([0-9.]+)% \(clean)");
  std::cout << "[ figures ] clean " << clean << " %, sign_flip x100 on both paths " << flipped << " %" << std::endl;
  ASSERT_GT(clean, 0) << r.out;
  EXPECT_GE(flipped, clean - 2.0) << r.out;
  ExpectExpertPathDefended(r.out);

  auto noise = Args(dir + "/noise");
  for (const std::string s : {"--set", "attack.name=noise", "--set", "attack.noise_std=100"}) noise.push_back(s);
  RunResult n = RunSwarm(noise, 200);
  ASSERT_EQ(n.exit_code, 0) << n.out << n.err;
  const double noisy = Match(n.out, R"(test accuracy: ([0-9.]+)%)");
  std::cout << "[ figures ] noise sigma=100 on both paths " << noisy << " % (clean " << clean << " %)" << std::endl;
  EXPECT_GE(noisy, clean - 2.0) << n.out;
  ExpectExpertPathDefended(n.out);
  if (!HasFailure()) std::filesystem::remove_all(dir);  // kept for the logs otherwise
}

}  // namespace
}  // namespace swarm::e2e
