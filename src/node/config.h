// A peer's configuration: the schema (every key, default, range, help) and the
// typed NodeConfig built from a validated Config.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "net/http_server.h"
#include "net/options.h"

namespace swarm::node {

// admission.* (docs/security.md "Admission grants"). Node::Start loads them.
struct AdmissionConfig {
  std::string swarm_id;                        // the swarm this peer belongs to
  std::vector<std::string> issuer_key_files;   // trusted issuers' public-key files
  std::string grant_file;                      // this peer's own grant ("" = none)
  bool open = false;                           // dev mode: accept calls from anyone
};

struct NodeConfig {
  std::string id;            // human-facing name, e.g. "n0"
  std::string grpc_listen;   // host:port
  std::string http_listen;   // host:port; port 0 picks a free port
  net::HttpLimits http;      // http.*: limits and the bearer token
  std::string data_dir;      // node.json and state live here; "" = none
  std::string region;
  double capacity = 1.0;
  std::vector<std::string> seeds;
  Nanos shutdown_drain = Seconds(5);
  net::NetOptions net;
  std::string log_format;
  std::string log_level;
  std::string key_file;      // identity; "" = <data_dir>/node.key, or ephemeral without data_dir
  std::string signature;     // scheme for a newly generated identity
  bool membership = true;
  Nanos membership_probe_interval = Seconds(1);
  Nanos membership_probe_timeout = Millis(500);
  double membership_suspicion_mult = 4.0;
  Nanos membership_join_timeout = Seconds(10);
  int64_t ring_experts = 16;
  int64_t ring_replicas = 2;
  AdmissionConfig admission;
  // The whole validated config, for extensions that read their own sections.
  Config raw;
};

// The schema of `swarm node --config FILE`: the peer's own keys plus the keys
// of every registered extension (node/extension.h), so call it only after
// registration. `swarm node --print-config` prints it as a commented TOML file.
const ConfigSchema& NodeSchema();

// Converts and cross-checks (addresses parse, TLS files named when enabled).
StatusOr<NodeConfig> ToNodeConfig(const Config& config);

}  // namespace swarm::node
