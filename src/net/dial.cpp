#include "net/dial.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <chrono>
#include <mutex>

#include <google/protobuf/message_lite.h>
#include <spdlog/spdlog.h>
#include <grpcpp/support/client_interceptor.h>

#include "crypto/hash.h"
#include "net/address.h"
#include "net/message_hash.h"
#include "net/rpc.h"

namespace swarm::net {
namespace {

using grpc::experimental::InterceptionHookPoints;

// What every call on one channel shares.
struct SignerState {
  std::shared_ptr<const crypto::Identity> identity;
  std::string grant;  // bytes as sent
  Digest32 grant_sha3{};
  std::shared_ptr<const GrantHolder> grant_holder;  // when set, replaces grant / grant_sha3
  std::optional<Digest32> cert_sha256;
  std::optional<crypto::PeerIdBytes> expected_peer;
  // The expected peer's key, expanded once (ML-DSA verification is several
  // times faster with the prepared matrix).
  mutable std::mutex mu;
  mutable std::optional<crypto::PreparedVerifier> peer_key;  // guarded by mu
};

uint64_t UnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// One per call: signs the request, then (when a peer is expected) checks the reply.
class SigningInterceptor final : public grpc::experimental::Interceptor {
 public:
  SigningInterceptor(grpc::experimental::ClientRpcInfo* info, std::shared_ptr<const SignerState> st)
      : method_(info->method() ? info->method() : ""), st_(std::move(st)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      Sign(m);
    }
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      reply_ = m->GetRecvMessage();
    }
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      CheckReply(m);
    }
    m->Proceed();
  }

 private:
  void Sign(grpc::experimental::InterceptorBatchMethods* m) {
    RequestAuth a;
    a.method = method_;
    if (m->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      const void* msg = m->GetSendMessage();
      if (msg != nullptr) {
        a.body_sha3 = MessageSha3(*static_cast<const google::protobuf::MessageLite*>(msg));
      } else {
        a.body_sha3 = ByteBufferSha3(*m->GetSerializedSendMessage());
      }
    } else {
      a.body_sha3 = crypto::Sha3_256(ByteSpan());  // streaming: no single request
    }
    a.unix_ms = UnixMs();
    RAND_bytes(a.nonce.data(), static_cast<int>(a.nonce.size()));
    std::shared_ptr<const std::string> held;
    if (st_->grant_holder) {
      auto [g, h] = st_->grant_holder->Get();
      held = std::move(g);
      a.grant_sha3 = h;
    } else {
      a.grant_sha3 = st_->grant_sha3;
    }
    a.tls_cert_sha256 = st_->cert_sha256;
    if (!SignRequestAuth(*st_->identity, a).ok()) return;  // the server refuses it as unauthenticated
    nonce_ = a.nonce;
    signed_ = true;
    const Bytes header = EncodeRequestAuth(a);
    auto* md = m->GetSendInitialMetadata();
    md->emplace(kAuthMetadataKey, std::string(header.begin(), header.end()));
    const std::string& grant = held ? *held : st_->grant;
    if (!grant.empty()) md->emplace(kGrantMetadataKey, grant);
  }

  void CheckReply(grpc::experimental::InterceptorBatchMethods* m) {
    grpc::Status* status = m->GetRecvStatus();
    if (!st_->expected_peer || !signed_ || status == nullptr || !status->ok()) return;
    Status verdict = [&]() -> Status {
      if (reply_ == nullptr) return absl::UnauthenticatedError("reply carries no message");
      auto* trailers = m->GetRecvTrailingMetadata();
      auto it = trailers->find(kReplyMetadataKey);
      if (it == trailers->end()) {
        return absl::UnauthenticatedError(absl::StrCat("reply to ", method_, " carries no signature (expected peer ",
                                                       ShortPeerId(*st_->expected_peer), ")"));
      }
      SWARM_ASSIGN_OR_RETURN(ReplyAuth ra, DecodeReplyAuth(AsBytes(std::string_view(it->second.data(), it->second.size()))));
      const Digest32 h = MessageSha3(*static_cast<const google::protobuf::MessageLite*>(reply_));
      if (crypto::PeerIdOf(ra.scheme, ra.public_key) != *st_->expected_peer) {
        return VerifyReplyAuth(ra, nonce_, method_, h, st_->expected_peer);  // names both peers
      }
      std::optional<crypto::PreparedVerifier> key;
      {
        std::lock_guard<std::mutex> lock(st_->mu);
        key = st_->peer_key;
      }
      if (!key) {
        SWARM_ASSIGN_OR_RETURN(key, crypto::PreparedVerifier::Create(ra.scheme, ra.public_key));
        std::lock_guard<std::mutex> lock(st_->mu);
        st_->peer_key = key;
      }
      if (!key->Verify(ReplySigningBytes(nonce_, method_, h), ra.signature).ok()) {
        return absl::UnauthenticatedError(absl::StrCat("reply to ", method_, " from peer ",
                                                       ShortPeerId(*st_->expected_peer),
                                                       ": signature does not verify"));
      }
      return absl::OkStatus();
    }();
    if (!verdict.ok()) {
      *status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                             absl::StrCat("unauthenticated: ", verdict.message()));
    }
  }

  std::string method_;
  std::shared_ptr<const SignerState> st_;
  Nonce nonce_{};
  bool signed_ = false;
  void* reply_ = nullptr;
};

class SigningInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit SigningInterceptorFactory(std::shared_ptr<const SignerState> st) : st_(std::move(st)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo* info) override {
    return new SigningInterceptor(info, st_);
  }

 private:
  std::shared_ptr<const SignerState> st_;
};

}  // namespace

StatusOr<Digest32> CertificateSha256(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::InternalError("certificate: out of memory");
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return absl::InvalidArgumentError("certificate: not a PEM X.509 certificate");
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  X509_free(cert);
  if (n <= 0) return absl::InvalidArgumentError("certificate: cannot encode as DER");
  Digest32 out{};
  SHA256(der, static_cast<size_t>(n), out.data());
  OPENSSL_free(der);
  return out;
}

std::shared_ptr<grpc::Channel> DialOrUnavailable(const std::string& address, const DialOptions& options) {
  auto ch = Dial(address, options);
  if (ch.ok()) return *ch;
  spdlog::warn("dial {}: {}", address, std::string(ch.status().message()));
  // Nothing listens on port 1 of this host's wildcard address: calls fail UNAVAILABLE.
  DialOptions plain;
  return *Dial("0.0.0.0:1", plain);
}

StatusOr<ReplyAuth> ReplyAuthOf(const grpc::ClientContext& ctx) {
  const auto& t = ctx.GetServerTrailingMetadata();
  auto it = t.find(kReplyMetadataKey);
  if (it == t.end()) return absl::NotFoundError("the reply carries no signature");
  return DecodeReplyAuth(AsBytes(std::string_view(it->second.data(), it->second.size())));
}

namespace {
struct ProcessCredentials {
  std::shared_ptr<const crypto::Identity> identity;
  Bytes grant;
};
std::mutex& DefaultCredentialsMu() {
  static std::mutex mu;
  return mu;
}
ProcessCredentials& DefaultCredentials() {
  static ProcessCredentials c;
  return c;
}
}  // namespace

void GrantHolder::Set(Bytes grant) {
  auto g = std::make_shared<const std::string>(grant.begin(), grant.end());
  const Digest32 h = crypto::Sha3_256(grant);
  std::lock_guard<std::mutex> lock(mu_);
  grant_ = std::move(g);
  sha3_ = h;
}

std::pair<std::shared_ptr<const std::string>, Digest32> GrantHolder::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {grant_, sha3_};
}

void SetDefaultCallCredentials(std::shared_ptr<const crypto::Identity> identity, Bytes grant) {
  std::lock_guard<std::mutex> lock(DefaultCredentialsMu());
  DefaultCredentials() = ProcessCredentials{std::move(identity), std::move(grant)};
}

StatusOr<std::shared_ptr<grpc::Channel>> Dial(const std::string& address, const DialOptions& options) {
  SWARM_ASSIGN_OR_RETURN(Address addr, ParseAddress(address));
  const NetOptions& net = options.net;
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  std::optional<Digest32> cert_sha256;
  if (net.tls.enabled) {
    grpc::SslCredentialsOptions ssl;
    if (!net.tls.ca_file.empty()) {
      SWARM_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadTextFile(net.tls.ca_file, "tls.ca_file"));
    }
    if (!net.tls.cert_file.empty()) {
      SWARM_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadTextFile(net.tls.cert_file, "tls.cert_file"));
      SWARM_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadTextFile(net.tls.key_file, "tls.key_file"));
      auto h = CertificateSha256(ssl.pem_cert_chain);
      if (!h.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tls.cert_file '", net.tls.cert_file, "': ", h.status().message()));
      }
      cert_sha256 = *h;
    }
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  const int size_max = static_cast<int>(std::min<int64_t>(net.message_size_bytes_max, INT32_MAX));
  args.SetMaxReceiveMessageSize(size_max);
  args.SetMaxSendMessageSize(size_max);
  // PeerClient's retry loop decides; gRPC's transparent retries would double count.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, kMetadataBytesMax);  // signed replies
  // A restarted peer is reachable again quickly (gRPC's default max backoff is 120 s).
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC also uses it as the connect
  // timeout, and 100 ms is too short for a TLS handshake on a loaded machine.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, options.reconnect_backoff_initial_ms);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, options.reconnect_backoff_max_ms);
  if (options.keepalive_time_ms > 0) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_time_ms);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout_ms);
  }
  std::shared_ptr<const crypto::Identity> identity = options.identity;
  Bytes grant = options.grant;
  if (!identity) {
    std::lock_guard<std::mutex> lock(DefaultCredentialsMu());
    identity = DefaultCredentials().identity;
    grant = DefaultCredentials().grant;
  }
  if (!identity) {
    return grpc::CreateCustomChannel(addr.ToString(), creds, args);
  }
  auto st = std::make_shared<SignerState>();
  st->identity = identity;
  st->grant.assign(grant.begin(), grant.end());
  st->grant_sha3 = crypto::Sha3_256(grant);
  st->grant_holder = options.identity ? options.grant_holder : nullptr;
  st->cert_sha256 = cert_sha256;
  st->expected_peer = options.expected_peer;
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<SigningInterceptorFactory>(std::move(st)));
  return grpc::experimental::CreateCustomChannelWithInterceptors(addr.ToString(), creds, args,
                                                                 std::move(interceptors));
}

}  // namespace swarm::net
