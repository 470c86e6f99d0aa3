// Each subcommand registers itself on the root CLI11 app. A command's callback
// throws CLI::RuntimeError(code) to exit with a code other than 0; user errors
// (bad flags, config, ports in use) exit 2 with one line on stderr.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/status.h"

namespace swarm::cli {

constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

void AddNodeCommand(CLI::App& app);
void AddUpCommand(CLI::App& app);
void AddStatusCommand(CLI::App& app);
void AddCryptoCommands(CLI::App& app);  // keygen, identity, crypto
void AddLedgerCommand(CLI::App& app);
void AddTrainCommand(CLI::App& app);

// Prints "swarm <command>: <message>" to stderr and throws CLI::RuntimeError.
[[noreturn]] void Fail(const std::string& command, const absl::Status& status, int code);

// A plain-text table with aligned columns.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace swarm::cli
