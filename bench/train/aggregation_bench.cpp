// Issue 5, benchmark (a): aggregation throughput per aggregator for n = 8 and
// 16 contributions of d = 10 M floats, as a ratio to memcpy of the same bytes
// (n * d * 4) measured in the same run.
//   bench_train_agg [--dim D] [--n 8,16]
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "common/rng.h"
#include "train/aggregator.h"

using swarm::bench::Emit;
using swarm::bench::Row;
using swarm::bench::SecondsPerCall;

int main(int argc, char** argv) {
  size_t dim = 10'000'000;
  std::vector<int> ns = {8, 16};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--dim") dim = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--n") {
      ns.clear();
      for (const char* p = argv[i + 1]; *p;) {
        ns.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    }
  }
  const std::string command = "build/bench/train/bench_train_agg";
  swarm::Rng rng(1);
  for (int n : ns) {
    std::vector<std::vector<float>> inputs(static_cast<size_t>(n), std::vector<float>(dim));
    for (auto& v : inputs) {
      for (auto& x : v) x = static_cast<float>(rng.UniformDouble(-1, 1));
    }
    std::vector<swarm::train::Contribution> views(inputs.begin(), inputs.end());
    std::vector<float> out(dim);
    const double bytes = static_cast<double>(n) * static_cast<double>(dim) * sizeof(float);
    // Anchor: read the same n*d floats once and write them (memcpy into out).
    const double memcpy_s = SecondsPerCall(
        [&] {
          for (const auto& v : inputs) std::memcpy(out.data(), v.data(), dim * sizeof(float));
        },
        0.3, 2, 3);
    const double memcpy_gbs = bytes / memcpy_s / 1e9;
    const int f = n / 4;
    struct Case {
      std::string label;
      swarm::train::AggregatorSpec spec;
    };
    std::vector<Case> cases = {
        {"mean", {.name = "mean", .byzantine = f}},
        {"median", {.name = "median", .byzantine = f}},
        {"trimmed_mean", {.name = "trimmed_mean", .byzantine = f}},
        {"multi_krum", {.name = "multi_krum", .byzantine = f}},
        {"centered_clip (3 iters)", {.name = "centered_clip", .byzantine = f}},
        {"bucketing(2)+centered_clip", {.name = "centered_clip", .byzantine = f, .bucket_size = 2}},
    };
    for (auto& c : cases) {
      auto agg = swarm::train::MakeAggregator(c.spec);
      if (!agg.ok()) {
        std::fprintf(stderr, "%s\n", agg.status().ToString().c_str());
        return 1;
      }
      bool ok = true;
      const double s = SecondsPerCall(
          [&] { ok &= (*agg)->Aggregate(views, out).ok(); }, 0.0, 1, 2);
      if (!ok) {
        std::fprintf(stderr, "aggregation %s failed\n", c.label.c_str());
        return 1;
      }
      Row r;
      r.section = "train: aggregation throughput";
      r.figure = c.label + ", n=" + std::to_string(n) + ", f=" + std::to_string(f) + ", d=" +
                 std::to_string(dim);
      r.value = bytes / s / 1e9;
      r.unit = "GB/s of contributions";
      r.anchor = "memcpy of the same n*d*4 bytes";
      r.anchor_value = memcpy_gbs;
      r.note = "ratio = aggregator input bandwidth / memcpy bandwidth; single thread";
      r.command = command;
      Emit(r);
    }
  }
  return 0;
}
