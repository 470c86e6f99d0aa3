// net::Dial's signing interceptor and RpcServer's reply signer, over loopback.
#include "net/dial.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "net/message_hash.h"
#include "net/rpc.h"
#include "net/server_auth.h"
#include "swarm/v1/node.grpc.pb.h"

namespace swarm::net {
namespace {

std::shared_ptr<const crypto::Identity> NewIdentity() {
  return std::make_shared<const crypto::Identity>(*crypto::Identity::Generate());
}

// Records what each call carried.
class RecordingService final : public swarm::v1::Node::Service {
 public:
  grpc::Status Ping(grpc::ServerContext* ctx, const swarm::v1::PingRequest* req,
                    swarm::v1::PingReply* reply) override {
    std::lock_guard<std::mutex> lock(mu);
    last = ReadCallCredentials(*ctx);
    last_body = MessageSha3(*req);
    reply->set_payload(req->payload());
    reply->set_node_id("n1");
    return grpc::Status::OK;
  }
  std::mutex mu;
  CallCredentials last;
  Digest32 last_body{};
};

struct Fixture {
  RecordingService service;
  std::shared_ptr<const crypto::Identity> server_id = NewIdentity();
  std::unique_ptr<RpcServer> server;
  std::string address;
  Fixture() {
    auto s = RpcServer::Start("127.0.0.1:0", NetOptions{}, {&service}, server_id);
    EXPECT_TRUE(s.ok()) << s.status();
    server = std::move(*s);
    address = absl::StrCat("127.0.0.1:", server->port());
  }
};

grpc::Status Ping(const std::shared_ptr<grpc::Channel>& ch, const std::string& payload, grpc::ClientContext* ctx,
                  swarm::v1::PingReply* reply) {
  swarm::v1::PingRequest req;
  req.set_payload(payload);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return swarm::v1::Node::NewStub(ch)->Ping(ctx, req, reply);
}

TEST(Dial, EveryCallCarriesAValidSignedHeaderAndGrant) {
  Fixture f;
  DialOptions o;
  o.identity = NewIdentity();
  o.grant = Bytes{1, 2, 3};
  auto ch = Dial(f.address, o);
  ASSERT_TRUE(ch.ok()) << ch.status();
  grpc::ClientContext ctx;
  swarm::v1::PingReply reply;
  ASSERT_TRUE(Ping(*ch, "hello", &ctx, &reply).ok());
  std::lock_guard<std::mutex> lock(f.service.mu);
  ASSERT_TRUE(f.service.last.auth.has_value());
  const RequestAuth& a = *f.service.last.auth;
  EXPECT_EQ(a.method, "/swarm.v1.Node/Ping");
  EXPECT_EQ(a.body_sha3, f.service.last_body);
  EXPECT_EQ(a.grant_sha3, crypto::Sha3_256(o.grant));
  EXPECT_EQ(f.service.last.grant, std::string("\x01\x02\x03"));
  EXPECT_EQ(PeerIdOfRequest(a), o.identity->peer_id());
  EXPECT_TRUE(VerifyRequestAuthSignature(a).ok());
  // The reply is signed by the server and tied to this request's nonce.
  auto ra = ReplyAuthOf(ctx);
  ASSERT_TRUE(ra.ok()) << ra.status();
  EXPECT_TRUE(VerifyReplyAuth(*ra, a.nonce, "/swarm.v1.Node/Ping", MessageSha3(reply), f.server_id->peer_id()).ok());
}

TEST(Dial, TwoCallsUseTwoNonces) {
  Fixture f;
  DialOptions o;
  o.identity = NewIdentity();
  auto ch = *Dial(f.address, o);
  Nonce first{};
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;
    swarm::v1::PingReply reply;
    ASSERT_TRUE(Ping(ch, "x", &ctx, &reply).ok());
    std::lock_guard<std::mutex> lock(f.service.mu);
    if (i == 0) first = f.service.last.auth->nonce;
    else EXPECT_NE(first, f.service.last.auth->nonce);
  }
}

TEST(Dial, ReplyFromAnotherPeerThanExpectedIsRefused) {
  Fixture f;
  DialOptions o;
  o.identity = NewIdentity();
  o.expected_peer = f.server_id->peer_id();
  grpc::ClientContext ok_ctx;
  swarm::v1::PingReply reply;
  auto st = Ping(*Dial(f.address, o), "hi", &ok_ctx, &reply);
  EXPECT_TRUE(st.ok()) << GrpcStatusText(st);

  const auto someone_else = NewIdentity();
  o.expected_peer = someone_else->peer_id();
  grpc::ClientContext ctx;
  st = Ping(*Dial(f.address, o), "hi", &ctx, &reply);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(st.error_message().find("expected peer " + ShortPeerId(someone_else->peer_id())), std::string::npos)
      << st.error_message();
}

TEST(Dial, UnsignedChannelWhenNoIdentityAndBadAddressIsAnError) {
  Fixture f;
  grpc::ClientContext ctx;
  swarm::v1::PingReply reply;
  ASSERT_TRUE(Ping(*Dial(f.address, DialOptions{}), "x", &ctx, &reply).ok());
  {
    std::lock_guard<std::mutex> lock(f.service.mu);
    EXPECT_FALSE(f.service.last.auth.has_value());
  }
  EXPECT_FALSE(ReplyAuthOf(ctx).ok());  // nothing to sign a reply to
  auto bad = Dial("no-port-here", DialOptions{});
  EXPECT_FALSE(bad.ok());
  DialOptions tls;
  tls.net.tls.enabled = true;
  tls.net.tls.ca_file = "/nonexistent/ca.pem";
  auto missing = Dial(f.address, tls);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("tls.ca_file"), std::string::npos);
}

TEST(GrpcStatus, OneConverterBothWays) {
  const absl::Status s = absl::PermissionDeniedError("nope");
  const grpc::Status g = ToGrpc(s);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(g.error_message(), "nope");
  EXPECT_EQ(FromGrpc(g), s);
  EXPECT_EQ(FromGrpc(g, "Ping at a:1").message(), "Ping at a:1: nope");
  EXPECT_TRUE(FromGrpc(grpc::Status::OK).ok());
  EXPECT_EQ(GrpcStatusText(g), "PERMISSION_DENIED: nope");
}

}  // namespace
}  // namespace swarm::net
