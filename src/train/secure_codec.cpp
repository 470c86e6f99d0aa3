#include "train/secure_codec.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace swarm::train {
namespace {

constexpr char kCtMagic[4] = {'S', 'W', 'E', 'C'};
constexpr char kSumMagic[4] = {'S', 'W', 'E', 'S'};
constexpr uint8_t kVersion = 1;

void PutLE(Bytes& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void PutString(Bytes& out, const std::string& s) {
  PutLE(out, s.size(), 2);
  out.insert(out.end(), s.begin(), s.end());
}

Bytes Header(const char magic[4], const SecureHeader& h) {
  Bytes out(magic, magic + 4);
  out.push_back(kVersion);
  PutLE(out, h.job, 8);
  PutLE(out, h.round, 8);
  PutString(out, h.sender);
  return out;
}

class Reader {
 public:
  explicit Reader(ByteSpan in) : in_(in) {}
  Status Get(uint64_t& v, int bytes, const char* field) {
    SWARM_RETURN_IF_ERROR(Need(static_cast<size_t>(bytes), field));
    v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{in_[pos_ + i]} << (8 * i);
    pos_ += static_cast<size_t>(bytes);
    return absl::OkStatus();
  }
  Status GetString(std::string& s, size_t max, const char* field) {
    uint64_t len = 0;
    SWARM_RETURN_IF_ERROR(Get(len, 2, field));
    if (len > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("secure message: ", field, " length ", len, " exceeds ", max));
    }
    SWARM_RETURN_IF_ERROR(Need(len, field));
    s.assign(reinterpret_cast<const char*>(in_.data() + pos_), len);
    pos_ += len;
    return absl::OkStatus();
  }
  Status Magic(const char magic[4], const char* what) {
    SWARM_RETURN_IF_ERROR(Need(5, "magic"));
    if (std::memcmp(in_.data(), magic, 4) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("secure message: bad magic (not a ", what, ")"));
    }
    if (in_[4] != kVersion) {
      return absl::InvalidArgumentError(
          absl::StrCat("secure message: version ", in_[4], " is not supported (expected ", kVersion, ")"));
    }
    pos_ = 5;
    return absl::OkStatus();
  }
  Status Header(SecureHeader& h, const SecureCodecLimits& limits) {
    SWARM_RETURN_IF_ERROR(Get(h.job, 8, "job"));
    SWARM_RETURN_IF_ERROR(Get(h.round, 8, "round"));
    SWARM_RETURN_IF_ERROR(GetString(h.sender, limits.sender_bytes_max, "sender"));
    if (h.sender.empty()) return absl::InvalidArgumentError("secure message: sender is empty");
    return absl::OkStatus();
  }
  StatusOr<Bytes> Rest(const SecureCodecLimits& limits) {
    const size_t n = in_.size() - pos_;
    if (n == 0) return absl::InvalidArgumentError("secure message: no ciphertext after the header");
    if (n > limits.blob_bytes_max) {
      return absl::InvalidArgumentError(
          absl::StrCat("secure message: ciphertext of ", n, " bytes exceeds blob_bytes_max = ", limits.blob_bytes_max));
    }
    return Bytes(in_.begin() + static_cast<std::ptrdiff_t>(pos_), in_.end());
  }

 private:
  Status Need(size_t n, const char* field) const {
    if (in_.size() - pos_ < n) {
      return absl::InvalidArgumentError(absl::StrCat("secure message: truncated at field '", field, "' (needs ", n,
                                                     " bytes, ", in_.size() - pos_, " left)"));
    }
    return absl::OkStatus();
  }
  ByteSpan in_;
  size_t pos_ = 0;
};

}  // namespace

Bytes EncodeSecureCiphertext(const SecureHeader& h, ByteSpan blob) {
  Bytes out = Header(kCtMagic, h);
  out.insert(out.end(), blob.begin(), blob.end());
  return out;
}

Bytes EncodeSecureSum(const SecureHeader& h, const std::vector<std::string>& used, ByteSpan blob) {
  Bytes out = Header(kSumMagic, h);
  PutLE(out, used.size(), 4);
  for (const auto& u : used) PutString(out, u);
  out.insert(out.end(), blob.begin(), blob.end());
  return out;
}

StatusOr<SecureCiphertextMessage> DecodeSecureCiphertext(ByteSpan wire, const SecureCodecLimits& limits) {
  Reader r(wire);
  SecureCiphertextMessage m;
  SWARM_RETURN_IF_ERROR(r.Magic(kCtMagic, "train_ct"));
  SWARM_RETURN_IF_ERROR(r.Header(m.header, limits));
  SWARM_ASSIGN_OR_RETURN(m.blob, r.Rest(limits));
  return m;
}

StatusOr<SecureSumMessage> DecodeSecureSum(ByteSpan wire, const SecureCodecLimits& limits) {
  Reader r(wire);
  SecureSumMessage m;
  SWARM_RETURN_IF_ERROR(r.Magic(kSumMagic, "train_sum"));
  SWARM_RETURN_IF_ERROR(r.Header(m.header, limits));
  uint64_t count = 0;
  SWARM_RETURN_IF_ERROR(r.Get(count, 4, "used_count"));
  if (count > limits.used_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("secure message: used_count ", count, " exceeds used_max = ", limits.used_max));
  }
  m.used.resize(count);
  for (auto& u : m.used) SWARM_RETURN_IF_ERROR(r.GetString(u, limits.sender_bytes_max, "used"));
  SWARM_ASSIGN_OR_RETURN(m.blob, r.Rest(limits));
  return m;
}

}  // namespace swarm::train
