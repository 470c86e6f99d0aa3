#include "evo/external_task.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "evo/genome_codec.h"

namespace swarm::evo {

std::string ExternalProcessTask::name() const {
  return cfg_.argv.empty() ? "external" : "external:" + cfg_.argv[0];
}

StatusOr<double> ParseFitnessLine(const std::string& line) {
  size_t b = 0, e = line.size();
  while (b < e && std::isspace(static_cast<unsigned char>(line[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(line[e - 1]))) --e;
  const std::string s = line.substr(b, e - b);
  if (s.empty()) return absl::InvalidArgumentError("fitness line is empty");
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("fitness line '", s.substr(0, 64), "' is not a number"));
  }
  if (!std::isfinite(v)) {
    return absl::InvalidArgumentError(absl::StrCat("fitness '", s.substr(0, 64), "' is not finite"));
  }
  return v;
}

StatusOr<double> FitnessFromOutput(const std::string& program, const ProcessOutput& out) {
  if (out.signaled) {
    return absl::AbortedError(absl::StrCat("'", program, "' was killed by signal ", out.signal));
  }
  if (out.exit_code != 0) {
    return absl::AbortedError(absl::StrCat("'", program, "' exited with status ", out.exit_code));
  }
  const size_t nl = out.stdout_bytes.find('\n');
  auto v = ParseFitnessLine(out.stdout_bytes.substr(0, nl));
  if (!v.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("'", program, "': ", v.status().message()));
  }
  return *v;
}

StatusOr<double> ExternalProcessTask::Evaluate(const Genome& g) const {
  if (cfg_.argv.empty()) return absl::FailedPreconditionError("external task: empty command");
  if (runner_ == nullptr) return absl::FailedPreconditionError("external task: no process runner");
  if (g.inputs != cfg_.inputs || g.outputs != cfg_.outputs) {
    return absl::InvalidArgumentError(absl::StrCat("genome shape ", g.inputs, "x", g.outputs,
                                                   " != task ", cfg_.inputs, "x", cfg_.outputs));
  }
  SWARM_ASSIGN_OR_RETURN(ProcessOutput out,
                         runner_->Run(cfg_.argv, EncodeGenome(g) + "\n", cfg_.timeout_ms, cfg_.output_bytes_max));
  return FitnessFromOutput(cfg_.argv[0], out);
}

StatusOr<bool> ExternalProcessTask::IsSolution(const Genome&, double fitness) const {
  return cfg_.solved_threshold.has_value() && fitness >= *cfg_.solved_threshold;
}

}  // namespace swarm::evo
