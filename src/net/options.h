// Transport options shared by RpcServer and PeerClient (filled from the
// [net] and [tls] sections of a node's config).
#pragma once

#include <cstdint>
#include <string>

#include "net/backoff.h"
#include "net/circuit_breaker.h"

namespace swarm::net {

// Named limits (TIGER_STYLE: units last).
constexpr int64_t kMessageSizeBytesDefault = 64ll << 20;
constexpr int kRetryAttemptsMax = 10;

struct TlsOptions {
  bool enabled = false;
  std::string cert_file;  // PEM certificate chain of this peer
  std::string key_file;   // PEM private key of this peer
  std::string ca_file;    // PEM roots used to verify the other side
};

struct NetOptions {
  int64_t message_size_bytes_max = kMessageSizeBytesDefault;
  Nanos call_deadline = Seconds(2);
  int retry_attempts = 3;  // extra attempts after the first, idempotent calls only
  BackoffConfig backoff;
  CircuitBreakerConfig breaker;
  TlsOptions tls;
};

}  // namespace swarm::net
