// `swarm checkpoint ls|show|verify|restore|gc|create --dir D`: a peer's
// content-addressed checkpoint directory (chunks/store.h). Local and
// read-mostly: no peer is contacted, nothing is signed.
//
// Exit codes: 0 done; 1 a check failed (verify found a bad chunk or manifest,
// restore or gc could not complete); 2 usage (bad flags, no such directory or
// checkpoint, bad name).
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "chunks/store.h"
#include "cli/commands.h"

namespace swarm::cli {
namespace {

struct CheckpointFlags {
  std::string dir;
  std::vector<std::string> labels;
  std::string out;
  std::string job;
  uint64_t step = 0;
  std::vector<std::string> files;
  size_t keep = 0;
  bool json = false;
};

int UsageOrRuntime(const Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
      return kExitUsage;
    default:
      return kExitRuntime;
  }
}

std::unique_ptr<chunks::CheckpointDir> OpenDir(const std::string& cmd, const std::string& dir) {
  if (dir.empty()) Fail(cmd, absl::InvalidArgumentError("--dir is required"), kExitUsage);
  auto d = chunks::CheckpointDir::OpenExisting(dir);
  if (!d.ok()) Fail(cmd, d.status(), kExitUsage);
  return std::move(*d);
}

std::string Iso(uint64_t unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string HumanBytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

uint64_t RawBytes(const chunks::Manifest& m) {
  uint64_t n = 0;
  for (const auto& b : m.blobs) n += b.size;
  return n;
}

uint64_t UniqueBytes(const chunks::Manifest& m) {
  uint64_t n = 0;
  for (const auto& c : m.chunks) n += c.raw_bytes;
  return n;
}

nlohmann::json ManifestJson(const chunks::Manifest& m, bool with_blobs) {
  nlohmann::json j = {{"label", m.label},
                      {"job", m.job},
                      {"step", m.step},
                      {"created", Iso(m.created_unix_ms)},
                      {"root", ToHex(chunks::ManifestRoot(m))},
                      {"blobs_count", m.blobs.size()},
                      {"chunks", m.chunks.size()},
                      {"bytes", RawBytes(m)},
                      {"unique_chunk_bytes", UniqueBytes(m)}};
  if (with_blobs) {
    j["blobs"] = nlohmann::json::array();
    for (const auto& b : m.blobs) {
      j["blobs"].push_back({{"name", b.name}, {"bytes", b.size}, {"chunks", b.refs.size()}, {"root", ToHex(b.root)}});
    }
  }
  return j;
}

void RunLs(const CheckpointFlags& f) {
  auto dir = OpenDir("checkpoint ls", f.dir);
  auto list = dir->List();
  if (!list.ok()) Fail("checkpoint ls", list.status(), kExitRuntime);
  if (f.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& l : *list) {
      out.push_back(l.manifest ? ManifestJson(*l.manifest, false)
                               : nlohmann::json{{"label", l.label}, {"error", l.error}});
    }
    std::cout << out.dump(2) << std::endl;
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : *list) {
    if (!l.manifest) {
      rows.push_back({l.label, "-", "-", "-", "-", "-", "UNREADABLE: " + l.error});
      continue;
    }
    const auto& m = *l.manifest;
    rows.push_back({m.label, std::to_string(m.step), m.job.empty() ? "-" : m.job, Iso(m.created_unix_ms),
                    std::to_string(m.blobs.size()), HumanBytes(RawBytes(m)),
                    ToHex(chunks::ManifestRoot(m)).substr(0, 16)});
  }
  std::cout << FormatTable({"LABEL", "STEP", "JOB", "CREATED", "BLOBS", "SIZE", "ROOT"}, rows);
  if (rows.empty()) std::cout << "(no checkpoints in " << f.dir << ")\n";
}

void RunShow(const CheckpointFlags& f) {
  auto dir = OpenDir("checkpoint show", f.dir);
  if (f.labels.size() != 1) Fail("checkpoint show", absl::InvalidArgumentError("give exactly one LABEL"), kExitUsage);
  auto m = dir->ReadManifest(f.labels[0]);
  if (!m.ok()) Fail("checkpoint show", m.status(), UsageOrRuntime(m.status()));
  if (f.json) {
    std::cout << ManifestJson(*m, true).dump(2) << std::endl;
    return;
  }
  std::cout << "label    " << m->label << "\njob      " << (m->job.empty() ? "-" : m->job) << "\nstep     "
            << m->step << "\ncreated  " << Iso(m->created_unix_ms) << "\nroot     "
            << ToHex(chunks::ManifestRoot(*m)) << "\nsize     " << HumanBytes(RawBytes(*m)) << " in "
            << m->blobs.size() << " blobs; " << m->chunks.size() << " distinct chunks ("
            << HumanBytes(UniqueBytes(*m)) << ")\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : m->blobs) {
    rows.push_back({b.name, HumanBytes(b.size), std::to_string(b.refs.size()), ToHex(b.root).substr(0, 16)});
  }
  std::cout << FormatTable({"BLOB", "SIZE", "CHUNKS", "ROOT"}, rows);
}

int RunVerify(const CheckpointFlags& f) {
  auto dir = OpenDir("checkpoint verify", f.dir);
  std::vector<std::string> labels = f.labels;
  if (labels.empty()) {
    auto list = dir->List();
    if (!list.ok()) Fail("checkpoint verify", list.status(), kExitRuntime);
    for (const auto& l : *list) labels.push_back(l.label);
    if (labels.empty()) std::cout << "(no checkpoints in " << f.dir << ")\n";
  }
  int bad = 0;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& label : labels) {
    auto rep = dir->Verify(label);
    if (!rep.ok()) Fail("checkpoint verify", rep.status(), UsageOrRuntime(rep.status()));
    bad += rep->ok ? 0 : 1;
    if (f.json) {
      nlohmann::json j = {{"label", label}, {"ok", rep->ok}, {"chunks_checked", rep->chunks_checked},
                          {"bytes_checked", rep->bytes_checked}};
      if (!rep->manifest_error.empty()) j["manifest_error"] = rep->manifest_error;
      if (rep->first_bad) {
        j["first_bad"] = {{"blob", rep->first_bad->blob}, {"index_in_blob", rep->first_bad->index_in_blob},
                          {"chunk", ToHex(rep->first_bad->id)}, {"path", rep->first_bad->path},
                          {"reason", rep->first_bad->reason}};
      }
      out.push_back(j);
    } else {
      std::cout << label << ": " << rep->ToString() << "\n";
    }
  }
  if (f.json) std::cout << out.dump(2) << std::endl;
  if (bad > 0) {
    std::cerr << "swarm checkpoint verify: " << bad << " of " << labels.size() << " checkpoint(s) bad" << std::endl;
    return kExitRuntime;
  }
  return 0;
}

void RunRestore(const CheckpointFlags& f) {
  auto dir = OpenDir("checkpoint restore", f.dir);
  if (f.labels.size() != 1) Fail("checkpoint restore", absl::InvalidArgumentError("give exactly one LABEL"), kExitUsage);
  if (f.out.empty()) Fail("checkpoint restore", absl::InvalidArgumentError("--out DIR is required"), kExitUsage);
  const Status s = dir->Restore(f.labels[0], f.out);
  if (!s.ok()) Fail("checkpoint restore", s, UsageOrRuntime(s));
  std::cout << "restored checkpoint " << f.labels[0] << " into " << f.out << std::endl;
}

void RunGc(const CheckpointFlags& f) {
  auto dir = OpenDir("checkpoint gc", f.dir);
  auto rep = dir->Gc(f.keep);
  if (!rep.ok()) Fail("checkpoint gc", rep.status(), kExitRuntime);
  if (f.json) {
    std::cout << nlohmann::json{{"checkpoints", rep->manifests}, {"chunks_kept", rep->chunks_kept},
                                {"chunks_removed", rep->chunks_removed}, {"bytes_removed", rep->bytes_removed},
                                {"temp_files_removed", rep->temp_files_removed}}
                     .dump(2)
              << std::endl;
    return;
  }
  std::cout << "gc: " << rep->manifests << " checkpoint(s) kept; " << rep->chunks_kept << " chunks kept, "
            << rep->chunks_removed << " removed (" << HumanBytes(rep->bytes_removed) << "), "
            << rep->temp_files_removed << " leftover temporary file(s) removed" << std::endl;
}

void RunCreate(const CheckpointFlags& f) {
  if (f.dir.empty()) Fail("checkpoint create", absl::InvalidArgumentError("--dir is required"), kExitUsage);
  if (f.labels.size() != 1) Fail("checkpoint create", absl::InvalidArgumentError("give --label LABEL"), kExitUsage);
  if (f.files.empty()) Fail("checkpoint create", absl::InvalidArgumentError("give at least one FILE"), kExitUsage);
  std::vector<std::pair<std::string, Bytes>> blobs;
  for (const std::string& spec : f.files) {
    // NAME=FILE, or FILE (named by its base name).
    const size_t eq = spec.find('=');
    const std::string path = eq == std::string::npos ? spec : spec.substr(eq + 1);
    const std::string name =
        eq == std::string::npos ? std::filesystem::path(spec).filename().string() : spec.substr(0, eq);
    std::ifstream in(path, std::ios::binary);
    if (!in) Fail("checkpoint create", absl::NotFoundError("cannot read '" + path + "'"), kExitUsage);
    blobs.push_back({name, Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())});
  }
  auto dir = chunks::CheckpointDir::Open(f.dir);
  if (!dir.ok()) Fail("checkpoint create", dir.status(), UsageOrRuntime(dir.status()));
  std::vector<chunks::BlobInput> in;
  for (const auto& [n, b] : blobs) in.push_back({n, b});
  auto r = (*dir)->Write({.job = f.job, .label = f.labels[0], .step = f.step}, in);
  if (!r.ok()) Fail("checkpoint create", r.status(), UsageOrRuntime(r.status()));
  const auto& st = r->stats;
  std::cout << "checkpoint " << f.labels[0] << " root " << ToHex(r->root) << "\n"
            << HumanBytes(st.bytes_raw) << " in " << st.blobs << " blobs, " << st.chunk_refs << " chunks ("
            << st.chunks_unique << " distinct, " << st.chunks_new << " new): " << HumanBytes(st.bytes_new)
            << " new, " << HumanBytes(st.bytes_dedup) << " deduplicated, " << HumanBytes(st.bytes_stored)
            << " written after zstd" << std::endl;
}

}  // namespace

void AddCheckpointCommand(CLI::App& app) {
  auto f = std::make_shared<CheckpointFlags>();
  auto* cp = app.add_subcommand(
      "checkpoint",
      "A peer's checkpoint directory: content-addressed, deduplicated checkpoints.\n\n"
      "A checkpoint is a manifest (D/manifests/LABEL.swck) naming, for each blob (a tensor,\n"
      "optimizer state, RNG state...), its chunks. Chunks are cut by content (FastCDC, ~64 KiB),\n"
      "named by their SHA3-256, compressed with zstd and stored once in D/chunks/ however many\n"
      "checkpoints use them. A manifest's root (a Merkle root over its header and every blob) is\n"
      "what `show` prints and what a swarm commits to. A checkpoint is listed only once all its\n"
      "chunks are on disk (a killed writer leaves no half checkpoint).\n\n"
      "Examples:\n"
      "  swarm checkpoint create --dir D --label step-100 --step 100 weights=w.bin adam=m.bin\n"
      "  swarm checkpoint ls --dir D                 # label, step, job, size, root\n"
      "  swarm checkpoint show --dir D step-100      # blobs, sizes, chunk counts, roots\n"
      "  swarm checkpoint verify --dir D             # every chunk re-read and re-hashed; exit 1 and\n"
      "                                              # the first bad chunk (blob, index, file, why)\n"
      "  swarm checkpoint restore --dir D step-100 --out restored/   # one file per blob; never\n"
      "                                              # overwrites: --out must not exist\n"
      "  swarm checkpoint gc --dir D [--keep 3]      # delete chunks no manifest references\n\n"
      "Exit codes: 0 ok; 1 a check failed or I/O error; 2 usage (bad flag, no such dir/label).");
  cp->require_subcommand(1);
  auto dir_opt = [&](CLI::App* sub, const char* help) { sub->add_option("--dir", f->dir, help)->required(); };

  auto* ls = cp->add_subcommand("ls", "List checkpoints (oldest step first); unreadable manifests are shown with why");
  dir_opt(ls, "Checkpoint directory");
  ls->add_flag("--json", f->json, "Print JSON");
  ls->callback([f] { RunLs(*f); });

  auto* show = cp->add_subcommand("show", "Show one checkpoint: header, root, blobs");
  dir_opt(show, "Checkpoint directory");
  show->add_option("label", f->labels, "Checkpoint label")->required();
  show->add_flag("--json", f->json, "Print JSON");
  show->callback([f] { RunShow(*f); });

  auto* verify = cp->add_subcommand(
      "verify", "Re-read and re-hash every chunk of the given checkpoints (default: all); exit 1 naming the first bad chunk");
  dir_opt(verify, "Checkpoint directory");
  verify->add_option("label", f->labels, "Checkpoint label(s); default every listed checkpoint");
  verify->add_flag("--json", f->json, "Print JSON");
  verify->callback([f] {
    const int code = RunVerify(*f);
    if (code) throw CLI::RuntimeError(code);
  });

  auto* restore = cp->add_subcommand(
      "restore", "Write each blob of a checkpoint as a file in a new directory (checked before it appears; never overwrites)");
  dir_opt(restore, "Checkpoint directory");
  restore->add_option("label", f->labels, "Checkpoint label")->required();
  restore->add_option("--out", f->out, "New directory to create (must not exist)")->required();
  restore->callback([f] { RunRestore(*f); });

  auto* gc = cp->add_subcommand(
      "gc", "Delete chunk files no manifest references and leftovers of killed writers; refuses while a manifest is unreadable");
  dir_opt(gc, "Checkpoint directory");
  gc->add_option("--keep", f->keep, "First remove all but the newest N checkpoints (0: keep all)")->capture_default_str();
  gc->add_flag("--json", f->json, "Print JSON");
  gc->callback([f] { RunGc(*f); });

  auto* create = cp->add_subcommand("create", "Checkpoint files: each FILE (or NAME=FILE) becomes one blob");
  create->add_option("--dir", f->dir, "Checkpoint directory (created if missing)")->required();
  create->add_option("--label", f->labels, "Label: 1-128 of A-Z a-z 0-9 . _ -, unique in the directory")->required();
  create->add_option("--job", f->job, "Job name recorded in the manifest");
  create->add_option("--step", f->step, "Step / round recorded in the manifest")->capture_default_str();
  create->add_option("files", f->files, "FILE or NAME=FILE (blob names: A-Z a-z 0-9 . _ - : @ +)")->required();
  create->callback([f] { RunCreate(*f); });
}

}  // namespace swarm::cli
