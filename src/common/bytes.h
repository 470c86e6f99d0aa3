// Byte buffers and hex conversion.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace swarm {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string ToHex(ByteSpan data);
// Parses lower- or upper-case hex; an odd length or a non-hex character is an
// error naming the offending position.
StatusOr<Bytes> FromHex(std::string_view hex);

// Overwrites memory in a way the compiler may not elide (for secrets).
void SecureZero(void* p, size_t n);

}  // namespace swarm
