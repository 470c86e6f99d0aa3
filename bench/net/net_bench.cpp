// gRPC on loopback: ping round-trip latency, and a 16 MiB payload's throughput
// as a ratio to memcpy of the same bytes in the same run.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "net/rpc.h"
#include "swarm/v1/node.grpc.pb.h"

namespace {

class Echo final : public swarm::v1::Node::Service {
 public:
  grpc::Status Ping(grpc::ServerContext*, const swarm::v1::PingRequest* req,
                    swarm::v1::PingReply* reply) override {
    reply->set_payload(req->payload().size() > 64 ? std::string() : req->payload());
    return grpc::Status::OK;
  }
};

// Round-trip times of an 8-byte echo over a plain loopback TCP socket (the
// floor any RPC stack sits on), measured the same way as the gRPC ping.
std::vector<double> RawTcpRoundTripsMicros(int samples) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  SWARM_ASSERT(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  SWARM_ASSERT(listen(listener, 1) == 0);
  socklen_t len = sizeof(a);
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread server([&] {
    const int fd = accept(listener, nullptr, nullptr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char buf[8];
    while (recv(fd, buf, 8, MSG_WAITALL) == 8) send(fd, buf, 8, 0);
    close(fd);
  });
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  SWARM_ASSERT(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  char buf[8] = "1234567";
  std::vector<double> us;
  for (int i = 0; i < samples + 200; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    send(fd, buf, 8, 0);
    SWARM_ASSERT(recv(fd, buf, 8, MSG_WAITALL) == 8);
    if (i >= 200) {
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  close(fd);
  server.join();
  close(listener);
  return us;
}

}  // namespace

int main() {
  using namespace swarm;
  net::RouteGrpcLogsToSpdlog();
  const std::string cmd = "build/bench/net/bench_net";
  Echo echo;
  net::NetOptions opts;
  opts.message_size_bytes_max = 64ll << 20;
  auto server = net::RpcServer::Start("127.0.0.1:0", opts, {&echo});
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  auto client = net::PeerClient::Create(absl::StrCat("127.0.0.1:", (*server)->port()), opts);
  auto stub = swarm::v1::Node::NewStub((*client)->channel());

  // Ping latency: 2,000 sequential calls with an 8-byte payload after warm-up.
  swarm::v1::PingRequest small;
  small.set_payload("12345678");
  auto ping = [&] {
    swarm::v1::PingReply reply;
    grpc::ClientContext ctx;
    SWARM_ASSERT(stub->Ping(&ctx, small, &reply).ok());
  };
  for (int i = 0; i < 200; ++i) ping();
  std::vector<double> us;
  for (int i = 0; i < 2000; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ping();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  const std::vector<double> tcp = RawTcpRoundTripsMicros(2000);
  const double p50 = bench::Percentile(us, 50), p99 = bench::Percentile(us, 99);
  bench::Emit({.section = "net (gRPC on loopback)", .figure = "Ping round trip p50", .value = p50,
               .unit = "µs", .anchor = "raw TCP 8-byte echo p50", .anchor_value = bench::Percentile(tcp, 50),
               .note = "sequential unary calls, 2,000 samples; ratio = gRPC cost over the socket floor",
               .command = cmd});
  bench::Emit({.section = "net (gRPC on loopback)", .figure = "Ping round trip p99", .value = p99,
               .unit = "µs", .anchor = "raw TCP 8-byte echo p99", .anchor_value = bench::Percentile(tcp, 99),
               .note = "tails depend on what else the 2 cores run", .command = cmd});

  // 16 MiB payload one way (reply is empty).
  const size_t kBytes = 16u << 20;
  swarm::v1::PingRequest big;
  big.set_payload(std::string(kBytes, 'x'));
  const double rpc_s = bench::SecondsPerCall([&] {
    swarm::v1::PingReply reply;
    grpc::ClientContext ctx;
    SWARM_ASSERT(stub->Ping(&ctx, big, &reply).ok());
  }, 1.0, 5);
  std::vector<char> src(kBytes, 'y'), dst(kBytes);
  const double memcpy_s = bench::SecondsPerCall([&] {
    std::memcpy(dst.data(), src.data(), kBytes);
    asm volatile("" : : "r"(dst.data()) : "memory");
  }, 0.5, 20);
  const double mib = static_cast<double>(kBytes) / (1 << 20);
  bench::Emit({.section = "net (gRPC on loopback)", .figure = "16 MiB payload RPC throughput",
               .value = mib / rpc_s, .unit = "MiB/s", .anchor = "memcpy of the same 16 MiB",
               .anchor_value = mib / memcpy_s,
               .note = "one-way payload, empty reply; includes protobuf copy and HTTP/2 framing",
               .command = cmd});
  (*server)->Shutdown(Seconds(1));
  return 0;
}
