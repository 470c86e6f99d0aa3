#include "net/rpc.h"

#include <gtest/gtest.h>

#include "swarm/v1/node.grpc.pb.h"

namespace swarm::net {
namespace {

class EchoService final : public swarm::v1::Node::Service {
 public:
  grpc::Status Ping(grpc::ServerContext*, const swarm::v1::PingRequest* req,
                    swarm::v1::PingReply* reply) override {
    ++calls;
    reply->set_payload(req->payload());
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
};

TEST(Rpc, PingRoundTripOnAnyPort) {
  EchoService echo;
  auto server = RpcServer::Start("127.0.0.1:0", NetOptions{}, {&echo});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  auto client = PeerClient::Create(absl::StrCat("127.0.0.1:", (*server)->port()), NetOptions{});
  ASSERT_TRUE(client.ok()) << client.status();
  auto stub = swarm::v1::Node::NewStub((*client)->channel());
  swarm::v1::PingRequest req;
  req.set_payload("hello");
  swarm::v1::PingReply reply;
  auto st = (*client)->Call("Ping", [&](grpc::ClientContext* ctx) {
    return stub->Ping(ctx, req, &reply);
  });
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(reply.payload(), "hello");
}

TEST(Rpc, PortInUseIsAClearError) {
  EchoService echo;
  auto first = RpcServer::Start("127.0.0.1:0", NetOptions{}, {&echo});
  ASSERT_TRUE(first.ok());
  const int port = (*first)->port();
  EchoService echo2;
  auto second = RpcServer::Start(absl::StrCat("127.0.0.1:", port), NetOptions{}, {&echo2});
  ASSERT_FALSE(second.ok());
  const std::string msg(second.status().message());
  EXPECT_NE(msg.find(absl::StrCat("port ", port, " is already in use")), std::string::npos) << msg;
  // This very process holds it, and the message says so.
  EXPECT_NE(msg.find(absl::StrCat("pid ", getpid())), std::string::npos) << msg;
}

TEST(Rpc, UnreachablePeerFailsAfterBoundedRetries) {
  // Find a port nobody listens on: start and stop a server.
  int port;
  {
    EchoService echo;
    auto s = RpcServer::Start("127.0.0.1:0", NetOptions{}, {&echo});
    ASSERT_TRUE(s.ok());
    port = (*s)->port();
  }
  NetOptions opts;
  opts.retry_attempts = 2;
  opts.call_deadline = Millis(300);
  opts.backoff = {Millis(1), Millis(5), 2.0};
  auto client = PeerClient::Create(absl::StrCat("127.0.0.1:", port), opts);
  ASSERT_TRUE(client.ok());
  auto stub = swarm::v1::Node::NewStub((*client)->channel());
  int attempts = 0;
  auto st = (*client)->Call(
      "Ping",
      [&](grpc::ClientContext* ctx) {
        ++attempts;
        swarm::v1::PingReply reply;
        return stub->Ping(ctx, swarm::v1::PingRequest(), &reply);
      },
      {.idempotent = true});
  EXPECT_EQ(attempts, 3);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  const std::string msg(st.message());
  EXPECT_EQ(msg.rfind(absl::StrCat("peer 127.0.0.1:", port, ": Ping failed after 3 attempts: UNAVAILABLE"), 0), 0u) << msg;
}

TEST(Rpc, NonIdempotentCallsAreNotRetried) {
  NetOptions opts;
  opts.retry_attempts = 5;
  opts.call_deadline = Millis(200);
  auto client = PeerClient::Create("127.0.0.1:1", opts);
  ASSERT_TRUE(client.ok());
  auto stub = swarm::v1::Node::NewStub((*client)->channel());
  int attempts = 0;
  auto st = (*client)->Call("Ping", [&](grpc::ClientContext* ctx) {
    ++attempts;
    swarm::v1::PingReply reply;
    return stub->Ping(ctx, swarm::v1::PingRequest(), &reply);
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(attempts, 1);
}

TEST(Rpc, CircuitOpensAndRefusesWithoutCalling) {
  NetOptions opts;
  opts.retry_attempts = 0;
  opts.call_deadline = Millis(100);
  opts.breaker = {.failure_threshold = 2, .open_duration = Seconds(60), .half_open_probes_max = 1};
  auto client = PeerClient::Create("127.0.0.1:1", opts);
  ASSERT_TRUE(client.ok());
  auto stub = swarm::v1::Node::NewStub((*client)->channel());
  int attempts = 0;
  auto call = [&] {
    return (*client)->Call("Ping", [&](grpc::ClientContext* ctx) {
      ++attempts;
      swarm::v1::PingReply reply;
      return stub->Ping(ctx, swarm::v1::PingRequest(), &reply);
    });
  };
  EXPECT_FALSE(call().ok());
  EXPECT_FALSE(call().ok());
  auto refused = call();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(refused.message(),
            "peer 127.0.0.1:1: Ping refused: circuit open after 2 consecutive failures");
  EXPECT_EQ((*client)->breaker_state(), CircuitBreaker::State::kOpen);
}

TEST(Rpc, OversizedMessageIsRejected) {
  EchoService echo;
  NetOptions small;
  small.message_size_bytes_max = 4096;
  auto server = RpcServer::Start("127.0.0.1:0", small, {&echo});
  ASSERT_TRUE(server.ok());
  auto client = PeerClient::Create(absl::StrCat("127.0.0.1:", (*server)->port()), NetOptions{});
  ASSERT_TRUE(client.ok());
  auto stub = swarm::v1::Node::NewStub((*client)->channel());
  swarm::v1::PingRequest req;
  req.set_payload(std::string(10000, 'x'));
  swarm::v1::PingReply reply;
  auto st = (*client)->Call("Ping", [&](grpc::ClientContext* ctx) {
    return stub->Ping(ctx, req, &reply);
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_EQ(echo.calls, 0);
}

}  // namespace
}  // namespace swarm::net
