#include "evo_runtime/worker_pool.h"

#include <algorithm>

namespace swarm::evo {

WorkerPool::WorkerPool(uint32_t threads) {
  const uint32_t n = std::max<uint32_t>(1, threads);
  for (uint32_t i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Submit(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void WorkerPool::Loop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

StatusOr<double> ParallelEvaluator::Evaluate(const Genome& g) {
  SWARM_ASSIGN_OR_RETURN(double f, task_->Evaluate(g));
  return CheckFitness(f, absl::StrCat("task '", task_->name(), "'"));
}

std::vector<StatusOr<double>> ParallelEvaluator::EvaluateBatch(
    std::span<const Genome* const> genomes) {
  std::vector<StatusOr<double>> out(genomes.size(), absl::UnavailableError("not evaluated"));
  std::mutex mu;
  std::condition_variable cv;
  size_t left = genomes.size();
  for (size_t i = 0; i < genomes.size(); ++i) {
    pool_->Submit([&, i] {
      StatusOr<double> r = Evaluate(*genomes[i]);
      std::lock_guard<std::mutex> lock(mu);
      out[i] = std::move(r);
      if (--left == 0) cv.notify_one();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return left == 0; });
  return out;
}

}  // namespace swarm::evo
