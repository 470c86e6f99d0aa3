// Tensor wire codec for expert RPCs and averaging: dtype, shape and raw
// little-endian bytes. Torch-free (library swarm_nn_codec), so the network
// layer and the fuzzer do not pull in LibTorch.
//
// Layout (all integers little-endian):
//   u8  version   = 1
//   u8  dtype     0 = f32, 1 = f16 (IEEE binary16), 2 = int8 (symmetric, one scale)
//   u8  rank      0..limits.rank_max
//   u8  reserved  = 0
//   u64 dims[rank]
//   f32 scale                      (int8 only; value = q * scale, scale finite, >= 0)
//   payload: elements * sizeof(dtype) bytes, nothing after it
//
// Decode never trusts the peer: it checks every field, that
// shape x dtype = payload length exactly, the named limits, and that no value
// is NaN/Inf; a rejection is a Status whose message starts with
// "tensor decode: <reason>:" and, if asked, the reason as an enum for metrics.
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace swarm::nn {

enum class WireDtype : uint8_t { kF32 = 0, kF16 = 1, kInt8 = 2 };

// A dense row-major float tensor on the host (the codec's decoded form).
struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // product(shape) values
  int64_t numel() const;
};

struct TensorLimits {
  uint32_t rank_max = 8;
  uint64_t elements_max = uint64_t{1} << 28;       // 268 M
  uint64_t message_size_bytes_max = uint64_t{1} << 30;  // 1 GiB
};

enum class DecodeReject {
  kNone = 0,
  kTruncated,          // shorter than the header says
  kBadVersion,
  kBadDtype,
  kReservedNonZero,
  kRankTooLarge,
  kElementsTooMany,    // product of dims overflows or exceeds elements_max
  kMessageTooLarge,    // input longer than message_size_bytes_max
  kLengthMismatch,     // payload length != elements * dtype size
  kNonFinite,          // NaN or Inf in the payload (or the int8 scale)
  kBadScale,           // int8 scale negative
};
// Stable lowercase name for metrics labels, e.g. "length_mismatch".
const char* DecodeRejectName(DecodeReject r);

// Encodes `t`. Errors: shape/data disagree, negative dim, NaN/Inf, or a value
// out of f16 range when dtype is f16 (InvalidArgument naming the index).
StatusOr<Bytes> EncodeTensor(const HostTensor& t, WireDtype dtype);
// Decodes and validates `wire`; on rejection `*reason` (if given) says why.
StatusOr<HostTensor> DecodeTensor(ByteSpan wire, const TensorLimits& limits = {},
                                  DecodeReject* reason = nullptr);

// IEEE binary16 conversions (round to nearest even), exposed for tests.
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);

}  // namespace swarm::nn
