// Decodes arbitrary bytes as a tensor: must never crash, and anything accepted
// must re-encode (f32) and decode to the same values.
#include <cstdint>
#include <cstdlib>

#include "nn/tensor_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  swarm::nn::TensorLimits limits;
  limits.elements_max = 1 << 20;
  limits.message_size_bytes_max = 1 << 22;
  swarm::nn::DecodeReject reason;
  auto t = swarm::nn::DecodeTensor({data, size}, limits, &reason);
  if (!t.ok()) {
    if (reason == swarm::nn::DecodeReject::kNone) std::abort();  // rejection without a reason
    return 0;
  }
  auto wire = swarm::nn::EncodeTensor(*t, swarm::nn::WireDtype::kF32);
  if (!wire.ok()) std::abort();
  auto back = swarm::nn::DecodeTensor(*wire, limits);
  if (!back.ok() || back->shape != t->shape || back->data != t->data) std::abort();
  return 0;
}
