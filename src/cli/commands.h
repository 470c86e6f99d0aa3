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
void AddAdmissionCommand(CLI::App& app);  // cmd_admission.cpp
void AddCheckpointCommand(CLI::App& app);  // cmd_checkpoint.cpp
void AddTrainCommand(CLI::App& app);      // cmd_train.cpp, if SWARM_HAVE_TRAIN
void AddEvolveCommand(CLI::App& app);     // cmd_evolve.cpp, if SWARM_HAVE_EVO
void AddFheCommand(CLI::App& app);        // cmd_fhe.cpp, if SWARM_HAVE_FHE
void AddExpertsCommand(CLI::App& app);    // cmd_experts.cpp, if SWARM_HAVE_EXPERTS
// `swarm fhe eval`, added by AddFheCommand to its `fhe` subcommand when
// SWARM_HAVE_JOBS (cmd_fhe_eval.cpp).
void AddFheEvalCommand(CLI::App& fhe);

// Registers the node extensions compiled into this binary (cli/extensions.cpp);
// main calls it before any command parses a config.
void RegisterCompiledExtensions();

// Prints "swarm <command>: <message>" to stderr and throws CLI::RuntimeError.
[[noreturn]] void Fail(const std::string& command, const absl::Status& status, int code);

// A plain-text table with aligned columns.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace swarm::cli
