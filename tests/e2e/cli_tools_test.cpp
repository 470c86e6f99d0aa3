// End-to-end: identity, ledger and ACVP commands of the real `swarm` binary.
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"
#include "support/test_inputs.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

TEST(E2eCli, KeygenIsPrivateRefusesOverwriteAndShowsPeerId) {
  const std::string dir = TempDir("keys");
  const std::string key = dir + "/me.key";
  RunResult r = RunSwarm({SwarmBinary(), "keygen", "--out", key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  r = RunSwarm({SwarmBinary(), "keygen", "--out", key});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  r = RunSwarm({SwarmBinary(), "identity", "show", "--key", key, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["scheme"], "ml-dsa-65");
  EXPECT_EQ(j["peer_id"].get<std::string>().size(), 16u);
  r = RunSwarm({SwarmBinary(), "keygen", "--out", dir + "/x.key", "--scheme", "rsa"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("rsa"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

TEST(E2eCli, LedgerAppendVerifyAndTamperNamesTheRecord) {
  const std::string dir = TempDir("ledger");
  const std::string key = dir + "/me.key", db = dir + "/l.db";
  ASSERT_EQ(RunSwarm({SwarmBinary(), "keygen", "--out", key, "--scheme", "hybrid"}).exit_code, 0);
  for (int i = 0; i < 4; ++i) {
    RunResult r = RunSwarm({SwarmBinary(), "ledger", "append", "--db", db, "--key", key, "--kind",
                            "update", "--epoch", std::to_string(i), "--text", "payload " + std::to_string(i)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  RunResult v = RunSwarm({SwarmBinary(), "ledger", "verify", "--db", db, "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_TRUE(json::parse(v.out)["ok"].get<bool>());

  // Change one byte inside record 2 behind the ledger's back (to a value it
  // does not already have: the byte may be random key or signature material).
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h,
                         "UPDATE ledger_records SET record = "
                         "substr(record, 1, 40) || "
                         "CASE WHEN substr(record, 41, 1) = X'FF' THEN X'00' ELSE X'FF' END || "
                         "substr(record, 42) WHERE idx = 2",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  v = RunSwarm({SwarmBinary(), "ledger", "verify", "--db", db, "--json"});
  EXPECT_EQ(v.exit_code, 1) << v.out;
  json j = json::parse(v.out);
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["first_bad_index"], 2);
  EXPECT_FALSE(j["detail"].get<std::string>().empty());
  std::filesystem::remove_all(dir);
}

TEST(E2eCli, AcvpAnswersTheSharedMlKemKeyGenPrompt) {
  const std::string base = std::string(SWARM_VECTORS_DIR) + "/ml-kem/ML-KEM-keyGen-FIPS203";
  SWARM_REQUIRE_INPUT(base + "/prompt.json", "NIST ACVP vectors; tests/data/README.md");
  const std::string dir = TempDir("acvp");
  RunResult r = RunSwarm({SwarmBinary(), "crypto", "acvp", "--prompt", base + "/prompt.json",
                          "--out", dir + "/answer.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json answer = json::parse(ReadFile(dir + "/answer.json"));
  json expected = json::parse(ReadFile(base + "/expectedResults.json"));
  EXPECT_EQ(answer["vsId"], expected["vsId"]);
  EXPECT_EQ(answer["testGroups"], expected["testGroups"]);
  r = RunSwarm({SwarmBinary(), "crypto", "acvp", "--prompt", dir + "/answer.json"});
  EXPECT_EQ(r.exit_code, 2);  // not a prompt
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace swarm::e2e
