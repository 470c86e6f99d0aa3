#include "chunks/fastcdc.h"

#include <array>
#include <bit>

namespace swarm::chunks {
namespace {

// 256 pseudo-random 64-bit values from splitmix64 with a fixed seed. Fixed
// forever: boundaries (and so deduplication against older stores) depend on it.
constexpr std::array<uint64_t, 256> MakeGear() {
  std::array<uint64_t, 256> t{};
  uint64_t x = 0x5357524d43444331ULL;  // "SWRMCDC1"
  for (auto& v : t) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    v = z ^ (z >> 31);
  }
  return t;
}
constexpr std::array<uint64_t, 256> kGear = MakeGear();

// `bits` one-bits just below the top bit of the hash (bits 62 down to
// 63 - bits): the highest bits see the most input bytes (up to 63 back).
constexpr uint64_t TopMask(uint32_t bits) { return ((uint64_t{1} << bits) - 1) << (63 - bits); }

}  // namespace

Status ValidateChunkerParams(const ChunkerParams& p) {
  auto bad = [](const char* field, uint64_t v, const char* want) {
    return absl::InvalidArgumentError(
        absl::StrCat("chunker parameter '", field, "' = ", v, ": ", want));
  };
  if (p.min_bytes < kChunkMinBytesFloor) {
    return bad("min_bytes", p.min_bytes, absl::StrCat("must be >= ", kChunkMinBytesFloor).c_str());
  }
  if (!std::has_single_bit(p.avg_bytes)) return bad("avg_bytes", p.avg_bytes, "must be a power of two");
  if (p.avg_bytes <= p.min_bytes) {
    return bad("avg_bytes", p.avg_bytes, absl::StrCat("must exceed min_bytes ", p.min_bytes).c_str());
  }
  if (p.max_bytes <= p.avg_bytes) {
    return bad("max_bytes", p.max_bytes, absl::StrCat("must exceed avg_bytes ", p.avg_bytes).c_str());
  }
  if (p.max_bytes > kChunkBytesMax) {
    return bad("max_bytes", p.max_bytes, absl::StrCat("must be <= ", kChunkBytesMax).c_str());
  }
  const uint32_t bits = static_cast<uint32_t>(std::countr_zero(p.avg_bytes));
  if (p.normalization_level > kNormalizationLevelMax || p.normalization_level >= bits) {
    return bad("normalization_level", p.normalization_level,
               absl::StrCat("must be <= ", kNormalizationLevelMax, " and < log2(avg_bytes) = ", bits)
                   .c_str());
  }
  return absl::OkStatus();
}

StatusOr<Chunker> Chunker::Create(const ChunkerParams& params) {
  SWARM_RETURN_IF_ERROR(ValidateChunkerParams(params));
  return Chunker(params);
}

Chunker::Chunker(const ChunkerParams& p) : params_(p) {
  const uint32_t bits = static_cast<uint32_t>(std::countr_zero(p.avg_bytes));
  mask_hard_ = TopMask(bits + p.normalization_level);
  mask_easy_ = TopMask(bits - p.normalization_level);
}

size_t Chunker::NextChunkBytes(ByteSpan data) const {
  const size_t n = data.size();
  if (n <= params_.min_bytes) return n;
  const size_t end = n < params_.max_bytes ? n : params_.max_bytes;
  const size_t normal = end < params_.avg_bytes ? end : params_.avg_bytes;
  const uint8_t* d = data.data();
  uint64_t h = 0;
  size_t i = params_.min_bytes;
  for (; i < normal; ++i) {
    h = (h << 1) + kGear[d[i]];
    if ((h & mask_hard_) == 0) return i + 1;
  }
  for (; i < end; ++i) {
    h = (h << 1) + kGear[d[i]];
    if ((h & mask_easy_) == 0) return i + 1;
  }
  return end;
}

std::vector<uint32_t> Chunker::Split(ByteSpan data) const {
  std::vector<uint32_t> out;
  out.reserve(data.size() / params_.avg_bytes + 1);
  while (!data.empty()) {
    const size_t len = NextChunkBytes(data);
    out.push_back(static_cast<uint32_t>(len));
    data = data.subspan(len);
  }
  return out;
}

}  // namespace swarm::chunks
