// The process adapter of evo/external_task.h: PosixProcessRunner starts the
// user's fitness program with posix_spawnp (argv, no shell, PATH searched),
// writes `input` to its stdin and closes it, reads stdout until EOF, and
// waits for the exit — all within timeout_ms of the start (the child is
// killed with SIGKILL and reaped when the deadline passes or it writes more
// than output_bytes_max bytes). Errors as evo::ProcessRunner states.
//
// Thread-safety: Run may be called from several threads; each call runs its
// own child. SIGPIPE from a child that exits early is blocked and consumed in
// the calling thread only; the child gets the caller's signal mask.
#pragma once

#include "evo/external_task.h"

namespace swarm::evo {

class PosixProcessRunner final : public ProcessRunner {
 public:
  StatusOr<ProcessOutput> Run(const std::vector<std::string>& argv, const std::string& input,
                              int64_t timeout_ms, size_t output_bytes_max) const override;
};

}  // namespace swarm::evo
