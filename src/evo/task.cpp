#include "evo/task.h"

#include <cmath>

namespace swarm::evo {

std::vector<StatusOr<double>> Evaluator::EvaluateBatch(std::span<const Genome* const> genomes) {
  std::vector<StatusOr<double>> out;
  out.reserve(genomes.size());
  for (const Genome* g : genomes) out.push_back(Evaluate(*g));
  return out;
}

StatusOr<double> CheckFitness(double f, const std::string& source) {
  if (!std::isfinite(f)) {
    return absl::DataLossError(absl::StrCat(source, " returned non-finite fitness ", f));
  }
  return f;
}

StatusOr<double> TaskEvaluator::Evaluate(const Genome& g) {
  SWARM_ASSIGN_OR_RETURN(double f, task_->Evaluate(g));
  return CheckFitness(f, absl::StrCat("task '", task_->name(), "'"));
}

}  // namespace swarm::evo
