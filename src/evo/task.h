// Fitness tasks and the evaluator interface the coordinator calls.
//
// A Task scores one genome (higher is better, finite) and decides whether a
// generation's champion solves the problem. Built-in tasks: XOR, single pole,
// double pole with and without velocities (tasks.h), and
// ExternalProcessTask (external_task.h) for user fitness functions in any
// language. Tasks are immutable after construction; Evaluate and IsSolution
// are const and safe to call from several threads at once.
//
// An Evaluator turns genomes into fitness values; the island calls it once
// per generation with the whole population (EvaluateBatch). TaskEvaluator runs
// a Task in-process; the remote evaluator pool (RemoteEvaluatorPool, the
// client side of evolution over gRPC, outside this core) implements the same
// interface. A failed evaluation (error status, NaN or
// Inf) is counted by the island and the genome gets the population's lowest
// fitness.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "evo/genome.h"

namespace swarm::evo {

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual uint32_t inputs() const = 0;   // network inputs, not counting the bias
  virtual uint32_t outputs() const = 0;
  // True when the task needs memory (recurrent genomes).
  virtual bool recurrent() const { return false; }
  // Fitness of `g` (finite, higher is better) or an error saying why not.
  virtual StatusOr<double> Evaluate(const Genome& g) const = 0;
  // Whether `champion`, which scored `fitness`, solves the task. May run
  // extra tests (the no-velocity pole task's 100,000-step and generalisation
  // tests); these are not counted as evaluations.
  virtual StatusOr<bool> IsSolution(const Genome& champion, double fitness) const = 0;
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual StatusOr<double> Evaluate(const Genome& g) = 0;
  // One result per genome, in order. The default calls Evaluate in a loop;
  // pools override it to dispatch in parallel.
  virtual std::vector<StatusOr<double>> EvaluateBatch(std::span<const Genome* const> genomes);
};

// Runs a Task in the calling thread; rejects non-finite fitness.
class TaskEvaluator final : public Evaluator {
 public:
  explicit TaskEvaluator(const Task* task) : task_(task) {}
  StatusOr<double> Evaluate(const Genome& g) override;

 private:
  const Task* task_;  // not owned; outlives the evaluator
};

// Checks a fitness value reported by any evaluator: NaN or Inf is an error.
StatusOr<double> CheckFitness(double f, const std::string& source);

}  // namespace swarm::evo
