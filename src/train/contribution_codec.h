// Wire format of one averaging contribution (the payload of a signed "train"
// envelope between trainer peers). Torch-free.
//
//   "SWTC" | version u8 = 1 | encoding u8 | job u64 | round u64 |
//   sender_len u16 | sender bytes | dim u64 | body
//   body, encoding 0 (f32):  dim x f32
//        encoding 1 (int8): chunk u32 | scales_count u64 | scales f32 x count | q i8 x dim
//        encoding 2 (topk): nnz u64 | indices u32 x nnz | values f32 x nnz
// All integers and floats little-endian.
//
// DecodeContribution checks every length against the buffer and the limits
// before reading or allocating, and returns InvalidArgument naming the field
// and value ("contribution: dim = 99999999 exceeds dim_max = 4096"). It does
// not check finiteness (the Averager counts non_finite) but int8/top-k
// decoding validates indices and scale counts. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "train/compression.h"

namespace swarm::train {

enum class WireEncoding : uint8_t { kF32 = 0, kInt8 = 1, kTopK = 2 };

struct ContributionHeader {
  uint64_t job = 0;       // job id: contributions of other jobs are rejected
  uint64_t round = 0;
  std::string sender;     // the sender's trainer name (its gRPC address)
};

struct DecodedContribution {
  ContributionHeader header;
  WireEncoding encoding = WireEncoding::kF32;
  std::vector<float> values;  // dense, dim elements
};

struct ContributionLimits {
  uint64_t dim_max = uint64_t{1} << 28;
  size_t sender_bytes_max = 256;
};

Bytes EncodeContributionF32(const ContributionHeader& h, std::span<const float> values);
Bytes EncodeContributionInt8(const ContributionHeader& h, const QuantizedInt8& q);
Bytes EncodeContributionTopK(const ContributionHeader& h, const SparseVector& s);

StatusOr<DecodedContribution> DecodeContribution(ByteSpan wire, const ContributionLimits& limits = {});

}  // namespace swarm::train
