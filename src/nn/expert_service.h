// swarm.v1.ExpertService (proto/swarm/v1/expert.proto) over an ExpertHost.
// Torch-free: decoding, validation and reply encoding happen here; the maths
// in ExpertHost. Every tensor is decoded with the strict codec under
// `limits`; a rejection is counted on the host by reason (the codec's
// DecodeRejectName, or the host's reasons) and answered INVALID_ARGUMENT with
// the reason in the message; nothing rejected is applied. Unknown experts get
// NOT_FOUND, a host at experts_max RESOURCE_EXHAUSTED. With a RoundSink,
// Backward contributes to a round (refusals counted by their reason:
// duplicate, late, wrong_round, untagged, ...) instead of stepping; the
// contributor is the authenticated caller's peer id (hex) from the guard;
// with an open guard (unauthenticated) the request's `trainer` field, else
// the transport peer (grpc::ServerContext::peer).
// Thread-safety: gRPC calls handlers concurrently; the host is thread-safe.
// The host must outlive the service.
#pragma once

#include <functional>

#include <grpcpp/grpcpp.h>

#include "net/server_auth.h"
#include "nn/expert_host.h"
#include "nn/tensor_codec.h"
#include "swarm/v1/expert.grpc.pb.h"

namespace swarm::nn {

// Per-round robust updates: Backward hands (expert, round, caller, dL/dparams)
// to the sink (node/experts/extension feeds train::ExpertRounds) instead of
// stepping. The sink returns OK when the contribution was taken, else the
// refusal (InvalidArgument "<reason>: ..."); it may set *steps_applied.
// Called concurrently from gRPC threads: must be thread-safe.
using RoundSink = std::function<Status(uint32_t expert, uint64_t round, const std::string& caller,
                                       std::vector<float> grad, int64_t* steps_applied)>;
// Counted reason for a Backward without a round when a sink is set.
inline constexpr const char* kRejectUntagged = "untagged";
// The sink's refusal reason for a round already closed: answered with dL/dx
// (contributed = false), counted, not an error.
inline constexpr const char* kRejectLate = "late";

class ExpertServiceImpl final : public swarm::v1::ExpertService::Service, public net::GuardedService {
 public:
  // Without a sink every Backward is its own optimizer step (per-call mode).
  ExpertServiceImpl(ExpertHost* host, TensorLimits limits = {}, RoundSink sink = nullptr);

  grpc::Status Forward(grpc::ServerContext*, const swarm::v1::ExpertForwardRequest*,
                       swarm::v1::ExpertForwardReply*) override;
  grpc::Status Backward(grpc::ServerContext*, const swarm::v1::ExpertBackwardRequest*,
                        swarm::v1::ExpertBackwardReply*) override;
  grpc::Status GetParameters(grpc::ServerContext*, const swarm::v1::ExpertParametersRequest*,
                             swarm::v1::ExpertParametersReply*) override;
  grpc::Status Info(grpc::ServerContext*, const swarm::v1::ExpertInfoRequest*,
                    swarm::v1::ExpertInfoReply*) override;

 private:
  StatusOr<HostTensor> Decode(const std::string& bytes, const char* field);
  StatusOr<WireDtype> ReplyDtype(uint32_t v);
  ExpertHost* host_;
  TensorLimits limits_;
  RoundSink sink_;
};

// absl::Status → grpc::Status: the one converter, net/grpc_status.h.
using net::ToGrpc;

}  // namespace swarm::nn
