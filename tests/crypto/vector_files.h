// Helpers shared by the tests that read the NIST ACVP JSON files.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/bytes.h"

namespace swarm::crypto::testing {

// Parses a JSON file; a missing file is a test failure naming it.
inline nlohmann::json LoadJson(const std::filesystem::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << "cannot open " << p;
  return nlohmann::json::parse(in);
}

// Bytes of a hex JSON string; a bad string is a test failure.
inline Bytes HexBytes(const nlohmann::json& j) {
  auto b = FromHex(j.get<std::string>());
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : Bytes{};
}

}  // namespace swarm::crypto::testing
