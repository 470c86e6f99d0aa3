// swarm.v1.ExpertService (proto/swarm/v1/expert.proto) over an ExpertHost.
// Torch-free: decoding, validation and reply encoding happen here; the maths
// in ExpertHost. Every tensor is decoded with the strict codec under
// `limits`; a rejection is counted on the host by reason (the codec's
// DecodeRejectName, or the host's reasons) and answered INVALID_ARGUMENT with
// the reason in the message; nothing rejected is applied. Unknown experts get
// NOT_FOUND, a host at experts_max RESOURCE_EXHAUSTED.
// Thread-safety: gRPC calls handlers concurrently; the host is thread-safe.
// The host must outlive the service.
#pragma once

#include <grpcpp/grpcpp.h>

#include "net/server_auth.h"
#include "nn/expert_host.h"
#include "nn/tensor_codec.h"
#include "swarm/v1/expert.grpc.pb.h"

namespace swarm::nn {

class ExpertServiceImpl final : public swarm::v1::ExpertService::Service, public net::GuardedService {
 public:
  ExpertServiceImpl(ExpertHost* host, TensorLimits limits = {});

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
};

// absl::Status → grpc::Status: the one converter, net/grpc_status.h.
using net::ToGrpc;

}  // namespace swarm::nn
