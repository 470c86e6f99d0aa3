// Call credentials of the command-line tools. A swarm started by `swarm up` or
// `swarm train` enforces admission: every call must be signed and carry a
// grant. Those commands write an operator identity and grant (roles observer,
// client, island) to <run dir>/admission/operator.{key,grant}; the tools that
// call peers use them:
//   - `swarm train` for its own status polls;
//   - `swarm status --dir D`, `swarm ledger ... --cluster D`,
//     `swarm evolve --peers D/cluster.json` from D;
//   - otherwise from $SWARM_CREDENTIALS (a directory holding operator.key and
//     operator.grant, e.g. D/admission) when it is set.
// Errors name the file. Not thread-safe: call from main's thread before dialing.
#pragma once

#include <string>

#include "common/status.h"

namespace swarm::cli {

// Loads DIR/operator.key and DIR/operator.grant and makes them the process's
// default call credentials (net::SetDefaultCallCredentials).
Status UseCredentialsDir(const std::string& dir);
// UseCredentialsDir(run_dir + "/admission") when that folder holds an operator
// grant; OK and nothing done when it does not (a swarm without admission).
Status UseRunCredentials(const std::string& run_dir);
// $SWARM_CREDENTIALS, when set.
Status UseEnvironmentCredentials();
// The same for a command's callback: on error prints "swarm: SWARM_CREDENTIALS=...: ..." and
// exits 2 (usage).
void UseEnvironmentCredentialsOrExit();

}  // namespace swarm::cli
