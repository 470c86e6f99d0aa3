// The hardened HTTP server against the attacks of docs/security.md, with a
// real server on loopback and raw sockets as the attacker.
#include "net/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

namespace swarm::net {
namespace {

int64_t RssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  timeval tv{10, 0};  // a test bound, not a speed assert
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return fd;
}

bool SendAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadSome(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos && out.find("refused") != std::string::npos) break;
  }
  return out;
}

struct Served {
  std::unique_ptr<HttpServer> server;
  std::atomic<int> refusals{0};
};

std::unique_ptr<Served> Serve(HttpLimits limits) {
  auto s = std::make_unique<Served>();
  auto* raw = s.get();
  s->server = std::make_unique<HttpServer>(limits, [raw](std::string_view) { ++raw->refusals; });
  s->server->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  s->server->Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("m 1\n", "text/plain");
  });
  EXPECT_TRUE(s->server->Listen("127.0.0.1", 0).ok());
  return s;
}

httplib::Result Get(int port, const std::string& path, const httplib::Headers& headers = {}) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(10);
  cli.set_read_timeout(10);
  return cli.Get(path.c_str(), headers);
}

TEST(HttpServer, FourHundredMebibytePostIsRefusedBeforeItsBodyIsRead) {
  auto s = Serve({});
  const int64_t rss_before = RssKib();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int fd = Connect(s->server->port());
    ASSERT_TRUE(SendAll(fd, "POST /api/status HTTP/1.1\r\nHost: x\r\nContent-Length: 419430400\r\n\r\n"));
    // The answer comes right after the headers, before any body byte.
    const std::string answer = ReadSome(fd);
    EXPECT_NE(answer.find("HTTP/1.1 413"), std::string::npos) << answer;
    EXPECT_NE(answer.find("refused (oversized): Content-Length 419430400 exceeds http.body_bytes_max = 4096"),
              std::string::npos)
        << answer;
    // The connection is closed: pushing the body fails long before 400 MiB.
    const std::string chunk(1 << 20, 'a');
    int64_t sent_mib = 0;
    while (sent_mib < 400 && SendAll(fd, chunk)) ++sent_mib;
    EXPECT_LT(sent_mib, 400);
    close(fd);
  }
  EXPECT_EQ(s->server->refused("oversized"), 3u);
  const int64_t growth_kib = RssKib() - rss_before;
  EXPECT_LT(growth_kib, 64 * 1024) << "RSS grew by " << growth_kib << " KiB";
  std::cout << "3 x 400 MiB POST: RSS growth " << growth_kib << " KiB\n";
  // Still serving.
  auto r = Get(s->server->port(), "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(HttpServer, EndlessRequestLineIsCutAtTheHeaderBudget) {
  auto s = Serve({});
  const int64_t rss_before = RssKib();
  const int fd = Connect(s->server->port());
  const std::string chunk(1 << 20, 'A');
  int64_t sent_mib = 0;
  ASSERT_TRUE(SendAll(fd, "GET /"));
  while (sent_mib < 256 && SendAll(fd, chunk)) ++sent_mib;
  close(fd);
  EXPECT_LT(sent_mib, 256);
  // The refusal is counted when the worker gives up on the connection.
  for (int i = 0; i < 100 && s->server->refused("oversized") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(s->server->refused("oversized"), 1u);
  EXPECT_LT(RssKib() - rss_before, 64 * 1024);
}

TEST(HttpServer, WritesAndOtherMethodsAreRefused) {
  signal(SIGPIPE, SIG_IGN);  // the server may close while the client still writes a refused body
  auto s = Serve({});
  httplib::Client cli("127.0.0.1", s->server->port());
  auto r = cli.Post("/metrics", "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_NE(r->body.find("refused (method_not_allowed): method POST"), std::string::npos) << r->body;
  EXPECT_EQ(s->server->refused("method_not_allowed"), 1u);
  r = cli.Post("/metrics", std::string(5000, 'x'), "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(s->server->refused("oversized"), 1u);
}

TEST(HttpServer, SlowLorisConnectionsDoNotStallHealthz) {
  HttpLimits limits;
  limits.threads = 4;
  limits.header_timeout_ms = 1500;
  auto s = Serve(limits);
  std::atomic<bool> stop{false};
  std::vector<std::thread> loris;
  // Twice as many slow connections as workers, each dribbling one header byte
  // every 200 ms (well inside the I/O timeout, never finishing its headers).
  for (int i = 0; i < 8; ++i) {
    loris.emplace_back([&, port = s->server->port()] {
      const int fd = Connect(port);
      SendAll(fd, "GET /healthz HTTP/1.1\r\n");
      while (!stop && SendAll(fd, "X")) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      close(fd);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Every worker is held by a loris now; /healthz is answered once the header
  // budget cuts them (the client's own 10 s timeout bounds the test).
  auto r = Get(s->server->port(), "/healthz");
  ASSERT_TRUE(r) << "healthz stalled: " << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(s->server->refused("header_timeout"), 1u);
  stop = true;
  for (auto& t : loris) t.join();
}

TEST(HttpServer, FewerSlowConnectionsThanWorkersLeaveHealthzUntouched) {
  HttpLimits limits;
  limits.header_timeout_ms = 60000;  // never cut during this test
  limits.connection_ms_max = 60000;
  limits.io_timeout_ms = 60000;
  auto s = Serve(limits);
  std::vector<int> fds;
  for (int i = 0; i < 8; ++i) {
    fds.push_back(Connect(s->server->port()));
    SendAll(fds.back(), "GET /healthz HTTP/1.1\r\nX-Slow: ");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto r = Get(s->server->port(), "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(s->server->refused("header_timeout"), 0u);
  for (int fd : fds) close(fd);
}

TEST(HttpServer, TokenIsRequiredExceptOnHealthz) {
  HttpLimits limits;
  limits.token = "s3cret-token";
  auto s = Serve(limits);
  auto r = Get(s->server->port(), "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("refused (unauthenticated): missing Authorization: Bearer <http.token>"),
            std::string::npos);
  r = Get(s->server->port(), "/metrics", {{"Authorization", "Bearer wrong-token!"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(s->server->refused("unauthenticated"), 2u);
  r = Get(s->server->port(), "/metrics", {{"Authorization", "Bearer s3cret-token"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "m 1\n");
  r = Get(s->server->port(), "/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(s->refusals.load(), 2);
}

TEST(HttpServer, ConnectionsPastTheCapAreClosedAndCounted) {
  HttpLimits limits;
  limits.threads = 1;
  limits.connections_max = 2;
  limits.header_timeout_ms = 60000;
  limits.io_timeout_ms = 60000;
  auto s = Serve(limits);
  const int a = Connect(s->server->port());
  const int b = Connect(s->server->port());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int c = Connect(s->server->port());
  const std::string answer = ReadSome(c);
  EXPECT_NE(answer.find("503"), std::string::npos) << answer;
  EXPECT_EQ(s->server->refused("too_many_connections"), 1u);
  close(a);
  close(b);
  close(c);
}

TEST(HttpServer, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.8.9.1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.1.2.3"));
  EXPECT_FALSE(IsLoopbackHost("::"));
}

}  // namespace
}  // namespace swarm::net
