// Committee keys (node/consensus/keys.h): trust on first use, pinned in a
// file that survives a restart; a different key for a pinned address is
// refused; messages of members whose key is unknown do not verify.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "node/consensus/keys.h"

namespace swarm::node {
namespace {

const std::vector<std::string> kCommittee = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"};

std::string TempFile(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() / ("swarm-keys-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "keys.json").string();
}

TEST(CommitteeKeys, PinsOnFirstUseRefusesAnotherKeyAndSurvivesARestart) {
  const std::string file = TempFile("pin");
  auto me = crypto::Identity::Generate().value();
  auto other = crypto::Identity::Generate().value();
  auto impostor = crypto::Identity::Generate().value();
  const Bytes msg = {1, 2, 3};
  {
    CommitteeKeys keys(me, kCommittee, file);
    ASSERT_TRUE(keys.Load().ok());
    ASSERT_TRUE(keys.Pin(0, me.scheme(), me.public_key()).ok());
    const Bytes sig = other.Sign(msg).value();
    EXPECT_FALSE(keys.Verify(consensus::ReplicaId(1), msg, sig));  // unknown yet
    ASSERT_TRUE(keys.Pin(1, other.scheme(), other.public_key()).ok());
    EXPECT_TRUE(keys.Verify(consensus::ReplicaId(1), msg, sig));
    EXPECT_FALSE(keys.Verify(consensus::ReplicaId(2), msg, sig));
    EXPECT_FALSE(keys.Verify(consensus::ReplicaId(9), msg, sig));  // out of range: false, no crash
    EXPECT_TRUE(keys.Pin(1, other.scheme(), other.public_key()).ok());  // same key again: fine
    Status s = keys.Pin(1, impostor.scheme(), impostor.public_key());
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(std::string(s.message()).find("key_changed"), std::string::npos) << s;
    EXPECT_EQ(keys.key_changes_refused(), 1u);
    EXPECT_EQ(keys.known(), 2u);
    EXPECT_TRUE(keys.Verify(consensus::ReplicaId(0), msg, keys.Sign(msg)));
  }
  // Restart: the pins are read back, the impostor is still refused.
  CommitteeKeys again(me, kCommittee, file);
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(again.known(), 2u);
  EXPECT_FALSE(again.Pin(1, impostor.scheme(), impostor.public_key()).ok());
  EXPECT_TRUE(again.Verify(consensus::ReplicaId(1), msg, other.Sign(msg).value()));
}

TEST(CommitteeKeys, CorruptPinFileIsAnErrorNamingTheFileAndEntry) {
  auto me = crypto::Identity::Generate().value();
  const std::string file = TempFile("bad");
  std::ofstream(file) << "not json";
  CommitteeKeys keys(me, kCommittee, file);
  Status s = keys.Load();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find(file), std::string::npos) << s;

  std::ofstream(file, std::ios::trunc) << R"({"127.0.0.1:2": {"scheme": "ml-dsa-65", "public_key": "zz"}})";
  CommitteeKeys keys2(me, kCommittee, file);
  s = keys2.Load();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("127.0.0.1:2"), std::string::npos) << s;
}

}  // namespace
}  // namespace swarm::node
