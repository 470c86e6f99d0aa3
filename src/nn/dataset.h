// Tabular classification data: a CSV of numeric features then an integer label
// per line (the 8x8 digits set is 64 features 0..16 + a label 0..9). Reads
// plain .csv or gzip .csv.gz (zlib). Torch-free (library swarm_nn_data).
//
// Errors name the source, the line and the column: a non-number, a negative or
// non-integer label, a row with a different column count, an empty file, or a
// limit exceeded (rows_max, columns_max, file_size_bytes_max).
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace swarm::nn {

struct Dataset {
  int64_t num_features = 0;
  int64_t num_classes = 0;      // max label + 1 (over the file the set came from)
  std::vector<float> features;  // row-major, size() * num_features
  std::vector<int64_t> labels;
  size_t size() const { return labels.size(); }
};

struct CsvOptions {
  bool header = false;                                // skip the first line
  uint64_t rows_max = 10'000'000;
  uint64_t columns_max = 100'000;
  uint64_t file_size_bytes_max = uint64_t{2} << 30;   // decompressed
  int64_t label_max = 1'000'000;
};

StatusOr<Dataset> ParseCsv(const std::string& text, const std::string& source,
                           const CsvOptions& options = {});
// .gz by content (gzip magic), else plain text.
StatusOr<Dataset> LoadCsv(const std::string& path, const CsvOptions& options = {});

struct TrainTestSplit {
  Dataset train, test;
};
// Shuffles indices with `seed` and puts round(test_fraction * n) rows in test.
// test_fraction in (0, 1); both parts non-empty, else InvalidArgument.
StatusOr<TrainTestSplit> SplitTrainTest(const Dataset& data, double test_fraction, uint64_t seed);

// Per-feature standardization fitted on one set (usually train) and applied to
// others: x' = (x - mean) / std, with std = 1 for constant features.
struct Standardizer {
  std::vector<float> mean, stddev;
  static Standardizer Fit(const Dataset& d);
  Status Apply(Dataset& d) const;  // feature count must match
};

}  // namespace swarm::nn
