#include "common/bytes.h"

#include <openssl/crypto.h>

namespace swarm {

std::string ToHex(ByteSpan data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(data.size() * 2, '0');
  for (size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

StatusOr<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("hex string has odd length ", hex.size()));
  }
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      const size_t pos = hi < 0 ? 2 * i : 2 * i + 1;
      return absl::InvalidArgumentError(absl::StrCat(
          "non-hex character '", std::string(1, hex[pos]), "' at position ", pos));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

void SecureZero(void* p, size_t n) { OPENSSL_cleanse(p, n); }

}  // namespace swarm
