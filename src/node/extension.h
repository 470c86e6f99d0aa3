// Extensions: the capabilities a peer runs besides membership — a PBFT
// committee member, an expert host, a NEAT evaluator, an FHE job worker, a
// trainer. Each one owns a config section, may add gRPC services, may consume
// signed envelopes of its own kinds from Transport.Deliver, and reports a
// status object and metrics through the Node.
//
// Registration: each extension offers an ExtensionFactory; the `swarm` binary
// registers the factories of the modules it was built with (cli/extensions.cpp)
// before any config is parsed, so `swarm node --print-config` lists their keys
// and a config naming an unknown section fails with the closest key.
//
// Lifecycle, driven by Node:
//   factory.make(config, node_config)  → nullptr when the config leaves it off
//   services()                          before the gRPC server starts
//   Start(node)                         after the server and membership are up
//   OnEnvelope(env)                     from gRPC threads, concurrently, any time
//                                       after services() until Stop returns
//   Stop()                              before the gRPC server drains; must
//                                       return within node.shutdown_drain_ms
//   StatusJson()                        from HTTP/Info threads, any time
// Thread-safety: OnEnvelope and StatusJson must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/status.h"
#include "net/envelope.h"

namespace grpc {
class Service;
}

namespace swarm::node {

class Node;
struct NodeConfig;

class Extension {
 public:
  virtual ~Extension() = default;
  // Key of this extension's object in the status JSON, and log prefix.
  virtual std::string name() const = 0;
  // gRPC services to serve; owned by the extension, alive until destruction.
  virtual std::vector<grpc::Service*> services() { return {}; }
  // Envelope kinds (≤ 32 bytes) routed to OnEnvelope. Kinds are unique per node.
  virtual std::vector<std::string> envelope_kinds() const { return {}; }
  // An envelope whose signature, sender and freshness were already verified.
  // A non-OK status is counted as swarm_rejected_messages_total{reason=<first
  // word of the message>} and returned to the sender.
  virtual Status OnEnvelope(const net::OpenedEnvelope&) { return absl::OkStatus(); }
  virtual Status Start(Node&) { return absl::OkStatus(); }
  virtual void Stop() {}
  virtual nlohmann::json StatusJson() { return nlohmann::json::object(); }
};

struct ExtensionFactory {
  std::string section;  // config section it owns, e.g. "consensus"
  // Declares "<section>.*" keys with defaults, ranges and help.
  std::function<void(ConfigSchema&)> add_config_keys;
  // Builds the extension from a validated config, or returns nullptr when the
  // config leaves it disabled. Errors name the offending key and value.
  std::function<StatusOr<std::unique_ptr<Extension>>(const Config&, const NodeConfig&)> make;
};

// Called once per factory before NodeSchema() is first used; not thread-safe.
void RegisterExtension(ExtensionFactory factory);
const std::vector<ExtensionFactory>& RegisteredExtensions();

// Runs every registered factory on `config.raw`; the enabled extensions, in
// registration order.
StatusOr<std::vector<std::unique_ptr<Extension>>> MakeExtensions(const NodeConfig& config);

}  // namespace swarm::node
