#include "common/file.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace swarm {
namespace {

namespace fs = std::filesystem;

class WriteFileAtomicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("swarm_file_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Every entry in the directory except `keep` (no temporary left behind).
  std::vector<std::string> Others(const std::string& keep) const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename() != keep) out.push_back(e.path().filename());
    }
    return out;
  }
  static uint32_t Mode(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  fs::path dir_;
};

TEST_F(WriteFileAtomicTest, CreatesThenReplacesWithExactBytesAndMode) {
  const fs::path p = dir_ / "a.bin";
  ASSERT_TRUE(WriteFileAtomic(p.string(), std::string_view("first"), {.mode = 0600}).ok());
  EXPECT_EQ(Read(p), "first");
  EXPECT_EQ(Mode(p), 0600u);
  ASSERT_TRUE(WriteFileAtomic(p.string(), std::string_view("second, longer"), {.mode = 0644}).ok());
  EXPECT_EQ(Read(p), "second, longer");
  EXPECT_EQ(Mode(p), 0644u);
  const Bytes empty;
  ASSERT_TRUE(WriteFileAtomic(p.string(), ByteSpan(empty)).ok());
  EXPECT_EQ(Read(p), "");
  EXPECT_TRUE(Others("a.bin").empty());
}

TEST_F(WriteFileAtomicTest, ModeIsExactWhateverTheUmask) {
  const mode_t old = ::umask(0077);
  const fs::path p = dir_ / "shared.json";
  const Status s = WriteFileAtomic(p.string(), std::string_view("{}"), {.mode = 0644});
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Mode(p), 0644u);
}

TEST_F(WriteFileAtomicTest, NoReplaceRefusesAnExistingFileAndKeepsIt) {
  const fs::path p = dir_ / "key";
  ASSERT_TRUE(WriteFileAtomic(p.string(), std::string_view("old"), {.replace = false}).ok());
  const Status s = WriteFileAtomic(p.string(), std::string_view("new"), {.replace = false});
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_NE(s.message().find(p.string()), std::string_view::npos) << s;
  EXPECT_EQ(Read(p), "old");
  EXPECT_TRUE(Others("key").empty());
}

TEST_F(WriteFileAtomicTest, FailedWriteLeavesTheOldFileIntactAndNoTemporary) {
  const fs::path p = dir_ / "state";
  ASSERT_TRUE(WriteFileAtomic(p.string(), std::string_view("old contents")).ok());
  // A file-size limit makes write() fail part-way with EFBIG (SIGXFSZ
  // ignored), a real mid-write failure.
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::string big(64 * 1024, 'x');
  const Status s = WriteFileAtomic(p.string(), std::string_view(big));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_NE(s.message().find(p.string()), std::string_view::npos) << s;
  EXPECT_EQ(Read(p), "old contents");
  EXPECT_TRUE(Others("state").empty());
}

TEST_F(WriteFileAtomicTest, MissingDirectoryIsNotFoundNamingThePath) {
  const fs::path p = dir_ / "no_such_dir" / "f";
  const Status s = WriteFileAtomic(p.string(), std::string_view("x"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_NE(s.message().find(p.string()), std::string_view::npos) << s;
}

TEST_F(WriteFileAtomicTest, ReplacingADirectoryFailsAndKeepsIt) {
  const fs::path p = dir_ / "sub";
  fs::create_directories(p / "inner");
  const Status s = WriteFileAtomic(p.string(), std::string_view("x"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(p.string()), std::string_view::npos) << s;
  EXPECT_TRUE(fs::is_directory(p / "inner"));
  EXPECT_TRUE(Others("sub").empty());
}

TEST_F(WriteFileAtomicTest, EmptyPathIsInvalid) {
  EXPECT_EQ(WriteFileAtomic("", std::string_view("x")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteFileAtomic((dir_ / "d/").string(), std::string_view("x")).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(WriteFileAtomicTest, WithoutSyncStillAtomic) {
  const fs::path p = dir_ / "bench";
  ASSERT_TRUE(WriteFileAtomic(p.string(), std::string_view("a"), {.sync = false}).ok());
  ASSERT_TRUE(WriteFileAtomic(p.string(), std::string_view("b"), {.sync = false}).ok());
  EXPECT_EQ(Read(p), "b");
  EXPECT_TRUE(Others("bench").empty());
}

}  // namespace
}  // namespace swarm
