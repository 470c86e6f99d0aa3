// A fixed set of threads running submitted closures in FIFO order, and an
// Evaluator that spreads a batch over them.
//
// WorkerPool: Submit may be called from any thread; closures run on one of
// `threads` workers. The destructor finishes every queued closure, then joins.
// ParallelEvaluator: EvaluateBatch evaluates the batch on the pool and blocks
// until all are done; results are in input order. The Task must be safe to
// evaluate concurrently (task.h says built-in tasks are). EvaluateBatch may
// be called from several threads at once (their jobs share the pool).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "evo/task.h"

namespace swarm::evo {

class WorkerPool {
 public:
  explicit WorkerPool(uint32_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> fn);
  uint32_t threads() const { return static_cast<uint32_t>(threads_.size()); }

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class ParallelEvaluator final : public Evaluator {
 public:
  // `task` is not owned and must outlive this object.
  ParallelEvaluator(const Task* task, uint32_t threads)
      : task_(task), own_(std::make_unique<WorkerPool>(threads)), pool_(own_.get()) {}
  // Shares `pool` (not owned; must outlive this object).
  ParallelEvaluator(const Task* task, WorkerPool* pool) : task_(task), pool_(pool) {}
  StatusOr<double> Evaluate(const Genome& g) override;
  std::vector<StatusOr<double>> EvaluateBatch(std::span<const Genome* const> genomes) override;

 private:
  const Task* task_;
  std::unique_ptr<WorkerPool> own_;
  WorkerPool* pool_;
};

}  // namespace swarm::evo
