// The peer's HTTP endpoints as an outsider meets them (docs/security.md):
// read-only, no Access-Control-Allow-Origin: *, a bearer token required when
// configured (and required to bind a non-loopback address), big bodies refused
// before they are read, every refusal counted in /metrics.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"

namespace swarm::e2e {
namespace {

TEST(E2eHttp, NonLoopbackListenWithoutTokenIsRefusedNamingTheKey) {
  RunResult r = RunSwarm({SwarmBinary(), "node", "--grpc-listen", "127.0.0.1:0", "--http-listen", "0.0.0.0:0",
                          "--log-level", "warn"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("node.http_listen = 0.0.0.0:0 is not a loopback address: set http.token"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(E2eHttp, TokenReadOnlyNoCorsAndCountedRefusals) {
  signal(SIGPIPE, SIG_IGN);  // the server may close while the client still writes a refused body
  const std::string dir = TempDir("http");
  const std::string token = "e2e-token-0123456789";
  const pid_t pid = Spawn({SwarmBinary(), "node", "--grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                           "--data-dir", dir, "--set", "http.token=" + token, "--log-level", "warn"},
                          dir + "/node.log");
  std::string http;
  for (int i = 0; i < 300 && http.empty(); ++i) {  // up to 30 s for node.json
    std::ifstream in(dir + "/node.json");
    if (in) http = nlohmann::json::parse(in, nullptr, false).value("http", "");
    if (http.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(http.empty()) << ReadFile(dir + "/node.log");
  const auto colon = http.rfind(':');
  httplib::Client cli(http.substr(0, colon), std::stoi(http.substr(colon + 1)));
  cli.set_read_timeout(10, 0);
  const httplib::Headers auth = {{"Authorization", "Bearer " + token}};

  auto r = cli.Get("/healthz");  // liveness stays open
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = cli.Get("/api/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("refused (unauthenticated)"), std::string::npos) << r->body;
  r = cli.Get("/api/status", auth);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  r = cli.Post("/api/status", auth, std::string(64 * 1024, 'x'), "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  r = cli.Post("/metrics", auth, "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);

  r = cli.Get("/metrics", auth);
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find(R"(swarm_rejected_calls_total{reason="unauthenticated",service="http"} 1)"),
            std::string::npos)
      << r->body;
  EXPECT_NE(r->body.find(R"(swarm_rejected_calls_total{reason="oversized",service="http"} 1)"), std::string::npos);
  EXPECT_NE(r->body.find(R"(swarm_rejected_calls_total{reason="method_not_allowed",service="http"} 1)"),
            std::string::npos);
  kill(pid, SIGTERM);
  EXPECT_NE(WaitFor(pid, 30), -1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace swarm::e2e
