// Child peers of `swarm up` and `swarm train`: the running binary's path, and
// a fork+exec that ties the child's life to this process.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace swarm::cli {

// Path of the running `swarm` binary ("swarm" if /proc is unreadable).
std::string SelfExe();

// Starts args[0] with args, stdout and stderr appended to log_path, signal
// mask cleared, and PR_SET_PDEATHSIG so the child dies with this process
// however it dies. `single_torch_thread` sets OMP_NUM_THREADS=1 (unless set):
// several peers share the cores, and spinning OpenMP workers would starve
// every peer's gRPC threads. Returns the child's pid, or -1 if fork failed.
pid_t SpawnPeer(const std::vector<std::string>& args, const std::string& log_path,
                bool single_torch_thread = false);

}  // namespace swarm::cli
