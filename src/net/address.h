// Peer addresses: "host:port" or "[v6-address]:port".
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace swarm::net {

struct Address {
  std::string host;  // without brackets, e.g. "127.0.0.1", "::1", "node-3.local"
  uint16_t port = 0;
  // The form gRPC and humans expect: IPv6 hosts are bracketed.
  std::string ToString() const;
};

// Errors name the input and what is wrong with it:
//   address '127.0.0.1' has no port (expected host:port or [v6]:port)
//   address 'host:99999': port 99999 is out of range [1, 65535]
// `allow_port_zero` is for listen addresses, where port 0 picks a free port.
StatusOr<Address> ParseAddress(const std::string& text, bool allow_port_zero = false);

}  // namespace swarm::net
