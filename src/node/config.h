// A peer's configuration: the schema (every key, default, range, help) and the
// typed NodeConfig built from a validated Config.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "net/options.h"

namespace swarm::node {

struct NodeConfig {
  std::string id;            // human-facing name, e.g. "n0"
  std::string grpc_listen;   // host:port
  std::string http_listen;   // host:port; port 0 picks a free port
  std::string data_dir;      // node.json and state live here; "" = none
  std::string region;
  double capacity = 1.0;
  std::vector<std::string> seeds;
  Nanos shutdown_drain = Seconds(5);
  net::NetOptions net;
  std::string log_format;
  std::string log_level;
};

// The schema of `swarm node --config FILE`. `swarm node --print-config` prints
// it as a commented TOML file.
const ConfigSchema& NodeSchema();

// Converts and cross-checks (addresses parse, TLS files named when enabled).
StatusOr<NodeConfig> ToNodeConfig(const Config& config);

}  // namespace swarm::node
