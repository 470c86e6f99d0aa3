// `swarm node`: run one peer until SIGINT/SIGTERM.
#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "common/log.h"
#include "node/config.h"
#include "node/extension.h"
#include "node/node.h"

namespace swarm::cli {
namespace {

struct NodeFlags {
  std::string config_file;
  std::string id, grpc_listen, http_listen, data_dir, region, log_format, log_level;
  std::vector<std::string> seeds, sets;
  bool print_config = false;
};

StatusOr<node::NodeConfig> LoadNodeConfig(const NodeFlags& f) {
  const ConfigSchema& schema = node::NodeSchema();
  Config config = schema.Defaults();
  if (!f.config_file.empty()) {
    SWARM_ASSIGN_OR_RETURN(config, schema.ParseFile(f.config_file));
  }
  auto set = [&](const std::string& key, const std::string& v) -> Status {
    if (v.empty()) return absl::OkStatus();
    return schema.Set(config, key, v, "command line");
  };
  SWARM_RETURN_IF_ERROR(set("node.id", f.id));
  SWARM_RETURN_IF_ERROR(set("node.grpc_listen", f.grpc_listen));
  SWARM_RETURN_IF_ERROR(set("node.http_listen", f.http_listen));
  SWARM_RETURN_IF_ERROR(set("node.data_dir", f.data_dir));
  SWARM_RETURN_IF_ERROR(set("node.region", f.region));
  SWARM_RETURN_IF_ERROR(set("log.format", f.log_format));
  SWARM_RETURN_IF_ERROR(set("log.level", f.log_level));
  if (!f.seeds.empty()) SWARM_RETURN_IF_ERROR(schema.Set(config, "node.seeds", f.seeds));
  SWARM_ASSIGN_OR_RETURN(config, schema.ApplyOverrides(std::move(config), f.sets));
  return node::ToNodeConfig(config);
}

int RunNode(const NodeFlags& f) {
  if (f.print_config) {
    std::cout << node::NodeSchema().ExampleToml();
    return 0;
  }
  auto config = LoadNodeConfig(f);
  if (!config.ok()) Fail("node", config.status(), kExitUsage);
  auto format = ParseLogFormat(config->log_format);
  if (auto s = InitLogging(*format, config->log_level, config->id); !s.ok()) {
    Fail("node", s, kExitUsage);
  }
  // Before any thread exists, so every gRPC/HTTP thread inherits the mask and
  // only sigwait below sees SIGINT/SIGTERM.
  node::BlockShutdownSignals();
  node::Node peer(*config);
  auto extensions = node::MakeExtensions(*config);
  if (!extensions.ok()) Fail("node", extensions.status(), kExitUsage);
  for (auto& ext : *extensions) peer.AddExtension(std::move(ext));
  if (auto s = peer.Start(); !s.ok()) {
    // Ports in use and bad files named by the config (identity, admission grant) are the
    // user's to fix: exit 2.
    const bool usage = s.code() == absl::StatusCode::kUnavailable ||
                       s.code() == absl::StatusCode::kInvalidArgument ||
                       s.code() == absl::StatusCode::kNotFound;
    Fail("node", s, usage ? kExitUsage : kExitRuntime);
  }
  const int sig = node::WaitForShutdownSignal();
  spdlog::info("received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
  peer.Shutdown();
  return 0;
}

}  // namespace

void AddNodeCommand(CLI::App& app) {
  auto flags = std::make_shared<NodeFlags>();
  auto* cmd = app.add_subcommand(
      "node",
      "Run one peer until SIGINT/SIGTERM.\n\nExamples:\n"
      "  swarm node --grpc-listen 127.0.0.1:7000 --seed 127.0.0.1:7001\n"
      "  swarm node --config node.toml --set net.call_deadline_ms=500\n"
      "  swarm node --print-config > node.toml      # every key, default and range\n"
      "Precedence: defaults < --config file < flags and --set.");
  cmd->add_option("-c,--config", flags->config_file, "TOML config file")->check(CLI::ExistingFile);
  cmd->add_option("--id", flags->id, "Name shown in status tables (node.id)");
  cmd->add_option("--grpc-listen", flags->grpc_listen, "gRPC listen address host:port (node.grpc_listen)");
  cmd->add_option("--http-listen", flags->http_listen, "HTTP listen address host:port, port 0 = any (node.http_listen)");
  cmd->add_option("--data-dir", flags->data_dir, "Directory for node.json and state (node.data_dir)");
  cmd->add_option("--region", flags->region, "Region label (node.region)");
  cmd->add_option("--seed", flags->seeds, "Peer to join through; repeatable (node.seeds)");
  cmd->add_option("--set", flags->sets, "Override any config key: --set key=value; repeatable");
  cmd->add_option("--log-format", flags->log_format, "text or json (log.format)");
  cmd->add_option("--log-level", flags->log_level, "trace|debug|info|warn|error|off (log.level)");
  cmd->add_flag("--print-config", flags->print_config, "Print every config key with its default, range and help, then exit");
  cmd->callback([flags] {
    const int code = RunNode(*flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace swarm::cli
