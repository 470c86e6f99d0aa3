#include "nn/remote_experts.h"
#include "net/dial.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <optional>
#include <mutex>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_join.h"
#include "swarm/v1/expert.grpc.pb.h"

namespace swarm::nn {
namespace {

enum Reason { kDeadline = 0, kUnavailable, kRejected, kBadReply, kError, kNoOwner };

Reason ReasonOf(const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED: return kDeadline;
    case grpc::StatusCode::UNAVAILABLE: return kUnavailable;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::OUT_OF_RANGE: return kRejected;
    default: return kError;
  }
}

std::string Describe(const grpc::Status& s) {
  return absl::StrCat("code ", static_cast<int>(s.error_code()), ": ", s.error_message());
}

std::chrono::system_clock::time_point DeadlineFromNow(Nanos d) {
  return std::chrono::system_clock::now() + std::chrono::nanoseconds(d);
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

class GrpcExpertClient final : public ExpertClient {
 public:
  GrpcExpertClient(uint32_t id, std::function<std::vector<std::string>()> owners,
                   RemoteExpertOptions options, std::shared_ptr<RemoteExpertCounters> counters)
      : id_(id), owners_(std::move(owners)), options_(std::move(options)),
        counters_(counters ? std::move(counters) : std::make_shared<RemoteExpertCounters>()) {
    valid_ = options_.Validate();
    if (valid_.ok()) dtype_ = *ParseWireDtype(options_.wire_dtype);
    limits_.message_size_bytes_max = options_.message_bytes_max;
  }

  StatusOr<HostTensor> Forward(const HostTensor& x) override {
    ++counters_->forward_calls;
    SWARM_RETURN_IF_ERROR(valid_);
    SWARM_ASSIGN_OR_RETURN(Bytes wire, Encode(x, "x"));
    swarm::v1::ExpertForwardRequest req;
    req.set_expert_id(id_);
    req.set_x(wire.data(), wire.size());
    req.set_reply_dtype(static_cast<uint32_t>(dtype_));
    const std::vector<std::string> owners = Owners();
    if (owners.empty()) {
      ++counters_->failures[kNoOwner];
      ++counters_->forward_failed;
      return absl::UnavailableError(absl::StrCat("expert ", id_, ": no owner in the ring"));
    }
    std::vector<std::string> errors;
    for (size_t r = 0; r < owners.size(); ++r) {
      if (r > 0) ++counters_->failovers;
      for (int a = 0; a < options_.attempts_per_replica; ++a) {
        auto stub = swarm::v1::ExpertService::NewStub(Channel(owners[r]));
        grpc::ClientContext ctx;
        ctx.set_deadline(DeadlineFromNow(options_.call_deadline));
        swarm::v1::ExpertForwardReply reply;
        counters_->bytes_sent += static_cast<int64_t>(wire.size());
        const grpc::Status s = stub->Forward(&ctx, req, &reply);
        if (!s.ok()) {
          MarkFailed(owners[r]);
          const Reason why = ReasonOf(s);
          ++counters_->failures[why];
          errors.push_back(absl::StrCat(owners[r], ": ", kExpertFailureReasons[why], " (",
                                        Describe(s), ")"));
          if (why == kRejected) break;  // deterministic: retrying the same host won't help
          continue;
        }
        counters_->bytes_received += static_cast<int64_t>(reply.y().size());
        auto y = DecodeReply(reply.y(), x.shape);
        if (!y.ok()) {
          MarkFailed(owners[r]);
          ++counters_->failures[kBadReply];
          errors.push_back(absl::StrCat(owners[r], ": bad_reply (", y.status().message(), ")"));
          break;
        }
        ++counters_->forward_ok;
        return y;
      }
    }
    ++counters_->forward_failed;
    return absl::UnavailableError(absl::StrCat("expert ", id_, " forward: no replica answered: ",
                                               absl::StrJoin(errors, "; ")));
  }

  // One attempt per replica (a retried Backward could be applied twice),
  // sent to all replicas at once through one completion queue.
  StatusOr<HostTensor> Backward(const HostTensor& x, const HostTensor& grad_out) override {
    ++counters_->backward_calls;
    SWARM_RETURN_IF_ERROR(valid_);
    if (x.shape != grad_out.shape) {
      return absl::InvalidArgumentError(absl::StrCat("expert ", id_, " backward: grad_out shape ",
                                                     ShapeText(grad_out.shape), " != x shape ",
                                                     ShapeText(x.shape)));
    }
    SWARM_ASSIGN_OR_RETURN(Bytes xw, Encode(x, "x"));
    SWARM_ASSIGN_OR_RETURN(Bytes gw, Encode(grad_out, "grad_out"));
    swarm::v1::ExpertBackwardRequest req;
    req.set_expert_id(id_);
    req.set_x(xw.data(), xw.size());
    req.set_grad_y(gw.data(), gw.size());
    req.set_reply_dtype(static_cast<uint32_t>(dtype_));
    const std::vector<std::string> owners = Owners();
    if (owners.empty()) {
      ++counters_->failures[kNoOwner];
      ++counters_->backward_failed;
      return absl::UnavailableError(absl::StrCat("expert ", id_, ": no owner in the ring"));
    }
    const size_t n = owners.size();
    grpc::CompletionQueue cq;
    std::vector<std::unique_ptr<grpc::ClientContext>> ctx(n);
    std::vector<swarm::v1::ExpertBackwardReply> replies(n);
    std::vector<grpc::Status> statuses(n);
    std::vector<std::unique_ptr<grpc::ClientAsyncResponseReader<swarm::v1::ExpertBackwardReply>>>
        readers(n);
    std::vector<std::unique_ptr<swarm::v1::ExpertService::Stub>> stubs(n);
    for (size_t r = 0; r < n; ++r) {
      ctx[r] = std::make_unique<grpc::ClientContext>();
      ctx[r]->set_deadline(DeadlineFromNow(options_.call_deadline));
      stubs[r] = swarm::v1::ExpertService::NewStub(Channel(owners[r]));
      counters_->bytes_sent += static_cast<int64_t>(xw.size() + gw.size());
      readers[r] = stubs[r]->AsyncBackward(ctx[r].get(), req, &cq);
      readers[r]->Finish(&replies[r], &statuses[r], reinterpret_cast<void*>(r));
    }
    for (size_t done = 0; done < n; ++done) {
      void* tag = nullptr;
      bool ok = false;
      if (!cq.Next(&tag, &ok)) break;
    }
    cq.Shutdown();
    std::vector<std::string> errors;
    std::optional<HostTensor> first;
    size_t applied = 0;
    for (size_t r = 0; r < n; ++r) {
      if (!statuses[r].ok()) {
        MarkFailed(owners[r]);
        const Reason why = ReasonOf(statuses[r]);
        ++counters_->failures[why];
        errors.push_back(absl::StrCat(owners[r], ": ", kExpertFailureReasons[why], " (",
                                      Describe(statuses[r]), ")"));
        continue;
      }
      ++applied;
      counters_->bytes_received += static_cast<int64_t>(replies[r].grad_x().size());
      if (first) continue;
      auto g = DecodeReply(replies[r].grad_x(), x.shape);
      if (!g.ok()) {
        ++counters_->failures[kBadReply];
        errors.push_back(absl::StrCat(owners[r], ": bad_reply (", g.status().message(), ")"));
        continue;
      }
      first = std::move(*g);
    }
    if (!first) {
      ++counters_->backward_failed;
      return absl::UnavailableError(absl::StrCat("expert ", id_, " backward: applied by ", applied,
                                                 " of ", n, " replicas, no usable reply: ",
                                                 absl::StrJoin(errors, "; ")));
    }
    if (applied < n) counters_->failovers += static_cast<int64_t>(n - applied);
    ++counters_->backward_ok;
    return *std::move(first);
  }

 private:
  std::vector<std::string> Owners() {
    std::vector<std::string> o = owners_ ? owners_() : std::vector<std::string>{};
    if (o.size() > options_.replicas_max) o.resize(options_.replicas_max);
    const Nanos now = clock_.Now();
    std::lock_guard<std::mutex> lock(mu_);
    std::stable_partition(o.begin(), o.end(), [&](const std::string& a) {
      auto it = failed_at_.find(a);
      return it == failed_at_.end() || now - it->second > options_.failed_replica_cooldown;
    });
    return o;
  }

  void MarkFailed(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_at_.size() > 1024) failed_at_.clear();  // bounded
    failed_at_[address] = clock_.Now();
  }

  StatusOr<Bytes> Encode(const HostTensor& t, const char* what) {
    auto w = EncodeTensor(t, dtype_);
    if (!w.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("expert ", id_, ": cannot encode ", what, ": ", w.status().message()));
    }
    if (w->size() > options_.message_bytes_max) {
      return absl::InvalidArgumentError(absl::StrCat("expert ", id_, ": ", what, " is ", w->size(),
                                                     " bytes, message_bytes_max is ",
                                                     options_.message_bytes_max));
    }
    return w;
  }

  StatusOr<HostTensor> DecodeReply(const std::string& bytes, const std::vector<int64_t>& shape) {
    SWARM_ASSIGN_OR_RETURN(HostTensor t, DecodeTensor(AsBytes(bytes), limits_));
    if (t.shape != shape) {
      return absl::DataLossError(absl::StrCat("reply shape ", ShapeText(t.shape), " != request shape ",
                                              ShapeText(shape)));
    }
    return t;
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
    if (options_.channel_for) return options_.channel_for(address);
    std::lock_guard<std::mutex> lock(mu_);
    auto& ch = channels_[address];
    if (!ch) ch = MakeExpertChannel(address, options_.message_bytes_max);
    return ch;
  }

  const uint32_t id_;
  const std::function<std::vector<std::string>()> owners_;
  const RemoteExpertOptions options_;
  std::shared_ptr<RemoteExpertCounters> counters_;
  Status valid_;
  WireDtype dtype_ = WireDtype::kF32;
  TensorLimits limits_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;  // guarded by mu_
  std::map<std::string, Nanos> failed_at_;                            // guarded by mu_
  RealClock clock_;
};

}  // namespace

StatusOr<WireDtype> ParseWireDtype(const std::string& name) {
  if (name == "f32") return WireDtype::kF32;
  if (name == "f16") return WireDtype::kF16;
  if (name == "int8") return WireDtype::kInt8;
  return absl::InvalidArgumentError(
      absl::StrCat("wire_dtype '", name, "' is not one of f32, f16, int8"));
}

const char* WireDtypeName(WireDtype d) {
  switch (d) {
    case WireDtype::kF32: return "f32";
    case WireDtype::kF16: return "f16";
    case WireDtype::kInt8: return "int8";
  }
  return "unknown";
}

Status RemoteExpertOptions::Validate() const {
  if (attempts_per_replica < 1 || attempts_per_replica > kExpertAttemptsPerReplicaMax) {
    return absl::InvalidArgumentError(absl::StrCat("attempts_per_replica = ", attempts_per_replica,
                                                   " is out of range [1, ",
                                                   kExpertAttemptsPerReplicaMax, "]"));
  }
  if (call_deadline <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("call_deadline = ", call_deadline, " ns must be positive"));
  }
  if (message_bytes_max < 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("message_bytes_max = ", message_bytes_max, " is below 1024"));
  }
  if (failed_replica_cooldown < 0) {
    return absl::InvalidArgumentError(absl::StrCat("failed_replica_cooldown = ",
                                                   failed_replica_cooldown, " ns is negative"));
  }
  if (replicas_max == 0) return absl::InvalidArgumentError("replicas_max = 0 must be positive");
  return ParseWireDtype(wire_dtype).status();
}

std::map<std::string, int64_t> RemoteExpertCounters::FailuresByReason() const {
  std::map<std::string, int64_t> out;
  for (size_t i = 0; i < std::size(kExpertFailureReasons); ++i) {
    out[kExpertFailureReasons[i]] = failures[i].load();
  }
  return out;
}

std::shared_ptr<ExpertClient> MakeGrpcExpertClient(
    uint32_t expert_id, std::function<std::vector<std::string>()> owners,
    RemoteExpertOptions options, std::shared_ptr<RemoteExpertCounters> counters) {
  return std::make_shared<GrpcExpertClient>(expert_id, std::move(owners), std::move(options),
                                            std::move(counters));
}

std::shared_ptr<grpc::Channel> MakeExpertChannel(const std::string& address,
                                                 uint64_t message_bytes_max) {
  // Unsigned (tools and tests); peers pass RemoteExpertOptions::channel_for
  // (Node::ChannelTo), whose calls are signed.
  net::DialOptions o;
  o.net.message_size_bytes_max = static_cast<int64_t>(std::min<uint64_t>(message_bytes_max, INT32_MAX));
  o.reconnect_backoff_initial_ms = 200;
  return net::DialOrUnavailable(address, o);
}

StatusOr<ExpertHostInfo> QueryExpertHost(const std::string& address, Nanos deadline,
                                         const ChannelFactory& channel_for) {
  auto ch = channel_for ? channel_for(address)
                        : MakeExpertChannel(address, kExpertMessageSizeBytesDefault);
  auto stub = swarm::v1::ExpertService::NewStub(ch);
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineFromNow(deadline));
  swarm::v1::ExpertInfoReply reply;
  const grpc::Status s = stub->Info(&ctx, swarm::v1::ExpertInfoRequest{}, &reply);
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("expert host ", address, ": Info: ", Describe(s)));
  }
  ExpertHostInfo info;
  for (const auto& e : reply.experts()) {
    info.experts.push_back({e.id(), static_cast<int64_t>(e.d_model()),
                            static_cast<int64_t>(e.hidden()),
                            static_cast<int64_t>(e.steps_applied()),
                            static_cast<int64_t>(e.forwards())});
  }
  for (const auto& [reason, n] : reply.rejected()) info.rejected[reason] = static_cast<int64_t>(n);
  return info;
}

StatusOr<HostTensor> FetchExpertParameters(const std::string& address, uint32_t expert_id,
                                           Nanos deadline, const ChannelFactory& channel_for,
                                           uint64_t message_bytes_max) {
  auto ch = channel_for ? channel_for(address) : MakeExpertChannel(address, message_bytes_max);
  auto stub = swarm::v1::ExpertService::NewStub(ch);
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineFromNow(deadline));
  swarm::v1::ExpertParametersRequest req;
  req.set_expert_id(expert_id);
  swarm::v1::ExpertParametersReply reply;
  const grpc::Status s = stub->GetParameters(&ctx, req, &reply);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("expert host ", address, ": GetParameters(", expert_id, "): ", Describe(s)));
  }
  TensorLimits limits;
  limits.message_size_bytes_max = message_bytes_max;
  return DecodeTensor(AsBytes(reply.params()), limits);
}

}  // namespace swarm::nn
