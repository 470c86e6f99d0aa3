#include "net/address.h"

#include <cctype>

namespace swarm::net {
namespace {

Status Bad(const std::string& text, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("address '", text, "'", why));
}

}  // namespace

std::string Address::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

StatusOr<Address> ParseAddress(const std::string& text, bool allow_port_zero) {
  constexpr const char* kForm = " (expected host:port or [v6]:port)";
  if (text.empty()) return Bad(text, absl::StrCat(" is empty", kForm));
  std::string host, port_text;
  if (text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return Bad(text, absl::StrCat(" has no closing ']'", kForm));
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return Bad(text, absl::StrCat(" has no port", kForm));
    }
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string::npos) {
      return Bad(text, ": brackets are only for IPv6 hosts");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return Bad(text, absl::StrCat(" has no port", kForm));
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return Bad(text, ": an IPv6 host must be in brackets, e.g. [::1]:7000");
    }
  }
  if (host.empty()) return Bad(text, absl::StrCat(" has no host", kForm));
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '_' || c == '%')) {
      return Bad(text, absl::StrCat(": host contains '", std::string(1, c), "'"));
    }
  }
  if (port_text.empty()) return Bad(text, absl::StrCat(" has no port", kForm));
  const char* range = allow_port_zero ? " is out of range [0, 65535]" : " is out of range [1, 65535]";
  if (port_text.size() > 5) return Bad(text, absl::StrCat(": port ", port_text, range));
  uint32_t port = 0;
  for (char c : port_text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return Bad(text, absl::StrCat(": port '", port_text, "' is not a number"));
    }
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535 || (port == 0 && !allow_port_zero)) {
    return Bad(text, absl::StrCat(": port ", port, range));
  }
  return Address{host, static_cast<uint16_t>(port)};
}

}  // namespace swarm::net
