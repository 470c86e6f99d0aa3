// Issue 5, benchmark (c): test accuracy on digits under each attack for each
// aggregator, f = 1 of 4 and f = 2 of 7 trainers, mean ± std over seeds. One
// Row per cell; the anchor is the clean run (same n, no Byzantine trainer,
// mean aggregator) over the same seeds. A markdown table goes to stderr.
//   bench_train_accuracy [--seeds 3] [--steps 200] [--data PATH] [--quick]
//                        [--attacks a,b] [--aggregators x,y] [--setups 4:1,7:2]
//                        [--lr 0.1] [--optimizer sgd|adam] [--momentum 0.9]
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench_util.h"
#include "train/experiment.h"

using swarm::bench::Emit;
using swarm::bench::Row;
using namespace swarm::train;

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
  int seeds = 3, steps = 200;
  bool quick = false;
  std::string attacks_arg, aggregators_arg, setups_arg, optimizer = "sgd";
  double lr = 0.1, momentum = 0.9;
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
  std::vector<std::pair<int, int>> setups = {{4, 1}, {7, 2}};
  if (!setups_arg.empty()) {
    setups.clear();
    for (const auto& s : SplitList(setups_arg)) {
      const size_t colon = s.find(':');
      if (colon == std::string::npos) {
        std::fprintf(stderr, "--setups wants n:f pairs, got '%s'\n", s.c_str());
        return 2;
      }
      setups.emplace_back(std::atoi(s.substr(0, colon).c_str()), std::atoi(s.substr(colon + 1).c_str()));
    }
  }
  auto base = [&](int n, int f, uint64_t seed) {
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
  std::string table;
  for (auto [n, f] : setups) {
    std::vector<double> clean;
    for (int s = 1; s <= seeds; ++s) {
        auto r = RunExperiment(base(n, 0, static_cast<uint64_t>(s)), data->train, data->test);
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
        std::string err;
        bool not_applicable = false;
        for (int s = 1; s <= seeds; ++s) {
          ExperimentConfig c = base(n, f, static_cast<uint64_t>(s));
          c.attack.name = attack;
          c.aggregator.name = agg;
          auto r = RunExperiment(c, data->train, data->test);
          if (!r.ok()) {
            err = std::string(r.status().message());
            not_applicable = absl::IsFailedPrecondition(r.status());
            break;
          }
          acc.push_back(100.0 * r->test_accuracy);
        }
        if (!err.empty() && !not_applicable) {
          std::fprintf(stderr, "%s/%s n=%d f=%d: %s\n", attack.c_str(), agg.c_str(), n, f, err.c_str());
          return 1;
        }
        if (!err.empty()) {
          table += " n/a |";
          std::fprintf(stderr, "%s/%s n=%d f=%d: %s\n", attack.c_str(), agg.c_str(), n, f, err.c_str());
          continue;
        }
        const Stat st = Summarize(acc);
        table += absl::StrFormat(" %.2f ± %.2f |", st.mean, st.std);
        Row row;
        row.section = "train: accuracy under attack (digits)";
        row.figure = absl::StrFormat("f=%d/%d attack=%s aggregator=%s", f, n, attack, agg);
        row.value = st.mean;
        row.unit = "% test accuracy";
        row.anchor = "clean run (no Byzantine, mean)";
        row.anchor_value = anchor.mean;
        std::string per;
        for (double v : st.values) per += absl::StrFormat(" %.2f", v);
        row.note = absl::StrFormat("± %.2f std over %d seeds (%s); anchor ± %.2f; %d steps, worker momentum 0.9",
                                   st.std, seeds, per.substr(1), anchor.std, steps);
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
