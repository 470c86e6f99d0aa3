#include "net/server_auth.h"

#include "net/dial.h"
#include "net/message_hash.h"

namespace swarm::net {
namespace {

using grpc::experimental::InterceptionHookPoints;

std::optional<std::string_view> Find(const std::multimap<grpc::string_ref, grpc::string_ref>& md,
                                     const char* key) {
  auto it = md.find(key);
  if (it == md.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

class ReplySigner final : public grpc::experimental::Interceptor {
 public:
  ReplySigner(grpc::experimental::ServerRpcInfo* info, std::shared_ptr<const crypto::Identity> id)
      : info_(info), id_(std::move(id)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      const void* msg = m->GetSendMessage();
      reply_sha3_ = msg != nullptr ? MessageSha3(*static_cast<const google::protobuf::MessageLite*>(msg))
                                   : ByteBufferSha3(*m->GetSerializedSendMessage());
      have_reply_ = true;
    }
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) && have_reply_ &&
        m->GetSendStatus().ok()) {
      Sign(m);
    }
    m->Proceed();
  }

 private:
  void Sign(grpc::experimental::InterceptorBatchMethods* m) {
    auto* ctx = info_->server_context();
    if (ctx == nullptr) return;
    auto header = Find(ctx->client_metadata(), kAuthMetadataKey);
    if (!header) return;
    auto auth = DecodeRequestAuth(AsBytes(*header));
    if (!auth.ok()) return;
    auto reply = SignReply(*id_, auth->nonce, info_->method(), reply_sha3_);
    if (!reply.ok()) return;
    const Bytes b = EncodeReplyAuth(*reply);
    m->GetSendTrailingMetadata()->emplace(kReplyMetadataKey, std::string(b.begin(), b.end()));
  }

  grpc::experimental::ServerRpcInfo* info_;
  std::shared_ptr<const crypto::Identity> id_;
  Digest32 reply_sha3_{};
  bool have_reply_ = false;
};

class ReplySignerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ReplySignerFactory(std::shared_ptr<const crypto::Identity> id) : id_(std::move(id)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new ReplySigner(info, id_);
  }

 private:
  std::shared_ptr<const crypto::Identity> id_;
};

}  // namespace

CallCredentials ReadCallCredentials(const grpc::ServerContext& ctx) {
  CallCredentials out;
  const auto& md = ctx.client_metadata();
  if (auto h = Find(md, kAuthMetadataKey)) {
    auto a = DecodeRequestAuth(AsBytes(*h));
    if (a.ok()) out.auth = std::move(*a);
    else out.auth_error = a.status();
  }
  if (auto g = Find(md, kGrantMetadataKey)) out.grant.assign(g->data(), g->size());
  if (auto ac = ctx.auth_context(); ac && ac->IsPeerAuthenticated()) {
    auto pems = ac->FindPropertyValues("x509_pem_cert");
    if (!pems.empty()) {
      auto h = CertificateSha256(std::string(pems.front().data(), pems.front().size()));
      if (h.ok()) out.peer_cert_sha256 = *h;
    }
  }
  return out;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeReplySigner(
    std::shared_ptr<const crypto::Identity> identity) {
  return std::make_unique<ReplySignerFactory>(std::move(identity));
}

}  // namespace swarm::net
