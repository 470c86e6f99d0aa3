// Aggregation throughput per aggregator for n = 8 and 16 contributions of
// d = 10 M floats (issue 18 item 2), in the same run as its anchors:
//   - memcpy of the same bytes (n * d * 4): how close to memory bandwidth;
//   - the same aggregator written with LibTorch tensor operations (as BTARD's
//     CenteredClip is), with the same number of threads.
// Each aggregator is timed on one thread and on two (AggregatorSpec::
// parallel_for over two std::threads: the caller's executor).
//   bench_train_agg [--dim D] [--n 8,16] [--no-torch]
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "common/rng.h"
#include "train/aggregator.h"
#include "torch_aggregators.h"

using swarm::bench::Emit;
using swarm::bench::Row;
using swarm::bench::SecondsPerCall;

namespace {

void TwoThreads(size_t tasks, const std::function<void(size_t)>& task) {
  std::thread other([&] {
    for (size_t t = 1; t < tasks; t += 2) task(t);
  });
  for (size_t t = 0; t < tasks; t += 2) task(t);
  other.join();
}

}  // namespace

int main(int argc, char** argv) {
  size_t dim = 10'000'000;
  std::vector<int> ns = {8, 16};
  bool with_torch = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--no-torch") {
      with_torch = false;
    } else if (a == "--dim" && i + 1 < argc) {
      dim = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--n" && i + 1 < argc) {
      ns.clear();
      for (const char* p = argv[++i]; *p;) {
        ns.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    } else {
      std::fprintf(stderr, "usage: bench_train_agg [--dim D] [--n 8,16] [--no-torch]\n");
      return 2;
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
    std::vector<const float*> ptrs;
    for (auto& v : inputs) ptrs.push_back(v.data());
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
    const std::string shape =
        ", n=" + std::to_string(n) + ", f=" + std::to_string(f) + ", d=" + std::to_string(dim);
    struct Case {
      std::string label;
      swarm::train::AggregatorSpec spec;
      std::string torch_name;  // empty: no LibTorch anchor
    };
    std::vector<Case> cases = {
        {"mean", {.name = "mean", .byzantine = f}, "mean"},
        {"median", {.name = "median", .byzantine = f}, "median"},
        {"trimmed_mean", {.name = "trimmed_mean", .byzantine = f}, "trimmed_mean"},
        {"multi_krum", {.name = "multi_krum", .byzantine = f}, ""},
        {"centered_clip (3 iters)", {.name = "centered_clip", .byzantine = f}, "centered_clip"},
        {"bucketing(2)+centered_clip", {.name = "centered_clip", .byzantine = f, .bucket_size = 2}, ""},
    };
    for (int threads : {1, 2}) {
      std::unique_ptr<swarm::bench::TorchAggregators> torch_aggs;
      if (with_torch) {
        torch_aggs = std::make_unique<swarm::bench::TorchAggregators>(ptrs.data(), ptrs.size(), dim, threads);
      }
      for (auto& c : cases) {
        auto spec = c.spec;
        if (threads == 2) spec.parallel_for = TwoThreads;
        auto agg = swarm::train::MakeAggregator(spec);
        if (!agg.ok()) {
          std::fprintf(stderr, "%s\n", agg.status().ToString().c_str());
          return 1;
        }
        bool ok = true;
        const double s = SecondsPerCall([&] { ok &= (*agg)->Aggregate(views, out).ok(); }, 0.0, 1, 2);
        if (!ok) {
          std::fprintf(stderr, "aggregation %s failed\n", c.label.c_str());
          return 1;
        }
        const double gbs = bytes / s / 1e9;
        const std::string thread_label = threads == 1 ? "1 thread" : "2 threads";
        Row r;
        r.section = "train: aggregation throughput";
        r.figure = c.label + shape + ", " + thread_label;
        r.value = gbs;
        r.unit = "GB/s of contributions";
        r.anchor = "memcpy of the same n*d*4 bytes (1 thread)";
        r.anchor_value = memcpy_gbs;
        r.note = "ratio = aggregator input bandwidth / memcpy bandwidth (goal: mean >= 0.8, median, "
                 "trimmed mean, CenteredClip >= 0.3)";
        r.command = command;
        Emit(r);
        if (torch_aggs && !c.torch_name.empty()) {
          double checksum = 0;
          const double ts = SecondsPerCall(
              [&] { checksum += torch_aggs->Run(c.torch_name, f, spec.clip_iterations); }, 0.0, 1, 2);
          Row t;
          t.section = "train: aggregation throughput";
          t.figure = c.label + shape + ", " + thread_label + ", ours";
          t.value = gbs;
          t.unit = "GB/s of contributions";
          t.anchor = "same rule in LibTorch tensor ops (" + thread_label + ")";
          t.anchor_value = bytes / ts / 1e9;
          t.note = "ratio = our speed / LibTorch's (goal >= 2); LibTorch gets the inputs pre-stacked "
                   "as one [n, d] tensor (stacking not timed); median/trimmed mean by sort(0), "
                   "CenteredClip as BTARD writes it";
          t.command = command;
          Emit(t);
          if (checksum == 12345.678) std::fprintf(stderr, "unlikely\n");  // keep the result live
        }
      }
    }
  }
  return 0;
}
