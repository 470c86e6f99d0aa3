// Constant-time check for ML-DSA KeyGen and Sign. Under valgrind the secret
// inputs (seed xi, secret key, rnd) are marked as undefined memory, so memcheck
// reports any branch or memory index that depends on them; run
//   valgrind --error-exitcode=1 build-X/tests/crypto/crypto_ml_dsa_ct_test
// (values the standard makes public are declassified inside the code with
// SWARM_CT_PUBLIC, see ml_dsa_poly.h). Outside valgrind this is a plain
// round-trip test.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "crypto/ml_dsa.h"
#include "support/test_inputs.h"

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#define ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define SECRET(p, n) ((void)0)
#define PUBLIC(p, n) ((void)0)
#define ON_VALGRIND() false
#endif

namespace swarm::crypto {
namespace {

class MlDsaCt : public ::testing::TestWithParam<MlDsaLevel> {};

TEST_P(MlDsaCt, KeyGenAndSignDoNotBranchOnSecrets) {
  const MlDsaLevel level = GetParam();
  Bytes seed(32, 0x3c);
  SECRET(seed.data(), seed.size());
  auto kp = MlDsaKeyGenFromSeed(level, seed);
  ASSERT_TRUE(kp.ok());
  PUBLIC(kp->public_key.data(), kp->public_key.size());  // the output pk is public
  SECRET(kp->secret_key.data(), kp->secret_key.size());
  const Bytes msg = {'c', 't'};
  for (int i = 0; i < 3; ++i) {
    Bytes rnd(32, static_cast<uint8_t>(i));
    SECRET(rnd.data(), rnd.size());
    auto sig = MlDsaSignInternal(level, kp->secret_key, msg, rnd);
    ASSERT_TRUE(sig.ok());
    PUBLIC(sig->data(), sig->size());  // the published signature
    EXPECT_TRUE(*MlDsaVerifyInternal(level, kp->public_key, msg, *sig));
  }
  auto prepared = MlDsaSigningKey::Create(level, kp->secret_key);
  ASSERT_TRUE(prepared.ok());
  auto psig = prepared->Sign(msg, {}, MlDsaSigning::kDeterministic);
  ASSERT_TRUE(psig.ok());
  PUBLIC(psig->data(), psig->size());
  EXPECT_TRUE(*MlDsaVerify(level, kp->public_key, msg, *psig));
  auto hedged = MlDsaSign(level, kp->secret_key, msg);
  ASSERT_TRUE(hedged.ok());
  PUBLIC(hedged->data(), hedged->size());
  EXPECT_TRUE(*MlDsaVerify(level, kp->public_key, msg, *hedged));
  PUBLIC(kp->secret_key.data(), kp->secret_key.size());
}

INSTANTIATE_TEST_SUITE_P(AllLevels, MlDsaCt,
                         ::testing::Values(MlDsaLevel::k44, MlDsaLevel::k65, MlDsaLevel::k87),
                         [](const auto& info) { return "ML_DSA_" + std::to_string(int(info.param)); });

// Re-runs the tests above under valgrind memcheck (when valgrind is
// installed), so the constant-time check is part of every ctest run.
TEST(MlDsaCtCheck, CleanUnderValgrindMemcheck) {
  if (ON_VALGRIND()) GTEST_SKIP() << "already under valgrind";
  const char* candidates[] = {"/usr/bin/valgrind", "/usr/local/bin/valgrind"};
  std::string valgrind;
  for (const char* c : candidates)
    if (std::filesystem::exists(c)) valgrind = c;
  SWARM_REQUIRE_INPUT_IF(!valgrind.empty(), "valgrind", "scripts/setup installs it");
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string cmd = valgrind + " -q --error-exitcode=99 " + self +
                          " --gtest_filter='AllLevels/MlDsaCt.*' > /dev/null 2>" + self +
                          ".valgrind.log";
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc)) << cmd;
  EXPECT_EQ(WEXITSTATUS(rc), 0) << "memcheck found secret-dependent branches or indices; see "
                                << self << ".valgrind.log";
}

}  // namespace
}  // namespace swarm::crypto
