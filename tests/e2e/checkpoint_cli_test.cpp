// End-to-end: `swarm checkpoint create|ls|show|verify|restore|gc` on a real
// directory, including the refusals (bad chunk, unreadable manifest, unknown
// version, restore onto an existing directory).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"

namespace swarm::e2e {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void WriteRandom(const std::string& path, size_t n, uint32_t seed) {
  std::ofstream out(path, std::ios::binary);
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    out.put(static_cast<char>(x >> 24));
  }
}

std::vector<fs::path> ChunkFiles(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/chunks")) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(E2eCheckpoint, CreateListShowVerifyRestoreGc) {
  const std::string tmp = TempDir("checkpoint");
  const std::string d = tmp + "/ck";
  WriteRandom(tmp + "/w.bin", 600000, 1);
  WriteRandom(tmp + "/m.bin", 200000, 2);
  RunResult r = RunSwarm({SwarmBinary(), "checkpoint", "create", "--dir", d, "--label", "step-1", "--step", "1",
                          "--job", "demo", "weights=" + tmp + "/w.bin", "adam=" + tmp + "/m.bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("root "), std::string::npos) << r.out;
  // The same weights again: everything deduplicated.
  r = RunSwarm({SwarmBinary(), "checkpoint", "create", "--dir", d, "--label", "step-2", "--step", "2",
                "weights=" + tmp + "/w.bin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(" 0 new)"), std::string::npos) << r.out;
  // Same label twice: refused.
  r = RunSwarm({SwarmBinary(), "checkpoint", "create", "--dir", d, "--label", "step-2", tmp + "/w.bin"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;

  r = RunSwarm({SwarmBinary(), "checkpoint", "ls", "--dir", d, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json ls = json::parse(r.out);
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_EQ(ls[0]["label"], "step-1");
  EXPECT_EQ(ls[0]["job"], "demo");
  EXPECT_EQ(ls[0]["bytes"], 800000);
  r = RunSwarm({SwarmBinary(), "checkpoint", "show", "--dir", d, "step-1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json show = json::parse(r.out);
  ASSERT_EQ(show["blobs"].size(), 2u);
  EXPECT_EQ(show["blobs"][0]["name"], "adam");
  EXPECT_EQ(show["root"], ls[0]["root"]);
  r = RunSwarm({SwarmBinary(), "checkpoint", "verify", "--dir", d});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // Restore: byte-identical files; an existing target is refused untouched.
  r = RunSwarm({SwarmBinary(), "checkpoint", "restore", "--dir", d, "step-1", "--out", tmp + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(tmp + "/out/weights"), ReadFile(tmp + "/w.bin"));
  EXPECT_EQ(ReadFile(tmp + "/out/adam"), ReadFile(tmp + "/m.bin"));
  r = RunSwarm({SwarmBinary(), "checkpoint", "restore", "--dir", d, "step-1", "--out", tmp + "/out"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("never overwrites"), std::string::npos) << r.err;

  // Damage one chunk: verify exits 1 and names it and why; restore fails and
  // leaves nothing.
  const auto files = ChunkFiles(d);
  ASSERT_GT(files.size(), 4u);
  const fs::path victim = files[files.size() / 2];
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('\x42');
    f.put('\x43');
  }
  const std::string victim_hex = victim.stem().string();
  r = RunSwarm({SwarmBinary(), "checkpoint", "verify", "--dir", d, "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  json v = json::parse(r.out);
  bool named = false;
  for (const auto& c : v) {
    if (!c["ok"].get<bool>()) {
      named |= c["first_bad"]["chunk"] == victim_hex;
      EXPECT_FALSE(c["first_bad"]["reason"].get<std::string>().empty());
    }
  }
  EXPECT_TRUE(named) << r.out;
  r = RunSwarm({SwarmBinary(), "checkpoint", "restore", "--dir", d, "step-1", "--out", tmp + "/out2"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(fs::exists(tmp + "/out2"));
  fs::remove(victim);
  r = RunSwarm({SwarmBinary(), "checkpoint", "verify", "--dir", d, "step-1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("missing"), std::string::npos) << r.out;

  // gc --keep 1 drops step-1 and the chunks only it used (adam's).
  r = RunSwarm({SwarmBinary(), "checkpoint", "gc", "--dir", d, "--keep", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json gc = json::parse(r.out);
  EXPECT_EQ(gc["checkpoints"], 1);
  EXPECT_GT(gc["chunks_removed"].get<int>(), 0);
  r = RunSwarm({SwarmBinary(), "checkpoint", "ls", "--dir", d, "--json"});
  ASSERT_EQ(json::parse(r.out).size(), 1u);
  fs::remove_all(tmp);
}

TEST(E2eCheckpoint, BadManifestsAreRefusedWithTheReason) {
  const std::string tmp = TempDir("checkpoint_bad");
  const std::string d = tmp + "/ck";
  WriteRandom(tmp + "/w.bin", 100000, 3);
  ASSERT_EQ(RunSwarm({SwarmBinary(), "checkpoint", "create", "--dir", d, "--label", "good", tmp + "/w.bin"}).exit_code, 0);
  const std::string good = ReadFile(d + "/manifests/good.swck");
  // Unknown version (bytes 4..7), and a truncated copy.
  std::string v9 = good;
  v9[7] = 9;
  std::ofstream(d + "/manifests/future.swck", std::ios::binary) << v9;
  std::ofstream(d + "/manifests/cut.swck", std::ios::binary) << good.substr(0, good.size() / 2);
  RunResult r = RunSwarm({SwarmBinary(), "checkpoint", "ls", "--dir", d});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("UNREADABLE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("'version' = 9"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
  r = RunSwarm({SwarmBinary(), "checkpoint", "verify", "--dir", d, "future"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("version"), std::string::npos) << r.out;
  r = RunSwarm({SwarmBinary(), "checkpoint", "gc", "--dir", d});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("gc refused"), std::string::npos) << r.err;
  EXPECT_EQ(RunSwarm({SwarmBinary(), "checkpoint", "verify", "--dir", d, "good"}).exit_code, 0);
  // Not a checkpoint directory; unknown label.
  r = RunSwarm({SwarmBinary(), "checkpoint", "ls", "--dir", tmp + "/nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a checkpoint directory"), std::string::npos) << r.err;
  r = RunSwarm({SwarmBinary(), "checkpoint", "show", "--dir", d, "missing"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no checkpoint 'missing'"), std::string::npos) << r.err;
  // --help answers what the commands do.
  r = RunSwarm({SwarmBinary(), "checkpoint", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s : {"FastCDC", "SHA3-256", "zstd", "never", "first bad chunk", "Exit codes"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  }
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace swarm::e2e
