#include "nn/tensor_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace swarm::nn {
namespace {

constexpr uint8_t kVersion = 1;

void PutU64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}
void PutF32(Bytes& out, float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(u >> (8 * i)));
}
float GetF32(const uint8_t* p) {
  uint32_t u = 0;
  for (int i = 0; i < 4; ++i) u |= static_cast<uint32_t>(p[i]) << (8 * i);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

size_t DtypeSize(WireDtype d) {
  switch (d) {
    case WireDtype::kF32: return 4;
    case WireDtype::kF16: return 2;
    case WireDtype::kInt8: return 1;
  }
  return 0;
}

Status Reject(DecodeReject r, DecodeReject* out, const std::string& detail) {
  if (out) *out = r;
  return absl::InvalidArgumentError(
      absl::StrCat("tensor decode: ", DecodeRejectName(r), ": ", detail));
}

}  // namespace

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const char* DecodeRejectName(DecodeReject r) {
  switch (r) {
    case DecodeReject::kNone: return "none";
    case DecodeReject::kTruncated: return "truncated";
    case DecodeReject::kBadVersion: return "bad_version";
    case DecodeReject::kBadDtype: return "bad_dtype";
    case DecodeReject::kReservedNonZero: return "reserved_nonzero";
    case DecodeReject::kRankTooLarge: return "rank_too_large";
    case DecodeReject::kElementsTooMany: return "elements_too_many";
    case DecodeReject::kMessageTooLarge: return "message_too_large";
    case DecodeReject::kLengthMismatch: return "length_mismatch";
    case DecodeReject::kNonFinite: return "non_finite";
    case DecodeReject::kBadScale: return "bad_scale";
  }
  return "unknown";
}

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t exp = (x >> 23) & 0xffu;
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return sign | 0x7c00u | (mant ? 0x200u : 0u);  // Inf / NaN
  const int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00u;  // overflow → Inf
  if (e <= 0) {
    if (e < -10) return sign;  // underflow → ±0
    mant |= 0x800000u;         // implicit 1
    const int shift = 14 - e;  // 24-bit mantissa → subnormal 10-bit
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t half = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;  // may carry into Inf: fine
  return sign | static_cast<uint16_t>(half);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

StatusOr<Bytes> EncodeTensor(const HostTensor& t, WireDtype dtype) {
  if (DtypeSize(dtype) == 0) return absl::InvalidArgumentError("tensor encode: unknown dtype");
  if (t.shape.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat("tensor encode: rank ", t.shape.size(), " > 255"));
  }
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (t.shape[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor encode: dim ", i, " = ", t.shape[i], " is negative"));
    }
  }
  if (t.numel() != static_cast<int64_t>(t.data.size())) {
    return absl::InvalidArgumentError(absl::StrCat("tensor encode: shape has ", t.numel(),
                                                   " elements, data has ", t.data.size()));
  }
  float amax = 0;
  for (size_t i = 0; i < t.data.size(); ++i) {
    const float v = t.data[i];
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(absl::StrCat("tensor encode: element ", i, " is not finite"));
    }
    if (dtype == WireDtype::kF16 && std::fabs(v) > 65504.0f) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor encode: element ", i, " = ", v, " is out of f16 range"));
    }
    amax = std::max(amax, std::fabs(v));
  }
  Bytes out;
  out.reserve(4 + 8 * t.shape.size() + 4 + t.data.size() * DtypeSize(dtype));
  out.push_back(kVersion);
  out.push_back(static_cast<uint8_t>(dtype));
  out.push_back(static_cast<uint8_t>(t.shape.size()));
  out.push_back(0);
  for (int64_t d : t.shape) PutU64(out, static_cast<uint64_t>(d));
  switch (dtype) {
    case WireDtype::kF32:
      for (float v : t.data) PutF32(out, v);
      break;
    case WireDtype::kF16:
      for (float v : t.data) {
        const uint16_t h = FloatToHalf(v);
        out.push_back(static_cast<uint8_t>(h));
        out.push_back(static_cast<uint8_t>(h >> 8));
      }
      break;
    case WireDtype::kInt8: {
      const float scale = amax / 127.0f;
      PutF32(out, scale);
      const float inv = scale > 0 ? 1.0f / scale : 0.0f;
      for (float v : t.data) {
        const float r = std::clamp(std::nearbyint(v * inv), -127.0f, 127.0f);
        out.push_back(static_cast<uint8_t>(static_cast<int8_t>(r)));
      }
      break;
    }
  }
  return out;
}

StatusOr<HostTensor> DecodeTensor(ByteSpan wire, const TensorLimits& limits,
                                  DecodeReject* reason) {
  if (reason) *reason = DecodeReject::kNone;
  if (wire.size() > limits.message_size_bytes_max) {
    return Reject(DecodeReject::kMessageTooLarge, reason,
                  absl::StrCat(wire.size(), " bytes > message_size_bytes_max ",
                               limits.message_size_bytes_max));
  }
  if (wire.size() < 4) {
    return Reject(DecodeReject::kTruncated, reason,
                  absl::StrCat("header needs 4 bytes, got ", wire.size()));
  }
  if (wire[0] != kVersion) {
    return Reject(DecodeReject::kBadVersion, reason,
                  absl::StrCat("version ", wire[0], ", expected ", kVersion));
  }
  if (wire[1] > static_cast<uint8_t>(WireDtype::kInt8)) {
    return Reject(DecodeReject::kBadDtype, reason,
                  absl::StrCat("dtype ", wire[1], " (valid: 0 f32, 1 f16, 2 int8)"));
  }
  const auto dtype = static_cast<WireDtype>(wire[1]);
  const uint32_t rank = wire[2];
  if (wire[3] != 0) {
    return Reject(DecodeReject::kReservedNonZero, reason, absl::StrCat("reserved byte = ", wire[3]));
  }
  if (rank > limits.rank_max) {
    return Reject(DecodeReject::kRankTooLarge, reason,
                  absl::StrCat("rank ", rank, " > rank_max ", limits.rank_max));
  }
  size_t pos = 4;
  const size_t header = pos + 8 * rank + (dtype == WireDtype::kInt8 ? 4 : 0);
  if (wire.size() < header) {
    return Reject(DecodeReject::kTruncated, reason,
                  absl::StrCat("header needs ", header, " bytes, got ", wire.size()));
  }
  HostTensor t;
  uint64_t elements = 1;
  for (uint32_t i = 0; i < rank; ++i, pos += 8) {
    const uint64_t d = GetU64(wire.data() + pos);
    if (d > limits.elements_max || (d != 0 && elements > limits.elements_max / d)) {
      return Reject(DecodeReject::kElementsTooMany, reason,
                    absl::StrCat("dim ", i, " = ", d, " makes more than elements_max ",
                                 limits.elements_max, " elements"));
    }
    elements *= d;
    t.shape.push_back(static_cast<int64_t>(d));
  }
  if (elements > limits.elements_max) {
    return Reject(DecodeReject::kElementsTooMany, reason,
                  absl::StrCat(elements, " elements > elements_max ", limits.elements_max));
  }
  float scale = 1.0f;
  if (dtype == WireDtype::kInt8) {
    scale = GetF32(wire.data() + pos);
    pos += 4;
    if (!std::isfinite(scale)) return Reject(DecodeReject::kNonFinite, reason, "int8 scale is not finite");
    if (scale < 0) {
      return Reject(DecodeReject::kBadScale, reason, absl::StrCat("int8 scale ", scale, " < 0"));
    }
  }
  const uint64_t payload = wire.size() - pos;
  if (payload != elements * DtypeSize(dtype)) {
    return Reject(DecodeReject::kLengthMismatch, reason,
                  absl::StrCat("shape has ", elements, " elements x ", DtypeSize(dtype),
                               " bytes = ", elements * DtypeSize(dtype),
                               " but payload is ", payload, " bytes"));
  }
  t.data.resize(elements);
  const uint8_t* p = wire.data() + pos;
  for (uint64_t i = 0; i < elements; ++i) {
    float v;
    switch (dtype) {
      case WireDtype::kF32: v = GetF32(p + 4 * i); break;
      case WireDtype::kF16: v = HalfToFloat(static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8))); break;
      default: v = static_cast<float>(static_cast<int8_t>(p[i])) * scale; break;
    }
    if (!std::isfinite(v)) {
      return Reject(DecodeReject::kNonFinite, reason, absl::StrCat("element ", i, " is NaN or Inf"));
    }
    t.data[i] = v;
  }
  return t;
}

}  // namespace swarm::nn
