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
// Thread-safety: Evaluate may be called from several threads; each call runs
// its own child process. SIGPIPE from a child that exits early is blocked and
// consumed in the calling thread only.
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

class ExternalProcessTask final : public Task {
 public:
  explicit ExternalProcessTask(ExternalTaskConfig cfg) : cfg_(std::move(cfg)) {}
  std::string name() const override;
  uint32_t inputs() const override { return cfg_.inputs; }
  uint32_t outputs() const override { return cfg_.outputs; }
  bool recurrent() const override { return cfg_.recurrent; }
  StatusOr<double> Evaluate(const Genome& g) const override;
  StatusOr<bool> IsSolution(const Genome& champion, double fitness) const override;

 private:
  ExternalTaskConfig cfg_;
};

// Parses one fitness line: optional surrounding whitespace, a finite decimal.
StatusOr<double> ParseFitnessLine(const std::string& line);

}  // namespace swarm::evo
