// The relay over real loopback sockets in fixed-target mode (no nftables, no
// root): bytes arrive intact and in order, at least the configured delay late.
#include "netrelay/relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace swarm::netrelay {
namespace {

TEST(ParseRoute, AcceptsCidrDelayAndJitter) {
  auto r = ParseRoute("10.77.1.9/24=40:5");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->network, (10u << 24) | (77u << 16) | (1u << 8));
  EXPECT_EQ(r->prefix_len, 24);
  EXPECT_EQ(r->delay_ms, 40);
  EXPECT_EQ(r->jitter_ms, 5);
  auto host = ParseRoute("10.0.0.1=3");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->prefix_len, 32);
  EXPECT_EQ(host->jitter_ms, 0);
}

TEST(ParseRoute, NamesWhatIsWrong) {
  EXPECT_NE(ParseRoute("10.0.0.0/24").status().message().find("has no '='"), std::string::npos);
  EXPECT_NE(ParseRoute("10.0.0/24=5").status().message().find("'10.0.0' is not an IPv4"), std::string::npos);
  EXPECT_NE(ParseRoute("10.0.0.0/33=5").status().message().find("prefix length '33'"), std::string::npos);
  EXPECT_NE(ParseRoute("10.0.0.0/8=-1").status().message().find("delay '-1'"), std::string::npos);
  EXPECT_NE(ParseRoute("10.0.0.0/8=5:6").status().message().find("jitter '6'"), std::string::npos);
  EXPECT_NE(ParseRoute("10.0.0.0/8=5ms").status().message().find("delay '5ms'"), std::string::npos);
}

TEST(MatchRoute, LongestPrefixWins) {
  std::vector<Route> routes = {*ParseRoute("10.77.0.0/16=60"), *ParseRoute("10.77.1.0/24=2"),
                               *ParseRoute("0.0.0.0/0=0")};
  EXPECT_EQ(MatchRoute(routes, (10u << 24) | (77u << 16) | (1u << 8) | 5)->delay_ms, 2);
  EXPECT_EQ(MatchRoute(routes, (10u << 24) | (77u << 16) | (2u << 8) | 5)->delay_ms, 60);
  EXPECT_EQ(MatchRoute(routes, (192u << 24) | 1)->delay_ms, 0);
  EXPECT_EQ(MatchRoute({}, 1), nullptr);
}

TEST(Relay, RefusesBadOptionsWithTheFlagName) {
  RelayOptions o;
  o.listen = "127.0.0.1:0";
  o.to = "localhost:80";
  EXPECT_NE(Relay::Create(o).status().message().find("--to 'localhost:80'"), std::string::npos);
  o.to = "";
  o.buffer_bytes_max = 10;
  EXPECT_NE(Relay::Create(o).status().message().find("--buffer-bytes-max 10"), std::string::npos);
}

int Listen(uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int Connect(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

TEST(Relay, EchoesThroughTheDelayBothWaysAndPropagatesTheEnd) {
  uint16_t echo_port = 0;
  const int echo_listen = Listen(&echo_port);
  // Echo server: returns everything it reads, then closes on EOF.
  std::thread echo([echo_listen] {
    const int fd = accept(echo_listen, nullptr, nullptr);
    char buf[4096];
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) off += write(fd, buf + off, n - off);
    }
    close(fd);
  });
  RelayOptions o;
  o.listen = "127.0.0.1:0";
  o.to = "127.0.0.1:" + std::to_string(echo_port);
  o.routes = {*ParseRoute("127.0.0.0/8=30:5")};
  o.buffer_bytes_max = 65536;  // small: the 1 MiB below must flow through backpressure
  auto relay = Relay::Create(o);
  ASSERT_TRUE(relay.ok()) << relay.status();
  std::atomic<bool> stop{false};
  std::thread loop([&] { ASSERT_TRUE((*relay)->Run(&stop).ok()); });

  const int c = Connect((*relay)->port());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(write(c, "ping", 4), 4);
  char got[4] = {};
  size_t have = 0;
  while (have < 4) {
    const ssize_t n = read(c, got + have, 4 - have);
    ASSERT_GT(n, 0);
    have += static_cast<size_t>(n);
  }
  const auto rtt = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(std::string(got, 4), "ping");
  // Two one-way delays of 30 ± 5 ms: at least 50 ms (a lower bound, not a speed assert).
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(rtt).count(), 50);

  // 1 MiB with a pattern, written by one thread and read back by this one.
  const size_t total = 1 << 20;
  std::thread writer([c, total] {
    std::string block(8192, 0);
    for (size_t off = 0; off < total; off += block.size()) {
      for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>((off + i) * 31 % 251);
      for (size_t w = 0; w < block.size();) w += write(c, block.data() + w, block.size() - w);
    }
    shutdown(c, SHUT_WR);
  });
  size_t seen = 0;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(c, buf, sizeof buf);
    ASSERT_GE(n, 0);
    if (n == 0) break;  // the echo server's FIN came through the relay
    for (ssize_t i = 0; i < n; ++i) {
      ASSERT_EQ(buf[i], static_cast<char>((seen + i) * 31 % 251)) << "byte " << seen + i;
    }
    seen += static_cast<size_t>(n);
  }
  writer.join();
  EXPECT_EQ(seen, total);
  close(c);
  echo.join();
  close(echo_listen);
  stop = true;
  loop.join();
  EXPECT_EQ((*relay)->stats().accepted, 1u);
  EXPECT_EQ((*relay)->stats().bytes_forwarded, 2 * (total + 4));
}

TEST(Relay, AFailedUpstreamConnectResetsTheClient) {
  uint16_t dead_port = 0;
  close(Listen(&dead_port));  // nothing listens there now
  RelayOptions o;
  o.listen = "127.0.0.1:0";
  o.to = "127.0.0.1:" + std::to_string(dead_port);
  auto relay = Relay::Create(o);
  ASSERT_TRUE(relay.ok());
  std::atomic<bool> stop{false};
  std::thread loop([&] { ASSERT_TRUE((*relay)->Run(&stop).ok()); });
  const int c = Connect((*relay)->port());
  char b;
  EXPECT_LT(read(c, &b, 1), 1);  // reset (or closed), not a hang
  close(c);
  stop = true;
  loop.join();
  EXPECT_EQ((*relay)->stats().connect_failures, 1u);
}

}  // namespace
}  // namespace swarm::netrelay
