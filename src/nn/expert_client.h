// The torch-free face of a remote expert: what the MoE layer needs from an
// expert hosted on another peer. net/ or node/ implements it over gRPC with
// nn/tensor_codec.h; nn/expert.h adapts it into an ExpertBackend (autograd).
//
// Contract (hivemind-DMoE style): the host keeps the expert's parameters and
// optimizer state. Forward(x) returns f(x). Backward(x, grad_out) returns
// dL/dx and the host itself applies dL/dparams (the trainer never sees them).
// x and grad_out are [tokens, d_model]. Any failure (deadline, dead peer and
// no replica left, malformed reply) is a non-OK Status; the MoE layer then
// masks the expert for the batch. Implementations must be thread-safe:
// Forward may be called from a dispatch thread and Backward from the autograd
// engine's thread (where torch grad mode is off: an in-process implementation
// that itself uses autograd must enable it with torch::AutoGradMode).
#pragma once

#include "common/status.h"
#include "nn/tensor_codec.h"

namespace swarm::nn {

class ExpertClient {
 public:
  virtual ~ExpertClient() = default;
  virtual StatusOr<HostTensor> Forward(const HostTensor& x) = 0;
  virtual StatusOr<HostTensor> Backward(const HostTensor& x, const HostTensor& grad_out) = 0;
};

}  // namespace swarm::nn
