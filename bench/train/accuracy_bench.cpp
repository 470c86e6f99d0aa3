// Issue 5, benchmark (c): test accuracy on digits under each attack for each
// aggregator, f = 1 of 4 and f = 2 of 7 trainers, mean ± std over seeds. One
// Row per cell; the anchor is the clean run (same n, no Byzantine trainer,
// mean aggregator) over the same seeds. A markdown table goes to stderr.
//   bench_train_accuracy [--seeds 3] [--steps 150] [--lr 0.15] [--data PATH] [--quick]
//                        [--attacks a,b] [--aggregators x,y] [--setups n:f[:steps],...]
//                        [--lr 0.1] [--optimizer sgd|adam] [--momentum 0.9]
//                        [--jobs 2]   (experiments run concurrently, 1 torch thread each;
//                                      wall times measured: docs/aggregation.md)
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <map>
#include <thread>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench_util.h"
#include "train/experiment.h"

using swarm::bench::Emit;
using swarm::bench::Row;
using namespace swarm::train;
using swarm::Status;
using swarm::StatusOr;

namespace {

struct Stat {
  double mean = 0, std = 0;
  std::vector<double> values;
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Stat Summarize(const std::vector<double>& v) {
  Stat s;
  s.values = v;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = v.size() > 1 ? std::sqrt(s.std / static_cast<double>(v.size() - 1)) : 0.0;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  int seeds = 3, steps = 150;
  bool quick = false;
  std::string attacks_arg, aggregators_arg, setups_arg, optimizer = "sgd";
  double lr = 0.15, momentum = 0.9;
  int jobs = 2;
  std::string data_path = std::string(SWARM_SOURCE_DIR) + "/data/digits.csv.gz";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (i + 1 < argc && a == "--seeds") seeds = std::atoi(argv[++i]);
    else if (i + 1 < argc && a == "--steps") steps = std::atoi(argv[++i]);
    else if (i + 1 < argc && a == "--data") data_path = argv[++i];
    else if (i + 1 < argc && a == "--attacks") attacks_arg = argv[++i];
    else if (i + 1 < argc && a == "--aggregators") aggregators_arg = argv[++i];
    else if (i + 1 < argc && a == "--setups") setups_arg = argv[++i];
    else if (i + 1 < argc && a == "--lr") lr = std::atof(argv[++i]);
    else if (i + 1 < argc && a == "--momentum") momentum = std::atof(argv[++i]);
    else if (i + 1 < argc && a == "--optimizer") optimizer = argv[++i];
    else if (i + 1 < argc && a == "--jobs") jobs = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "unknown or incomplete argument '%s'\n", a.c_str());
      return 2;
    }
  }
  swarm::nn::DataConfig dc;
  dc.path = data_path;
  auto data = LoadExperimentData(dc);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> attacks = {"none", "sign_flip", "noise", "alie", "ipm", "label_flip"};
  std::vector<std::string> aggregators = {"mean", "median", "trimmed_mean", "multi_krum",
                                          "centered_clip"};
  if (quick) {
    attacks = {"none", "alie"};
    aggregators = {"mean", "centered_clip"};
    seeds = 1;
  }
  if (!attacks_arg.empty()) attacks = SplitList(attacks_arg);
  if (!aggregators_arg.empty()) aggregators = SplitList(aggregators_arg);
  struct Setup {
    int n, f, steps;
  };
  std::vector<Setup> setups = {{4, 1, steps}, {7, 2, steps}};
  if (!setups_arg.empty()) {
    setups.clear();
    for (const auto& s : SplitList(setups_arg)) {
      const size_t colon = s.find(':');
      if (colon == std::string::npos) {
        std::fprintf(stderr, "--setups wants n:f pairs, got '%s'\n", s.c_str());
        return 2;
      }
      const size_t colon2 = s.find(':', colon + 1);
      setups.push_back({std::atoi(s.substr(0, colon).c_str()), std::atoi(s.substr(colon + 1).c_str()),
                        colon2 == std::string::npos ? steps : std::atoi(s.substr(colon2 + 1).c_str())});
    }
  }
  auto base = [&](int n, int f, int steps, uint64_t seed) {
    ExperimentConfig c;
    c.model.d_model = 64;
    c.model.num_experts = 4;
    c.model.expert_hidden = 64;
    c.model.top_k = 2;
    c.trainers = n;
    c.byzantine = f;
    c.steps = steps;
    c.batch_size = 32;
    c.lr = lr;
    c.optimizer = optimizer;
    c.worker_momentum = momentum;
    c.seed = seed;
    return c;
  };
  const auto t0 = std::chrono::steady_clock::now();
  // Every run (clean anchors and cells, all seeds) is a task; a pool of
  // `jobs` threads runs them, then the table is assembled in order.
  struct Task {
    ExperimentConfig config;
    StatusOr<ExperimentResult> result = absl::UnknownError("not run");
  };
  std::vector<Task> tasks;
  auto key = [](int n, const std::string& attack, const std::string& agg, int seed) {
    return absl::StrFormat("%d/%s/%s/%d", n, attack, agg, seed);
  };
  std::map<std::string, size_t> index;
  // Cell by cell (all seeds of a cell together) so a cut-short run still has
  // whole cells.
  for (auto [n, f, st] : setups) {
    for (int s = 1; s <= seeds; ++s) {
      index[key(n, "clean", "mean", s)] = tasks.size();
      tasks.push_back({base(n, 0, st, static_cast<uint64_t>(s))});
    }
  }
  for (auto [n, f, st] : setups) {
    for (const auto& attack : attacks) {
      for (const auto& agg : aggregators) {
        for (int s = 1; s <= seeds; ++s) {
          ExperimentConfig c = base(n, f, st, static_cast<uint64_t>(s));
          c.attack.name = attack;
          c.aggregator.name = agg;
          index[key(n, attack, agg, s)] = tasks.size();
          tasks.push_back({c});
        }
      }
    }
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < tasks.size(); i = next++) {
      tasks[i].result = RunExperiment(tasks[i].config, data->train, data->test);
      const auto& c = tasks[i].config;
      std::fprintf(stderr, "[%zu/%zu] n=%d f=%d %s/%s seed %llu: %s\n", i + 1, tasks.size(),
                   c.trainers, c.byzantine, c.attack.name.c_str(), c.aggregator.name.c_str(),
                   static_cast<unsigned long long>(c.seed),
                   tasks[i].result.ok()
                       ? absl::StrFormat("%.2f%%", 100 * tasks[i].result->test_accuracy).c_str()
                       : std::string(tasks[i].result.status().message()).c_str());
    }
  };
  std::vector<std::thread> pool;
  for (int j = 0; j < jobs; ++j) pool.emplace_back(worker);
  for (auto& t : pool) t.join();

  std::string table;
  for (auto [n, f, steps] : setups) {
    std::vector<double> clean;
    for (int s = 1; s <= seeds; ++s) {
      const auto& r = tasks[index[key(n, "clean", "mean", s)]].result;
      if (!r.ok()) {
        std::fprintf(stderr, "clean run: %s\n", r.status().ToString().c_str());
        return 1;
      }
      clean.push_back(100.0 * r->test_accuracy);
    }
    const Stat anchor = Summarize(clean);
    table += absl::StrFormat("\n### f = %d of n = %d (clean run, mean aggregator: %.2f ± %.2f %%)\n\n",
                             f, n, anchor.mean, anchor.std);
    table += "| attack |";
    for (const auto& g : aggregators) table += " " + g + " |";
    table += "\n|---|";
    for (size_t i = 0; i < aggregators.size(); ++i) table += "---|";
    table += "\n";
    for (const auto& attack : attacks) {
      table += "| " + attack + " |";
      for (const auto& agg : aggregators) {
        std::vector<double> acc;
        int diverged = 0;
        Status err = absl::OkStatus();
        for (int s = 1; s <= seeds; ++s) {
          const auto& r = tasks[index[key(n, attack, agg, s)]].result;
          if (!r.ok()) {
            err = r.status();
            break;
          }
          diverged += r->diverged ? 1 : 0;
          acc.push_back(100.0 * r->test_accuracy);
        }
        if (!err.ok()) {
          std::fprintf(stderr, "%s/%s n=%d f=%d: %s\n", attack.c_str(), agg.c_str(), n, f,
                       err.ToString().c_str());
          if (!absl::IsFailedPrecondition(err)) return 1;
          table += " n/a |";
          continue;
        }
        const Stat st = Summarize(acc);
        table += absl::StrFormat(" %.2f ± %.2f%s |", st.mean, st.std, diverged ? " (div)" : "");
        Row row;
        row.section = "train: accuracy under attack (digits)";
        row.figure = absl::StrFormat("f=%d/%d attack=%s aggregator=%s", f, n, attack, agg);
        row.value = st.mean;
        row.unit = "% test accuracy";
        row.anchor = "clean run (no Byzantine, mean)";
        row.anchor_value = anchor.mean;
        std::string per;
        for (double v : st.values) per += absl::StrFormat(" %.2f", v);
        row.note = absl::StrFormat(
            "± %.2f std over %d seeds (%s); anchor ± %.2f; %d steps, worker momentum %.2f%s", st.std,
            seeds, per.substr(1), anchor.std, steps, momentum,
            diverged ? absl::StrFormat("; %d run(s) diverged", diverged) : "");
        row.command = "build/bench/train/bench_train_accuracy";
        Emit(row);
      }
      table += "\n";
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "%s\n(%.0f s)\n", table.c_str(), secs);
  return 0;
}
