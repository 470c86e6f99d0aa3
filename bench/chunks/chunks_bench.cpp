// Checkpoint chunking and deduplication (issue 17).
//
// Rows (each beside an anchor measured in the same run, on the same bytes):
//   1. FastCDC chunking throughput of a 1 GiB buffer of random bytes, beside
//      memcpy of the same buffer (the memory-bandwidth ceiling).
//   2. The same FastCDC pass beside `casync make` (Debian's casync) on the
//      same 1 GiB file with the same min/avg/max chunk sizes. casync's CLI
//      cannot chunk without also hashing (SHA-512/256), compressing (zstd)
//      and storing, so its figure is its whole pipeline; row 3 is the like-
//      for-like comparison.
//   3. Our whole write (FastCDC + SHA3-256 + zstd + one file per chunk, no
//      fsync) of the same 1 GiB, beside `casync make` of it.
//   4-5. Deduplication between two consecutive synthetic checkpoints, beside
//      the share of bytes that did not change (the most any chunking could
//      deduplicate).
// Usage: bench_chunks [--mib N]   (default 1024; casync rows need casync on PATH)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench_util.h"
#include "chunks/store.h"
#include "common/rng.h"

namespace {

namespace fs = std::filesystem;
using swarm::Bytes;
using swarm::bench::Emit;
using namespace swarm::chunks;

const char* const kCommand = "build/bench/chunks/bench_chunks";
constexpr ChunkerParams kParams{.min_bytes = 16u << 10, .avg_bytes = 64u << 10, .max_bytes = 256u << 10};

// CPU seconds of this thread: on a shared, loaded 2-core machine wall time
// measures the neighbours; every in-process figure here is per CPU-second.
double ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// CPU seconds (user + sys) of all waited-for children so far.
double ChildrenCpu() {
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

void FillRandom(Bytes& b, uint64_t seed) {
  swarm::Rng rng(seed);
  size_t i = 0;
  for (; i + 8 <= b.size(); i += 8) {
    const uint64_t v = rng.Next();
    std::memcpy(b.data() + i, &v, 8);
  }
  for (; i < b.size(); ++i) b[i] = static_cast<uint8_t>(rng.Next());
}

// Best-of-`repeats` CPU seconds of fn().
template <typename F>
double BestSeconds(int repeats, F&& fn) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = ThreadCpu();
    fn();
    best = std::min(best, ThreadCpu() - t0);
  }
  return best;
}

// Runs a command (argv), returns its CPU seconds (user + sys), or -1 if it failed.
double RunSeconds(const std::vector<std::string>& argv) {
  const double t0 = ChildrenCpu();
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return ChildrenCpu() - t0;
}

bool HaveCasync() { return std::system("command -v casync >/dev/null 2>&1") == 0; }

struct DedupCase {
  std::string figure;
  std::vector<std::pair<std::string, Bytes>> before, after;
  uint64_t unchanged_bytes = 0;  // bytes of `after` equal to `before` at the same offset of the same blob
};

void EmitDedup(const DedupCase& c, const fs::path& root) {
  fs::remove_all(root);
  CheckpointDirOptions opts;
  opts.chunker = kParams;
  opts.sync = false;
  auto dir = CheckpointDir::Open(root.string(), opts);
  SWARM_ASSERT(dir.ok());
  auto write = [&](const std::string& label, uint64_t step, const auto& blobs) {
    std::vector<BlobInput> in;
    for (const auto& [n, b] : blobs) in.push_back({n, b});
    auto r = (*dir)->Write({.job = "bench", .label = label, .step = step}, in);
    SWARM_ASSERT(r.ok());
    return r->stats;
  };
  write("step-1", 1, c.before);
  const WriteStats s = write("step-2", 2, c.after);
  const double dedup = static_cast<double>(s.bytes_dedup) / static_cast<double>(s.bytes_raw);
  const double ideal = static_cast<double>(c.unchanged_bytes) / static_cast<double>(s.bytes_raw);
  Emit({.section = "chunks", .figure = c.figure, .value = 100 * dedup, .unit = "% deduplicated",
        .anchor = "share of bytes unchanged (the most any chunking can deduplicate)", .anchor_value = 100 * ideal,
        .anchor_unit = "%",
        .note = absl::StrCat("second checkpoint ", s.bytes_raw >> 20, " MiB: ", s.chunks_new, " of ",
                             s.chunks_unique, " chunks new, ", s.bytes_new >> 10,
                             " KiB written raw; FastCDC 16/64/256 KiB; ratio = achieved / ideal"),
        .command = kCommand});
  fs::remove_all(root);
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 1024;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--mib") mib = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const size_t n = mib << 20;
  const fs::path tmp = fs::temp_directory_path() / ("swarm_chunks_bench_" + std::to_string(getpid()));
  fs::create_directories(tmp);
  auto chunker = Chunker::Create(kParams);
  SWARM_ASSERT(chunker.ok());

  Bytes data(n);
  FillRandom(data, 1);
  size_t chunks = 0;
  const double cdc_s = BestSeconds(3, [&] { chunks = chunker->Split(data).size(); });
  Bytes copy(n);
  const double memcpy_s = BestSeconds(3, [&] {
    std::memcpy(copy.data(), data.data(), n);
    asm volatile("" : : "r"(copy.data()) : "memory");
  });
  copy = Bytes();
  const double gb = static_cast<double>(n) / 1e9;
  Emit({.section = "chunks", .figure = absl::StrCat("FastCDC chunking, ", mib, " MiB random bytes"),
        .value = gb / cdc_s, .unit = "GB/s", .anchor = "memcpy of the same buffer", .anchor_value = gb / memcpy_s,
        .note = absl::StrCat("boundaries only (no hashing); min/avg/max 16/64/256 KiB, normalization 2; ",
                             chunks, " chunks, mean ", (n / chunks) >> 10, " KiB; best of 3; per CPU-second (thread CPU time); 1 GB = 1e9 bytes"),
        .command = kCommand});

  // Our whole write of the same bytes as one blob (no fsync: the disk is not measured).
  double store_s = 0;
  WriteStats st;
  {
    CheckpointDirOptions opts;
    opts.chunker = kParams;
    opts.sync = false;
    opts.compression_level = 3;
    const fs::path root = tmp / "store";
    auto dir = CheckpointDir::Open(root.string(), opts);
    SWARM_ASSERT(dir.ok());
    const BlobInput blob[] = {{"blob", data}};
    const double t0 = ThreadCpu();
    auto r = (*dir)->Write({.job = "bench", .label = "one"}, blob);
    store_s = ThreadCpu() - t0;
    SWARM_ASSERT(r.ok());
    st = r->stats;
    fs::remove_all(root);
  }

  if (HaveCasync()) {
    const fs::path file = tmp / "blob.bin";
    {
      std::ofstream out(file, std::ios::binary);
      out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(n));
    }
    double casync_s = 1e300;
    for (int r = 0; r < 2; ++r) {
      const fs::path store = tmp / ("casync_store_" + std::to_string(r));
      const double s = RunSeconds({"casync", "make", "--store=" + store.string(), "--compression=zstd",
                                   "--chunk-size=16384:65536:262144",
                                   (tmp / ("blob_" + std::to_string(r) + ".caibx")).string(), file.string()});
      fs::remove_all(store);
      if (s > 0) casync_s = std::min(casync_s, s);
    }
    if (casync_s < 1e300) {
      Emit({.section = "chunks", .figure = absl::StrCat("FastCDC chunking vs casync, same ", mib, " MiB file"),
            .value = gb / cdc_s, .unit = "GB/s", .anchor = "casync make (Debian casync 2+20201210)",
            .anchor_value = gb / casync_s,
            .note = "casync cannot chunk alone from its CLI: its figure includes SHA-512/256, zstd and writing its "
                    "store (file in page cache); casync per CPU-second of the child (user+sys), ours per thread CPU-second; "
                    "see the next row for the like-for-like pipeline; best of 2",
            .command = kCommand});
      Emit({.section = "chunks",
            .figure = absl::StrCat("checkpoint write: FastCDC + SHA3-256 + zstd-3 + chunk files, ", mib, " MiB"),
            .value = gb / store_s, .unit = "GB/s", .anchor = "casync make, same file and chunk sizes",
            .anchor_value = gb / casync_s,
            .note = absl::StrCat("per CPU-second (user+sys) on both sides; no fsync on either side; ", st.chunks_new,
                                 " chunk files; casync hashes with SHA-512/256, we with SHA3-256"),
            .command = kCommand});
    } else {
      std::fprintf(stderr, "bench_chunks: casync make failed; casync rows skipped\n");
    }
  } else {
    std::fprintf(stderr, "bench_chunks: casync not installed (scripts/setup installs it); casync rows skipped\n");
  }
  data = Bytes();

  // Dedup case 1: a mixture-of-experts host's checkpoint, 64 experts of
  // 1 MiB (parameters) + 1 MiB (Adam state) each; one step trains 4 of them.
  {
    DedupCase c;
    c.figure = "dedup between consecutive checkpoints: 4 of 64 experts updated";
    swarm::Rng rng(7);
    for (int e = 0; e < 64; ++e) {
      for (const char* kind : {"w", "adam"}) {
        Bytes b(1u << 20);
        FillRandom(b, rng.Next());
        c.before.push_back({absl::StrCat("expert", e, ".", kind), b});
      }
    }
    c.after = c.before;
    for (auto& [name, b] : c.after) {
      const int e = std::atoi(name.c_str() + 6);
      if (e % 16 == 3) {
        FillRandom(b, rng.Next());
      } else {
        c.unchanged_bytes += b.size();
      }
    }
    EmitDedup(c, tmp / "dedup1");
  }
  // Dedup case 2: a 64 MiB embedding table (rows of 256 float32) where one
  // step's sparse gradient touches 0.1% of rows, scattered at random.
  {
    DedupCase c;
    c.figure = "dedup between consecutive checkpoints: embedding table, 0.1% of rows updated";
    constexpr size_t kRow = 1024, kRows = 65536;
    Bytes table(kRow * kRows);
    FillRandom(table, 8);
    c.before.push_back({"embedding", table});
    swarm::Rng rng(9);
    std::vector<bool> touched(kRows, false);
    for (size_t k = 0; k < kRows / 1000; ++k) touched[rng.Uniform(kRows)] = true;
    size_t changed_rows = 0;
    for (size_t r = 0; r < kRows; ++r) {
      if (!touched[r]) continue;
      ++changed_rows;
      for (size_t i = 0; i < kRow; ++i) table[r * kRow + i] = static_cast<uint8_t>(rng.Next());
    }
    c.after.push_back({"embedding", table});
    c.unchanged_bytes = (kRows - changed_rows) * kRow;
    EmitDedup(c, tmp / "dedup2");
  }
  fs::remove_all(tmp);
  return 0;
}
