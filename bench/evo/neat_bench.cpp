// Reproduces the NEAT paper's figures (Stanley & Miikkulainen 2002, Table 1
// and section 4): mean evaluations, mean generations and success rate over
// independent seeded runs, each beside the paper's number ("paper" anchor).
// Also single-process evaluations/s of the NEAT loop beside the same
// evaluation loop without NEAT (re-evaluating the final population).
//
//   bench_evo [--runs N] [--tasks xor,double-pole,double-pole-nv]
//             [--gen-cap G] [--seed S] [--set key=value ...] [--quiet]
// Defaults: 100 runs of xor and double-pole (cap 300 generations), 10 runs
// of double-pole-nv (cap 60 generations; override with --runs-nv N and
// --gen-cap G): a failing no-velocity run costs about a minute, so 100 of
// them would not fit in `scripts/bench`. docs/neat.md reports what was run. --trace prints
// per-generation progress (and, for pole tasks, the champion's long-run and
// generalisation scores).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "evo/island.h"
#include "evo/presets.h"
#include "evo/tasks.h"

namespace {

using swarm::evo::Genome;
using Clock = std::chrono::steady_clock;

struct PaperFigure {
  double evaluations, generations, success_percent;
  const char* source;
};

const std::map<std::string, PaperFigure> kPaper = {
    {"xor", {4755, 32, 100, "NEAT paper sec. 4.1: 4,755 evaluations, 32 generations, 100/100"}},
    {"double-pole", {3600, 24, 100,
                     "NEAT paper Table 1 (DPV): 3,600 evaluations, pop 150; paper generations "
                     "derived as 3,600/150"}},
    {"double-pole-nv", {33184, 33.2, 100,
                        "NEAT paper Table 2 (DPNV, Gruau fitness): 33,184 evaluations, pop 1000; "
                        "paper generations derived as 33,184/1000"}},
};

struct TaskSummary {
  int runs = 0, solved = 0;
  double evals_sum = 0, gens_sum = 0, hidden_sum = 0;
  uint64_t evals_all = 0;
  double neat_seconds = 0;
  double eval_seconds = 0;
};

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The anchor: the same evaluation calls, timed alone (no speciation or
// reproduction), so evaluations / time-in-evaluator is the loop without NEAT.
class TimingEvaluator final : public swarm::evo::Evaluator {
 public:
  explicit TimingEvaluator(swarm::evo::Evaluator* inner) : inner_(inner) {}
  swarm::StatusOr<double> Evaluate(const Genome& g) override { return inner_->Evaluate(g); }
  std::vector<swarm::StatusOr<double>> EvaluateBatch(std::span<const Genome* const> gs) override {
    const auto t0 = Clock::now();
    auto r = inner_->EvaluateBatch(gs);
    seconds += Seconds(t0, Clock::now());
    return r;
  }
  double seconds = 0;

 private:
  swarm::evo::Evaluator* inner_;
};

}  // namespace

int main(int argc, char** argv) {
  int runs = 100, runs_nv = 10;
  uint64_t gen_cap = 0, seed0 = 1;
  bool quiet = false, trace = false;
  std::vector<std::string> tasks = {"xor", "double-pole", "double-pole-nv"};
  std::vector<std::string> overrides;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--runs") runs = std::atoi(next().c_str());
    else if (a == "--runs-nv") runs_nv = std::atoi(next().c_str());
    else if (a == "--gen-cap") gen_cap = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--seed") seed0 = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--set") overrides.push_back(next());
    else if (a == "--quiet") quiet = true;
    else if (a == "--trace") trace = true;
    else if (a == "--tasks") {
      tasks.clear();
      std::stringstream ss(next());
      for (std::string t; std::getline(ss, t, ',');) tasks.push_back(t);
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  const std::string command = "build/bench/evo/bench_evo";
  for (const std::string& name : tasks) {
    auto cfg_or = swarm::evo::PresetConfig(name);
    auto task_or = swarm::evo::MakeBuiltinTask(name);
    if (!cfg_or.ok() || !task_or.ok()) {
      std::fprintf(stderr, "%s\n", cfg_or.status().ToString().c_str());
      return 2;
    }
    swarm::evo::NeatConfig cfg = *cfg_or;
    for (const auto& o : overrides) {
      auto st = swarm::evo::ApplyNeatOverride(cfg, o);
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", st.ToString().c_str());
        return 2;
      }
    }
    const auto& task = **task_or;
    swarm::evo::TaskEvaluator task_eval(&task);
    TimingEvaluator eval(&task_eval);
    const int n_runs = name == "double-pole-nv" ? runs_nv : runs;
    const uint64_t cap = gen_cap ? gen_cap : (name == "double-pole-nv" ? 60 : 300);
    TaskSummary s;
    for (int r = 0; r < n_runs; ++r) {
      swarm::evo::Island island(cfg, &task, seed0 + static_cast<uint64_t>(r));
      const auto t0 = Clock::now();
      bool ok = true;
      while (!island.solved() && island.generation() < cap) {
        auto st = island.Step(eval);
        if (st.ok() && trace) {
          std::string extra;
          if (auto* pole = dynamic_cast<const swarm::evo::PoleTask*>(&task)) {
            const Genome champ = island.Best(1)[0].genome;
            auto t = pole->Balance(champ, swarm::evo::PoleTask::StandardStart(),
                                   swarm::evo::PoleTask::kLongRunSteps, nullptr);
            auto gs = pole->GeneralisationScore(champ);
            extra = " long-run=" + std::to_string(t.ok() ? *t : -1) +
                    " generalisation=" + std::to_string(gs.ok() ? *gs : -1) +
                    " hidden=" + std::to_string(champ.HiddenCount()) +
                    " links=" + std::to_string(champ.EnabledCount());
          }
          std::fprintf(stderr, "  gen %llu best=%.4f mean=%.4f species=%zu thr=%.2f%s\n",
                       (unsigned long long)st->generation, st->best_fitness, st->mean_fitness,
                       st->species, st->compatibility_threshold, extra.c_str());
        }
        if (!st.ok()) {
          std::fprintf(stderr, "%s run %d: %s\n", name.c_str(), r, st.status().ToString().c_str());
          ok = false;
          break;
        }
      }
      const auto t1 = Clock::now();
      s.neat_seconds += Seconds(t0, t1);
      s.evals_all += island.evaluations();
      ++s.runs;
      if (ok && island.solved()) {
        ++s.solved;
        s.evals_sum += static_cast<double>(island.evaluations());
        s.gens_sum += static_cast<double>(island.generation());
        s.hidden_sum += static_cast<double>(island.solution()->genome.HiddenCount());
      }
      if (!quiet) {
        std::fprintf(stderr, "%s run %d: %s gens=%llu evals=%llu hidden=%zu %.2fs\n",
                     name.c_str(), r, island.solved() ? "solved" : "FAILED",
                     (unsigned long long)island.generation(),
                     (unsigned long long)island.evaluations(),
                     island.champion() ? island.champion()->genome.HiddenCount() : 0,
                     Seconds(t0, t1));
      }
    }
    const PaperFigure& p = kPaper.at(name);
    const double mean_evals = s.solved ? s.evals_sum / s.solved : 0;
    const double mean_gens = s.solved ? s.gens_sum / s.solved : 0;
    const std::string runs_note = std::to_string(s.solved) + "/" + std::to_string(s.runs) +
                                  " solved within " + std::to_string(cap) +
                                  " generations; population " +
                                  std::to_string(cfg.population_size) + "; mean hidden nodes " +
                                  std::to_string(s.solved ? s.hidden_sum / s.solved : 0) +
                                  "; means over solved runs; " + p.source;
    swarm::bench::Emit({"evo", "NEAT " + name + " mean evaluations to solve", mean_evals,
                        "evaluations", "paper", p.evaluations, "", runs_note + "; ratio = ours/paper (lower is better)",
                        command});
    swarm::bench::Emit({"evo", "NEAT " + name + " mean generations to solve", mean_gens,
                        "generations", "paper", p.generations, "", runs_note, command});
    swarm::bench::Emit({"evo", "NEAT " + name + " success rate", 100.0 * s.solved / s.runs, "%",
                        "paper", p.success_percent, "", runs_note, command});
    const double neat_eps = s.neat_seconds > 0 ? s.evals_all / s.neat_seconds : 0;
    const double raw_eps = eval.seconds > 0 ? s.evals_all / eval.seconds : 0;
    swarm::bench::Emit({"evo", "NEAT " + name + " evaluations/s (1 process, whole loop)", neat_eps,
                        "evals/s", "same evaluation loop without NEAT", raw_eps, "",
                        "anchor = the same evaluations timed alone inside the run; ratio = share of "
                        "time spent evaluating (1 - NEAT overhead); includes the task's champion "
                        "solution checks in the NEAT part",
                        command});
  }
  return 0;
}
