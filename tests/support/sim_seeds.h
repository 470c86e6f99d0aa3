// The one seed convention of every simulation test (see src/sim/README.md):
//
//   for (uint64_t seed : swarm::testing::SimSeeds(1000)) {
//     SWARM_SIM_SEED_TRACE(seed);   // any failure below prints the seed and how to replay it
//     ... run one seeded simulation, EXPECT/ASSERT on it ...
//   }
//
// SimSeeds(count) is 1..count, or only <n> when the environment has
// SWARM_SIM_SEED=<n> (then SimSeedReplay() is true and a test skips its
// claims about totals over all seeds, which one seed cannot meet). A failure
// message reads
//   seed 17 (replay: SWARM_SIM_SEED=17 ctest --test-dir build -R '^Suite.Name$' --output-on-failure)
// and a replayed seed runs the same events as in the full run (a simulation's
// randomness comes from its seed only). A value of SWARM_SIM_SEED that is not
// a decimal number fails the test naming the variable and the value.
// Header only; include as "support/sim_seeds.h".
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace swarm::testing {

inline constexpr const char* kSimSeedEnv = "SWARM_SIM_SEED";

// True when SWARM_SIM_SEED is set (to anything non-empty).
inline bool SimSeedReplay() {
  const char* s = std::getenv(kSimSeedEnv);
  return s != nullptr && *s != '\0';
}

// Seeds first..first+count-1, or the one seed named by SWARM_SIM_SEED.
inline std::vector<uint64_t> SimSeeds(uint64_t count, uint64_t first = 1) {
  if (!SimSeedReplay()) {
    std::vector<uint64_t> v(count);
    for (uint64_t i = 0; i < count; ++i) v[i] = first + i;
    return v;
  }
  const std::string s = std::getenv(kSimSeedEnv);
  char* end = nullptr;
  const unsigned long long seed = std::strtoull(s.c_str(), &end, 10);
  if (s.find_first_not_of("0123456789") != std::string::npos || end == s.c_str()) {
    ADD_FAILURE() << kSimSeedEnv << "='" << s << "' is not a decimal seed";
    return {};
  }
  return {static_cast<uint64_t>(seed)};
}

// "seed N (replay: SWARM_SIM_SEED=N ctest ... -R '^Suite.Name$' ...)" for the running test.
inline std::string SimReplayLine(uint64_t seed) {
  std::string test = "<test>";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    test = std::string(info->test_suite_name()) + "." + info->name();
  }
  return "seed " + std::to_string(seed) + " (replay: " + kSimSeedEnv + "=" + std::to_string(seed) +
         " ctest --test-dir build -R '^" + test + "$' --output-on-failure)";
}

}  // namespace swarm::testing

// Every gtest failure in the enclosing scope carries the seed and its replay line.
#define SWARM_SIM_SEED_TRACE(seed) SCOPED_TRACE(::swarm::testing::SimReplayLine(seed))
