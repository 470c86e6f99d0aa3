#include "train/contribution_codec.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace swarm::train {
namespace {

static_assert(std::endian::native == std::endian::little, "the wire format is little-endian");

constexpr char kMagic[4] = {'S', 'W', 'T', 'C'};
constexpr uint8_t kVersion = 1;

class Writer {
 public:
  template <typename T>
  void Put(T v) {
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }
  void PutRaw(const void* p, size_t n) {
    const size_t at = out_.size();
    out_.resize(at + n);
    if (n) std::memcpy(out_.data() + at, p, n);
  }
  Bytes Take() { return std::move(out_); }

 private:
  Bytes out_;
};

class Reader {
 public:
  explicit Reader(ByteSpan in) : in_(in) {}
  template <typename T>
  Status Get(T& v, const char* field) {
    SWARM_RETURN_IF_ERROR(Need(sizeof(T), field));
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return absl::OkStatus();
  }
  Status GetRaw(void* p, size_t n, const char* field) {
    SWARM_RETURN_IF_ERROR(Need(n, field));
    if (n) std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  Status Need(size_t n, const char* field) const {
    if (remaining() < n) {
      return absl::InvalidArgumentError(absl::StrCat("contribution: truncated at field '", field,
                                                     "' (needs ", n, " bytes, ", remaining(), " left)"));
    }
    return absl::OkStatus();
  }
  ByteSpan in_;
  size_t pos_ = 0;
};

void PutHeader(Writer& w, const ContributionHeader& h, WireEncoding e, uint64_t dim) {
  w.PutRaw(kMagic, 4);
  w.Put<uint8_t>(kVersion);
  w.Put<uint8_t>(static_cast<uint8_t>(e));
  w.Put<uint64_t>(h.job);
  w.Put<uint64_t>(h.round);
  w.Put<uint16_t>(static_cast<uint16_t>(h.sender.size()));
  w.PutRaw(h.sender.data(), h.sender.size());
  w.Put<uint64_t>(dim);
}

}  // namespace

Bytes EncodeContributionF32(const ContributionHeader& h, std::span<const float> values) {
  Writer w;
  PutHeader(w, h, WireEncoding::kF32, values.size());
  w.PutRaw(values.data(), values.size() * sizeof(float));
  return w.Take();
}

Bytes EncodeContributionInt8(const ContributionHeader& h, const QuantizedInt8& q) {
  Writer w;
  PutHeader(w, h, WireEncoding::kInt8, q.dim);
  w.Put<uint32_t>(q.chunk);
  w.Put<uint64_t>(q.scales.size());
  w.PutRaw(q.scales.data(), q.scales.size() * sizeof(float));
  w.PutRaw(q.q.data(), q.q.size());
  return w.Take();
}

Bytes EncodeContributionTopK(const ContributionHeader& h, const SparseVector& s) {
  Writer w;
  PutHeader(w, h, WireEncoding::kTopK, s.dim);
  w.Put<uint64_t>(s.indices.size());
  w.PutRaw(s.indices.data(), s.indices.size() * sizeof(uint32_t));
  w.PutRaw(s.values.data(), s.values.size() * sizeof(float));
  return w.Take();
}

StatusOr<DecodedContribution> DecodeContribution(ByteSpan wire, const ContributionLimits& limits) {
  Reader r(wire);
  char magic[4];
  SWARM_RETURN_IF_ERROR(r.GetRaw(magic, 4, "magic"));
  if (std::memcmp(magic, kMagic, 4) != 0) {
    return absl::InvalidArgumentError("contribution: magic is not \"SWTC\"");
  }
  uint8_t version = 0, encoding = 0;
  SWARM_RETURN_IF_ERROR(r.Get(version, "version"));
  if (version != kVersion) {
    return absl::InvalidArgumentError(absl::StrCat("contribution: version = ", version, ", expected 1"));
  }
  SWARM_RETURN_IF_ERROR(r.Get(encoding, "encoding"));
  if (encoding > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("contribution: encoding = ", encoding, "; valid: 0 (f32), 1 (int8), 2 (topk)"));
  }
  DecodedContribution out;
  out.encoding = static_cast<WireEncoding>(encoding);
  SWARM_RETURN_IF_ERROR(r.Get(out.header.job, "job"));
  SWARM_RETURN_IF_ERROR(r.Get(out.header.round, "round"));
  uint16_t sender_len = 0;
  SWARM_RETURN_IF_ERROR(r.Get(sender_len, "sender_len"));
  if (sender_len == 0 || sender_len > limits.sender_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat("contribution: sender_len = ", sender_len,
                                                   " must be in [1, ", limits.sender_bytes_max, "]"));
  }
  out.header.sender.resize(sender_len);
  SWARM_RETURN_IF_ERROR(r.GetRaw(out.header.sender.data(), sender_len, "sender"));
  uint64_t dim = 0;
  SWARM_RETURN_IF_ERROR(r.Get(dim, "dim"));
  if (dim == 0 || dim > limits.dim_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("contribution: dim = ", dim, " must be in [1, ", limits.dim_max, "]"));
  }
  switch (out.encoding) {
    case WireEncoding::kF32: {
      if (r.remaining() != dim * sizeof(float)) {
        return absl::InvalidArgumentError(absl::StrCat("contribution: f32 body has ", r.remaining(),
                                                       " bytes, dim = ", dim, " needs ", dim * 4));
      }
      out.values.resize(dim);
      SWARM_RETURN_IF_ERROR(r.GetRaw(out.values.data(), dim * sizeof(float), "values"));
      break;
    }
    case WireEncoding::kInt8: {
      QuantizedInt8 q;
      q.dim = dim;
      SWARM_RETURN_IF_ERROR(r.Get(q.chunk, "chunk"));
      if (q.chunk == 0) return absl::InvalidArgumentError("contribution: int8 chunk = 0; must be >= 1");
      uint64_t scales = 0;
      SWARM_RETURN_IF_ERROR(r.Get(scales, "scales_count"));
      const uint64_t want = (dim + q.chunk - 1) / q.chunk;
      if (scales != want) {
        return absl::InvalidArgumentError(absl::StrCat("contribution: int8 scales_count = ", scales,
                                                       ", dim ", dim, " / chunk ", q.chunk, " needs ", want));
      }
      if (r.remaining() != scales * sizeof(float) + dim) {
        return absl::InvalidArgumentError(absl::StrCat("contribution: int8 body has ", r.remaining(),
                                                       " bytes, expected ", scales * 4 + dim));
      }
      q.scales.resize(scales);
      q.q.resize(dim);
      SWARM_RETURN_IF_ERROR(r.GetRaw(q.scales.data(), scales * sizeof(float), "scales"));
      SWARM_RETURN_IF_ERROR(r.GetRaw(q.q.data(), dim, "q"));
      out.values.resize(dim);
      SWARM_RETURN_IF_ERROR(DequantizeInt8(q, out.values));
      break;
    }
    case WireEncoding::kTopK: {
      SparseVector s;
      s.dim = dim;
      uint64_t nnz = 0;
      SWARM_RETURN_IF_ERROR(r.Get(nnz, "nnz"));
      if (nnz > dim || r.remaining() != nnz * 8) {
        return absl::InvalidArgumentError(absl::StrCat("contribution: topk nnz = ", nnz, " with dim ", dim,
                                                       " and ", r.remaining(), " body bytes"));
      }
      s.indices.resize(nnz);
      s.values.resize(nnz);
      SWARM_RETURN_IF_ERROR(r.GetRaw(s.indices.data(), nnz * 4, "indices"));
      SWARM_RETURN_IF_ERROR(r.GetRaw(s.values.data(), nnz * 4, "values"));
      for (size_t i = 0; i < nnz; ++i) {
        if (s.indices[i] >= dim || (i > 0 && s.indices[i] <= s.indices[i - 1])) {
          return absl::InvalidArgumentError(absl::StrCat("contribution: topk index ", s.indices[i], " at ", i,
                                                         " is out of range or not increasing"));
        }
      }
      out.values.assign(dim, 0.0f);
      SWARM_RETURN_IF_ERROR(AddSparse(s, out.values));
      break;
    }
  }
  return out;
}

}  // namespace swarm::train
