#include "nn/dataset.h"

#include <zlib.h>

#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/rng.h"

namespace swarm::nn {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Status CellError(const std::string& source, size_t line, size_t col, std::string_view cell,
                 const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ":", line, ": column ", col, " = '",
                                                 std::string(cell.substr(0, 40)), "' ", what));
}

}  // namespace

StatusOr<Dataset> ParseCsv(const std::string& text, const std::string& source,
                           const CsvOptions& o) {
  if (text.size() > o.file_size_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", text.size(),
                                                   " bytes > file_size_bytes_max ",
                                                   o.file_size_bytes_max));
  }
  Dataset d;
  int64_t columns = -1;
  size_t line_no = 0, pos = 0;
  std::vector<std::string_view> cells;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line = Trim(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line_no == 1 && o.header) continue;
    if (line.empty()) continue;
    cells.clear();
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      cells.push_back(Trim(line.substr(start, comma == std::string_view::npos ? line.npos
                                                                              : comma - start)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
      if (cells.size() > o.columns_max) {
        return absl::InvalidArgumentError(absl::StrCat(source, ":", line_no, ": more than columns_max ",
                                                       o.columns_max, " columns"));
      }
    }
    if (cells.size() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ":", line_no, ": needs at least one feature and a label, got ", cells.size(),
          " column"));
    }
    if (columns < 0) {
      columns = static_cast<int64_t>(cells.size());
      d.num_features = columns - 1;
    } else if (static_cast<int64_t>(cells.size()) != columns) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_no, ": has ", cells.size(),
                                                     " columns, earlier rows have ", columns));
    }
    if (d.size() >= o.rows_max) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": more than rows_max ", o.rows_max,
                                                     " rows"));
    }
    for (size_t c = 0; c + 1 < cells.size(); ++c) {
      float v = 0;
      const auto cell = cells[c];
      const auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (ec != std::errc() || p != cell.data() + cell.size() || cell.empty()) {
        return CellError(source, line_no, c + 1, cell, "is not a number");
      }
      if (!std::isfinite(v)) return CellError(source, line_no, c + 1, cell, "is not finite");
      d.features.push_back(v);
    }
    const auto cell = cells.back();
    double label = 0;
    const auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), label);
    if (ec != std::errc() || p != cell.data() + cell.size() || cell.empty() ||
        label != std::floor(label) || label < 0 || label > static_cast<double>(o.label_max)) {
      return CellError(source, line_no, cells.size(), cell,
                       absl::StrCat("is not a label (an integer in [0, ", o.label_max, "])"));
    }
    d.labels.push_back(static_cast<int64_t>(label));
    d.num_classes = std::max(d.num_classes, static_cast<int64_t>(label) + 1);
  }
  if (d.size() == 0) return absl::InvalidArgumentError(absl::StrCat(source, ": no data rows"));
  return d;
}

StatusOr<Dataset> LoadCsv(const std::string& path, const CsvOptions& o) {
  // gzopen reads gzip and, transparently, plain files.
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string text;
  char buf[1 << 16];
  while (true) {
    const int got = gzread(f, buf, sizeof(buf));
    if (got < 0) {
      int err = 0;
      const std::string msg = gzerror(f, &err);
      gzclose(f);
      return absl::DataLossError(absl::StrCat(path, ": read error: ", msg));
    }
    if (got == 0) break;
    text.append(buf, static_cast<size_t>(got));
    if (text.size() > o.file_size_bytes_max) {
      gzclose(f);
      return absl::InvalidArgumentError(absl::StrCat(path, ": more than file_size_bytes_max ",
                                                     o.file_size_bytes_max, " bytes"));
    }
  }
  gzclose(f);
  return ParseCsv(text, path, o);
}

StatusOr<TrainTestSplit> SplitTrainTest(const Dataset& data, double test_fraction, uint64_t seed) {
  if (!(test_fraction > 0 && test_fraction < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("test_fraction = ", test_fraction,
                                                   " must be in (0, 1)"));
  }
  const size_t n = data.size();
  const size_t n_test = static_cast<size_t>(std::llround(test_fraction * static_cast<double>(n)));
  if (n_test == 0 || n_test == n) {
    return absl::InvalidArgumentError(absl::StrCat("test_fraction = ", test_fraction, " of ", n,
                                                   " rows leaves an empty train or test set"));
  }
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  Rng rng(seed);
  rng.Shuffle(idx);
  TrainTestSplit s;
  for (Dataset* part : {&s.train, &s.test}) {
    part->num_features = data.num_features;
    part->num_classes = data.num_classes;
  }
  const size_t f = static_cast<size_t>(data.num_features);
  for (size_t k = 0; k < n; ++k) {
    Dataset& part = k < n_test ? s.test : s.train;
    const size_t i = idx[k];
    part.features.insert(part.features.end(), data.features.begin() + i * f,
                         data.features.begin() + (i + 1) * f);
    part.labels.push_back(data.labels[i]);
  }
  return s;
}

Standardizer Standardizer::Fit(const Dataset& d) {
  const size_t f = static_cast<size_t>(d.num_features), n = d.size();
  Standardizer s;
  s.mean.assign(f, 0.0f);
  s.stddev.assign(f, 1.0f);
  for (size_t c = 0; c < f; ++c) {
    double sum = 0, sum2 = 0;
    for (size_t r = 0; r < n; ++r) {
      const double v = d.features[r * f + c];
      sum += v;
      sum2 += v * v;
    }
    const double mu = n ? sum / static_cast<double>(n) : 0.0;
    const double var = n ? std::max(0.0, sum2 / static_cast<double>(n) - mu * mu) : 0.0;
    s.mean[c] = static_cast<float>(mu);
    s.stddev[c] = var > 1e-12 ? static_cast<float>(std::sqrt(var)) : 1.0f;
  }
  return s;
}

Status Standardizer::Apply(Dataset& d) const {
  const size_t f = static_cast<size_t>(d.num_features);
  if (f != mean.size()) {
    return absl::InvalidArgumentError(absl::StrCat("standardizer fitted on ", mean.size(),
                                                   " features, data has ", f));
  }
  for (size_t r = 0; r < d.size(); ++r) {
    for (size_t c = 0; c < f; ++c) {
      float& v = d.features[r * f + c];
      v = (v - mean[c]) / stddev[c];
    }
  }
  return absl::OkStatus();
}

}  // namespace swarm::nn
