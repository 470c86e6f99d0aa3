// The one rule for a test whose input (a data file, a vector file, a tool such
// as valgrind or a built helper binary) is missing: skip with the reason on a
// developer's machine, FAIL when the environment variable CI is set (so `make
// test` in CI can never pass by skipping). Header only; include as
// "support/test_inputs.h" from any test.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace swarm::testing {

// True when CI is set to anything but "", "0" or "false".
inline bool InCi() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string v = ci;
  return !v.empty() && v != "0" && v != "false";
}

}  // namespace swarm::testing

// Ends the current (void) function when `available` is false: GTEST_FAIL under
// CI, GTEST_SKIP otherwise. `what` names the input, `hint` how to get it.
#define SWARM_REQUIRE_INPUT_IF(available, what, hint)                                        \
  do {                                                                                       \
    if (!(available)) {                                                                      \
      if (::swarm::testing::InCi())                                                          \
        GTEST_FAIL() << "missing test input: " << (what) << " (" << (hint)                   \
                     << "); CI is set, so a missing input fails instead of skipping";        \
      GTEST_SKIP() << "missing test input: " << (what) << " (" << (hint)                     \
                   << "); skipped here, a failure when CI is set";                           \
    }                                                                                        \
  } while (0)

// The same for a file or directory that must exist.
#define SWARM_REQUIRE_INPUT(path, hint) \
  SWARM_REQUIRE_INPUT_IF(std::filesystem::exists(path), (path), (hint))
