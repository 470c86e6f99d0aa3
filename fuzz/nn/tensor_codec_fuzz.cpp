// Decodes arbitrary bytes as a tensor: must never crash, a rejection must
// carry a reason, and anything accepted must re-encode (f32) and decode to the
// same values. Besides the raw input, a structured variant (a plausible header
// with small dims built from the first bytes, the rest as payload) reaches the
// payload checks that random bytes rarely get to.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "nn/tensor_codec.h"

namespace {

void Check(const uint8_t* data, size_t size) {
  swarm::nn::TensorLimits limits;
  limits.elements_max = 1 << 20;
  limits.message_size_bytes_max = 1 << 22;
  swarm::nn::DecodeReject reason;
  auto t = swarm::nn::DecodeTensor({data, size}, limits, &reason);
  if (!t.ok()) {
    if (reason == swarm::nn::DecodeReject::kNone) std::abort();  // rejection without a reason
    return;
  }
  if (reason != swarm::nn::DecodeReject::kNone) std::abort();
  auto wire = swarm::nn::EncodeTensor(*t, swarm::nn::WireDtype::kF32);
  if (!wire.ok()) std::abort();
  auto back = swarm::nn::DecodeTensor(*wire, limits);
  if (!back.ok() || back->shape != t->shape || back->data != t->data) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Check(data, size);
  if (size < 4) return 0;
  const uint8_t dtype = data[0] % 3, rank = data[1] % 4;
  std::vector<uint8_t> s = {1, dtype, rank, 0};
  size_t pos = 2, elements = 1;
  for (uint8_t i = 0; i < rank; ++i) {
    const uint64_t d = pos < size ? data[pos++] % 6 : 1;
    elements *= d;
    for (int b = 0; b < 8; ++b) s.push_back(static_cast<uint8_t>(d >> (8 * b)));
  }
  const size_t bytes = elements * (dtype == 0 ? 4 : dtype == 1 ? 2 : 1) + (dtype == 2 ? 4 : 0);
  // Payload from the rest of the input, padded or cut around the exact size.
  for (size_t i = 0; i < bytes && pos < size; ++i) s.push_back(data[pos++]);
  while (s.size() < 4 + 8 * rank + bytes && (size % 3) != 0) s.push_back(0);
  Check(s.data(), s.size());
  return 0;
}
