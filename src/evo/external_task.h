// A task whose fitness function is an external program (any language).
//
// Protocol: for each evaluation the command is started (argv, no shell), the
// genome is written to its stdin as one line of JSON (genome_codec.h)
// followed by '\n' and stdin is closed; the program prints the fitness as the
// first line of stdout (a decimal number) and exits 0. Anything else is a
// failed evaluation with a reason: exit status != 0, killed by a signal, no
// line, a line that is not a number, NaN or Inf, more than
// output_bytes_max bytes, or no answer within timeout_ms (the child is then
// killed with SIGKILL and reaped).
//
// The program may also be asked whether a champion solves the task: if
// `solved_threshold` is set, a fitness >= it counts as solved.
//
// The task is pure: it encodes the genome, hands argv + stdin to a
// ProcessRunner and interprets what comes back. The runner that really
// starts processes (posix_spawn, pipes, deadline, SIGKILL on time-out) is an
// adapter outside the core: evo_runtime/process_runner.h.
//
// Thread-safety: Evaluate may be called from several threads if the runner's
// Run may be (PosixProcessRunner's may: each call runs its own child).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "evo/task.h"

namespace swarm::evo {

struct ExternalTaskConfig {
  std::vector<std::string> argv;  // argv[0] is the program (PATH is searched)
  uint32_t inputs = 0;
  uint32_t outputs = 1;
  bool recurrent = false;
  int64_t timeout_ms = 10'000;
  size_t output_bytes_max = 4096;
  std::optional<double> solved_threshold;
};

// What one run of the program produced.
struct ProcessOutput {
  std::string stdout_bytes;  // everything it wrote to stdout (<= output_bytes_max)
  bool signaled = false;     // killed by a signal (not by the runner)
  int signal = 0;            // which, when signaled
  int exit_code = 0;         // its exit status otherwise
};

// Runs argv with `input` on stdin. Errors: the program cannot be started
// (FailedPrecondition naming argv[0]), no exit within timeout_ms
// (DeadlineExceeded; the child is killed and reaped), more than
// output_bytes_max bytes on stdout (ResourceExhausted).
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  virtual StatusOr<ProcessOutput> Run(const std::vector<std::string>& argv, const std::string& input,
                                      int64_t timeout_ms, size_t output_bytes_max) const = 0;
};

class ExternalProcessTask final : public Task {
 public:
  // `runner` is not owned and must outlive the task.
  ExternalProcessTask(ExternalTaskConfig cfg, const ProcessRunner* runner)
      : cfg_(std::move(cfg)), runner_(runner) {}
  std::string name() const override;
  uint32_t inputs() const override { return cfg_.inputs; }
  uint32_t outputs() const override { return cfg_.outputs; }
  bool recurrent() const override { return cfg_.recurrent; }
  StatusOr<double> Evaluate(const Genome& g) const override;
  StatusOr<bool> IsSolution(const Genome& champion, double fitness) const override;

 private:
  ExternalTaskConfig cfg_;
  const ProcessRunner* runner_;
};

// Parses one fitness line: optional surrounding whitespace, a finite decimal.
StatusOr<double> ParseFitnessLine(const std::string& line);
// The fitness a run yields: a signal or a non-zero exit is Aborted, else the
// first stdout line must parse (InvalidArgument naming `program` otherwise).
StatusOr<double> FitnessFromOutput(const std::string& program, const ProcessOutput& out);

}  // namespace swarm::evo
