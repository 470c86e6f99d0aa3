// `swarm`: one binary for a peer, a local cluster, and the tools around them.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "net/rpc.h"

#ifndef SWARM_VERSION
#define SWARM_VERSION "dev"
#endif

namespace swarm::cli {

[[noreturn]] void Fail(const std::string& command, const absl::Status& status, int code) {
  std::cerr << "swarm " << command << ": " << status.message() << std::endl;
  throw CLI::RuntimeError(code);
}

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string c = i < cells.size() ? cells[i] : "";
      out += c;
      if (i + 1 < width.size()) out += std::string(width[i] - c.size() + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  };
  line(header);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& r : rows) line(r);
  return out;
}

}  // namespace swarm::cli

int main(int argc, char** argv) {
  swarm::net::RouteGrpcLogsToSpdlog();
  swarm::cli::RegisterCompiledExtensions();
  CLI::App app{
      "swarm: train and serve neural networks on a swarm of unreliable, possibly malicious "
      "machines.\n\nExamples:\n  swarm up --nodes 4            start a local 4-peer cluster on loopback\n"
      "  swarm status --dir swarm-cluster   show every peer of that cluster\n"
      "  swarm node --config node.toml     run one peer\n",
      "swarm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("swarm ") + SWARM_VERSION);
  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([] { std::cout << "swarm " << SWARM_VERSION << std::endl; });
  swarm::cli::AddNodeCommand(app);
  swarm::cli::AddUpCommand(app);
  swarm::cli::AddStatusCommand(app);
  swarm::cli::AddCryptoCommands(app);
  swarm::cli::AddLedgerCommand(app);
  swarm::cli::AddAdmissionCommand(app);
  swarm::cli::AddCheckpointCommand(app);
#ifdef SWARM_HAVE_TRAIN
  swarm::cli::AddTrainCommand(app);
#endif
#ifdef SWARM_HAVE_EVO
  swarm::cli::AddEvolveCommand(app);
#endif
#ifdef SWARM_HAVE_FHE
  swarm::cli::AddFheCommand(app);
#endif
#ifdef SWARM_HAVE_EXPERTS
  swarm::cli::AddExpertsCommand(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A command's own failure carries its exit code (message already printed);
    // usage errors exit 2; --help and --version exit 0.
    if (e.get_name() == "RuntimeError") return e.get_exit_code();
    return app.exit(e) == 0 ? 0 : swarm::cli::kExitUsage;
  }
  return 0;
}
