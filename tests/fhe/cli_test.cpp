// `swarm fhe keygen/encrypt/decrypt` end to end through the real binary
// (skipped when the cli module is not configured in this build).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/test_inputs.h"

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out;  // stdout + stderr
};

Result Swarm(const std::string& args) {
  Result r;
  const std::string cmd = std::string(SWARM_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t got;
  while ((got = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), got);
  const int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

class FheCli : public ::testing::Test {
 protected:
  void SetUp() override {
    SWARM_REQUIRE_INPUT(SWARM_BINARY, "build the swarm target");
    dir_ = fs::temp_directory_path() / ("fhe_cli_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string P(const std::string& name) const { return (dir_ / name).string(); }
  void Write(const std::string& name, const std::string& text) const { std::ofstream(P(name)) << text; }
  fs::path dir_;
};

TEST_F(FheCli, CkksKeygenEncryptDecryptRoundTrip) {
  auto kg = Swarm("fhe keygen --scheme ckks --n 8192 --rotations none --out " + P("keys"));
  ASSERT_EQ(kg.code, 0) << kg.out;
  EXPECT_NE(kg.out.find("share everything except secret.key"), std::string::npos) << kg.out;
  Write("x.txt", "# a comment\n1.5\n-2\n\n3.25\n");
  auto en = Swarm("fhe encrypt --keys " + P("keys") + " --in " + P("x.txt") + " --out " + P("x.ct"));
  ASSERT_EQ(en.code, 0) << en.out;
  auto de = Swarm("fhe decrypt --keys " + P("keys") + " --in " + P("x.ct") + " --json");
  ASSERT_EQ(de.code, 0) << de.out;
  auto j = nlohmann::json::parse(de.out);
  ASSERT_EQ(j.size(), 3u) << de.out;
  EXPECT_NEAR(j[0].get<double>(), 1.5, 1e-5);
  EXPECT_NEAR(j[1].get<double>(), -2, 1e-5);
  EXPECT_NEAR(j[2].get<double>(), 3.25, 1e-5);
  auto lines = Swarm("fhe decrypt --keys " + P("keys") + " --in " + P("x.ct") + " --count 2");
  ASSERT_EQ(lines.code, 0);
  EXPECT_EQ(std::count(lines.out.begin(), lines.out.end(), '\n'), 2) << lines.out;
}

TEST_F(FheCli, BfvIsExactAndBadInputsAreUsageErrors) {
  ASSERT_EQ(Swarm("fhe keygen --scheme bfv --n 4096 --rotations none --out " + P("b")).code, 0);
  Write("v.txt", "7\n-3\n0\n12\n");
  ASSERT_EQ(Swarm("fhe encrypt --keys " + P("b") + " --in " + P("v.txt") + " --out " + P("v.ct")).code, 0);
  auto de = Swarm("fhe decrypt --keys " + P("b") + " --in " + P("v.ct"));
  ASSERT_EQ(de.code, 0) << de.out;
  EXPECT_EQ(de.out, "7\n-3\n0\n12\n");

  Write("bad.txt", "1\n2\nabc\n");
  auto bad = Swarm("fhe encrypt --keys " + P("b") + " --in " + P("bad.txt") + " --out " + P("bad.ct"));
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.out.find("line 3: 'abc'"), std::string::npos) << bad.out;

  std::string many;
  for (int i = 0; i < 4097; ++i) many += "1\n";
  Write("many.txt", many);
  auto over = Swarm("fhe encrypt --keys " + P("b") + " --in " + P("many.txt") + " --out " + P("m.ct"));
  EXPECT_EQ(over.code, 2);
  EXPECT_NE(over.out.find("4097 values"), std::string::npos) << over.out;

  auto nokeys = Swarm("fhe encrypt --keys " + P("nowhere") + " --in " + P("v.txt") + " --out " + P("z.ct"));
  EXPECT_EQ(nokeys.code, 2);
  EXPECT_NE(nokeys.out.find("not a directory"), std::string::npos) << nokeys.out;

  // A ciphertext under another key set is refused, not decrypted.
  ASSERT_EQ(Swarm("fhe keygen --scheme bfv --n 4096 --rotations none --out " + P("b2")).code, 0);
  auto foreign = Swarm("fhe decrypt --keys " + P("b2") + " --in " + P("v.ct"));
  EXPECT_EQ(foreign.code, 2);
  EXPECT_NE(foreign.out.find("key id"), std::string::npos) << foreign.out;

  // An existing key set is not overwritten without --force.
  auto again = Swarm("fhe keygen --scheme bfv --n 4096 --out " + P("b"));
  EXPECT_EQ(again.code, 2);
}

}  // namespace
