// End-to-end: real `swarm up` / `swarm node` / `swarm status` processes on loopback.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"
#include "e2e/prometheus_text.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

// Starts `swarm up` and waits for cluster.json; returns the up pid and the nodes.
struct Cluster {
  pid_t up_pid = -1;
  std::string dir;
  json nodes;
};

Cluster StartCluster(int n) {
  Cluster c;
  c.dir = TempDir("cluster");
  // Consecutive free ports are likely but not certain; retry a few bases.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int base = FreePort();
    UseRunCredentials(c.dir);  // the tools below sign with this run's operator grant
    c.up_pid = Spawn({SwarmBinary(), "up", "--nodes", std::to_string(n), "--base-port",
                      std::to_string(base), "--dir", c.dir, "--log-level", "warn"},
                     c.dir + "/up.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(c.dir + "/cluster.json");
      if (in) {
        c.nodes = json::parse(in)["nodes"];
        return c;
      }
      if (WaitFor(c.up_pid, 0.1) != -1) break;  // up exited: port clash; retry
    }
  }
  ADD_FAILURE() << "swarm up did not write cluster.json; its log:\n" << ReadFile(c.dir + "/up.log");
  return c;
}

TEST(E2eCluster, KillOneNodeOthersStayHealthyMetricsParseAndStopLeavesNothing) {
  Cluster c = StartCluster(3);
  ASSERT_EQ(c.nodes.size(), 3u);
  for (const auto& n : c.nodes) {
    EXPECT_EQ(HttpGet(n["http"], "/healthz").first, 200) << n.dump();
  }
  const pid_t victim = c.nodes[1]["pid"].get<int>();
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(ProcessExists(victim));
  for (int i : {0, 2}) {
    EXPECT_EQ(HttpGet(c.nodes[i]["http"], "/healthz").first, 200) << c.nodes[i].dump();
  }
  EXPECT_NE(ReadFile(c.dir + "/up.log").find("peer n1 (pid " + std::to_string(victim) +
                                             ") killed by signal 9"),
            std::string::npos)
      << ReadFile(c.dir + "/up.log");

  // `swarm status --dir` shows the dead peer as unreachable and exits 1.
  RunResult st = RunSwarm({SwarmBinary(), "status", "--dir", c.dir, "--retries", "0",
                      "--deadline-ms", "500"});
  EXPECT_EQ(st.exit_code, 1) << st.out << st.err;
  EXPECT_NE(st.out.find("unreachable"), std::string::npos) << st.out;

  auto [code, body] = HttpGet(c.nodes[0]["http"], "/metrics");
  ASSERT_EQ(code, 200);
  EXPECT_EQ(CheckPrometheusText(body), "") << body;
  EXPECT_NE(body.find("swarm_rpc_requests_total{method=\"Info\"}"), std::string::npos) << body;

  ASSERT_EQ(kill(c.up_pid, SIGTERM), 0);
  const int status = WaitFor(c.up_pid, 30);
  ASSERT_NE(status, -1) << "swarm up did not stop";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (const auto& n : c.nodes) {
    EXPECT_FALSE(ProcessExists(n["pid"].get<int>())) << n.dump();
  }
}

TEST(E2eCluster, KillingSwarmUpLeavesNoOrphan) {
  Cluster c = StartCluster(2);
  ASSERT_EQ(c.nodes.size(), 2u);
  ASSERT_EQ(kill(c.up_pid, SIGKILL), 0);
  WaitFor(c.up_pid, 5);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  bool any = true;
  while (any && std::chrono::steady_clock::now() < deadline) {
    any = false;
    for (const auto& n : c.nodes) any |= ProcessExists(n["pid"].get<int>());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(any) << "a swarm node outlived swarm up";
}

TEST(E2eCluster, StatusReportsOwnInfoAsJson) {
  Cluster c = StartCluster(1);
  ASSERT_EQ(c.nodes.size(), 1u);
  RunResult st = RunSwarm({SwarmBinary(), "status", "--peer", c.nodes[0]["grpc"], "--json"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  json j = json::parse(st.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << st.out;
  EXPECT_EQ(j["id"], "n0");
  EXPECT_EQ(j["pid"], c.nodes[0]["pid"]);
  kill(c.up_pid, SIGTERM);
  WaitFor(c.up_pid, 30);
}

TEST(E2eNode, PortInUseExitsTwoNamingPortAndHolder) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  RunResult r = RunSwarm({SwarmBinary(), "node", "--grpc-listen", "127.0.0.1:" + std::to_string(port),
                     "--log-level", "warn"});
  close(fd);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("port " + std::to_string(port) + " is already in use"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("held by pid " + std::to_string(getpid())), std::string::npos) << r.err;
  // One line, no stack trace.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(E2eNode, MalformedConfigExitsTwoWithFileLineKey) {
  const std::string dir = TempDir("cfg");
  {
    std::ofstream out(dir + "/node.toml");
    out << "[node]\ngrpc_listen = \"127.0.0.1:7000\"\n[net]\ncall_deadline_ms = -5\n";
  }
  RunResult r = RunSwarm({SwarmBinary(), "node", "--config", dir + "/node.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "swarm node: " + dir +
                       "/node.toml:4: key 'net.call_deadline_ms' = -5 is out of range [1, 600000]\n");
  {
    std::ofstream out(dir + "/typo.toml");
    out << "[net]\ncall_deadline = 5\n";
  }
  r = RunSwarm({SwarmBinary(), "node", "--config", dir + "/typo.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown key 'net.call_deadline' (did you mean 'net.call_deadline_ms'?)"),
            std::string::npos)
      << r.err;
  std::filesystem::remove_all(dir);
}

// A client connection that says nothing after the HTTP/2 preface and never
// reads: what an idle peer's channel looks like to the server (that peer polls
// nothing, so it never sees a GOAWAY).
int IdleGrpcConnection(const std::string& host_port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(host_port.rfind(':') + 1))));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  static const unsigned char kSettings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
  if (write(fd, kPreface, sizeof(kPreface) - 1) < 0 || write(fd, kSettings, sizeof(kSettings)) < 0) return -1;
  return fd;
}

// node.shutdown_drain_ms bounds how long in-flight calls may finish; with no
// call in flight a peer must stop at once, not sit out the whole drain. Two
// peers (membership traffic both ways), a gRPC call, an HTTP scrape and an
// idle client connection (as trainers and expert hosts have from idle peers:
// with one, every peer took its full drain to stop). The drain is 30 s and
// the peer must exit within 15 s of SIGTERM.
TEST(E2eNode, SigtermWithNoCallInFlightDoesNotWaitForTheDrain) {
  const std::string dir = TempDir("drain");
  struct Peer {
    std::string grpc, http;
    pid_t pid = -1;
  };
  std::vector<Peer> peers(2);
  for (size_t i = 0; i < peers.size(); ++i) {
    peers[i].grpc = "127.0.0.1:" + std::to_string(FreePort());
    peers[i].http = "127.0.0.1:" + std::to_string(FreePort());
  }
  for (size_t i = 0; i < peers.size(); ++i) {
    std::vector<std::string> args = {SwarmBinary(), "node", "--id", "d" + std::to_string(i), "--grpc-listen",
                                     peers[i].grpc, "--http-listen", peers[i].http, "--data-dir",
                                     dir + "/d" + std::to_string(i), "--log-level", "info", "--set",
                                     "node.shutdown_drain_ms=30000",
                                     // No issuer here: without open mode the peer is closed and
                                     // refuses every call, `swarm status` included.
                                     "--set", "admission.open=true"};
    if (i > 0) {
      args.push_back("--seed");
      args.push_back(peers[0].grpc);
    }
    peers[i].pid = Spawn(args, dir + "/d" + std::to_string(i) + ".log");
  }
  bool healthy = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       !healthy && std::chrono::steady_clock::now() < until;) {
    healthy = true;
    for (const auto& p : peers) healthy &= HttpGet(p.http, "/healthz").first == 200;
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(healthy) << ReadFile(dir + "/d0.log") << ReadFile(dir + "/d1.log");
  RunResult st = RunSwarm({SwarmBinary(), "status", "--peer", peers[0].grpc, "--json"}, 30);
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_EQ(HttpGet(peers[0].http, "/metrics").first, 200);
  for (const auto& p : peers) {
    const int idle = IdleGrpcConnection(p.grpc);
    ASSERT_GE(idle, 0) << p.grpc;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the peer takes the connection
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(kill(p.pid, SIGTERM), 0);
    const int status = WaitFor(p.pid, 15);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "[ shutdown ] " << p.grpc << " exited " << took << " s after SIGTERM (drain 30 s)" << std::endl;
    EXPECT_NE(status, -1) << "still running 15 s after SIGTERM with a 30 s drain and no call in flight";
    if (status == -1) {
      kill(p.pid, SIGKILL);
      WaitFor(p.pid, 5);
    } else {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    close(idle);
  }
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

TEST(E2eNode, UnreachablePeerGivesOneLineWithAddressAndStatus) {
  const int port = FreePort();
  RunResult r = RunSwarm({SwarmBinary(), "status", "--peer", "127.0.0.1:" + std::to_string(port),
                     "--retries", "2", "--deadline-ms", "300"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port) + ": Info failed after 3 attempts: UNAVAILABLE"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace
}  // namespace swarm::e2e
