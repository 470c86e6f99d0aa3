#include "chunks/store.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>
#include <zstd.h>

#include "chunks/chunk.h"
#include "common/file.h"

namespace swarm::chunks {
namespace {

namespace fs = std::filesystem;
constexpr const char* kManifestSuffix = ".swck";
constexpr const char* kChunkSuffix = ".zst";

Status Errno(int err, const std::string& what) {
  const std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT: return absl::NotFoundError(msg);
    case EACCES: case EPERM: case EROFS: return absl::PermissionDeniedError(msg);
    case ENOSPC: case EDQUOT: case EFBIG: return absl::ResourceExhaustedError(msg);
    default: return absl::InternalError(msg);
  }
}

// Whole file, refusing one larger than `max_bytes` (before reading it).
StatusOr<Bytes> ReadFileBounded(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(errno, absl::StrCat("open '", path, "'"));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Errno(err, absl::StrCat("stat '", path, "'"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return absl::DataLossError(absl::StrCat("'", path, "' is ", st.st_size, " bytes, over the limit of ",
                                            max_bytes));
  }
  Bytes out(static_cast<size_t>(st.st_size));
  size_t off = 0;
  while (off < out.size()) {
    const ssize_t n = ::read(fd, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Errno(err, absl::StrCat("read '", path, "'"));
    }
    if (n == 0) break;  // shrank while we read
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(off);
  return out;
}

Status FsyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Errno(errno, absl::StrCat("open '", path, "' to fsync"));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && !(directory && err == EINVAL)) return Errno(err, absl::StrCat("fsync '", path, "'"));
  return absl::OkStatus();
}

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return absl::OkStatus();
  return Errno(errno, absl::StrCat("create directory '", path, "'"));
}

// flock on D/LOCK for the lifetime of the object.
class DirLock {
 public:
  static StatusOr<DirLock> Take(const std::string& dir, bool exclusive, int64_t wait_ms) {
    const std::string path = dir + "/LOCK";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Errno(errno, absl::StrCat("open lock '", path, "'"));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        const int err = errno;
        ::close(fd);
        return Errno(err, absl::StrCat("flock '", path, "'"));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::close(fd);
        return absl::UnavailableError(absl::StrCat(
            "checkpoint directory '", dir, "' is busy (", exclusive ? "a writer" : "gc or remove",
            " holds ", path, ") after ", wait_ms, " ms"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return DirLock(fd);
  }
  DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DirLock& operator=(DirLock&&) = delete;
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsTempName(const std::string& name) { return name.find(".tmp.") != std::string::npos; }

uint64_t NowUnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

bool NewerFirst(const Manifest& a, const Manifest& b) {
  return a.step != b.step ? a.step > b.step : a.label > b.label;
}

}  // namespace

std::string VerifyReport::ToString() const {
  if (!manifest_error.empty()) return "bad manifest: " + manifest_error;
  if (first_bad) {
    return absl::StrCat("bad chunk ", ToHex(first_bad->id), " (blob '", first_bad->blob, "' chunk #",
                        first_bad->index_in_blob, ", ", first_bad->path, "): ", first_bad->reason);
  }
  return absl::StrCat("ok: ", chunks_checked, " chunks, ", bytes_checked, " bytes checked");
}

CheckpointDir::CheckpointDir(std::string dir, const CheckpointDirOptions& options, Chunker chunker)
    : dir_(std::move(dir)), options_(options), chunker_(std::move(chunker)) {}

StatusOr<std::unique_ptr<CheckpointDir>> CheckpointDir::Open(const std::string& dir,
                                                             const CheckpointDirOptions& options) {
  SWARM_ASSIGN_OR_RETURN(Chunker chunker, Chunker::Create(options.chunker));
  if (dir.empty()) return absl::InvalidArgumentError("checkpoint directory: empty path");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("create checkpoint directory '", dir, "': ", ec.message()));
  SWARM_RETURN_IF_ERROR(MakeDir(dir + "/chunks"));
  SWARM_RETURN_IF_ERROR(MakeDir(dir + "/manifests"));
  return std::unique_ptr<CheckpointDir>(new CheckpointDir(dir, options, std::move(chunker)));
}

StatusOr<std::unique_ptr<CheckpointDir>> CheckpointDir::OpenExisting(const std::string& dir,
                                                                     const CheckpointDirOptions& options) {
  SWARM_ASSIGN_OR_RETURN(Chunker chunker, Chunker::Create(options.chunker));
  struct stat st {};
  if (::stat((dir + "/manifests").c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("'", dir, "' is not a checkpoint directory (no ", dir,
                                            "/manifests)"));
  }
  return std::unique_ptr<CheckpointDir>(new CheckpointDir(dir, options, std::move(chunker)));
}

std::string CheckpointDir::ChunkPath(const ChunkId& id) const {
  const std::string hex = ToHex(id);
  return absl::StrCat(dir_, "/chunks/", hex.substr(0, 2), "/", hex, kChunkSuffix);
}

std::string CheckpointDir::ManifestPath(const std::string& label) const {
  return absl::StrCat(dir_, "/manifests/", label, kManifestSuffix);
}

StatusOr<WriteResult> CheckpointDir::Write(const CheckpointHeader& header_in,
                                           std::span<const BlobInput> blobs) {
  const auto start = std::chrono::steady_clock::now();
  CheckpointHeader header = header_in;
  if (header.created_unix_ms == 0) header.created_unix_ms = NowUnixMs();
  SWARM_ASSIGN_OR_RETURN(CheckpointPlan plan, PlanCheckpoint(chunker_, header, blobs));
  SWARM_ASSIGN_OR_RETURN(const Bytes manifest_bytes, EncodeManifest(plan.manifest));
  SWARM_ASSIGN_OR_RETURN(DirLock lock, DirLock::Take(dir_, false, options_.lock_wait_ms));
  const std::string manifest_path = ManifestPath(header.label);
  if (::access(manifest_path.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError(absl::StrCat("checkpoint '", header.label, "' already exists (",
                                                 manifest_path, ")"));
  }

  WriteStats st;
  st.blobs = blobs.size();
  st.chunks_unique = plan.unique_chunks.size();
  st.bytes_raw = plan.raw_bytes_total;
  for (const BlobEntry& b : plan.manifest.blobs) st.chunk_refs += b.refs.size();
  bool new_fanout = false;
  const FileWriteOptions chunk_write{.mode = 0644, .replace = true, .sync = false};
  for (const PlannedChunk& c : plan.unique_chunks) {
    const std::string path = ChunkPath(c.id);
    if (::access(path.c_str(), F_OK) == 0) continue;
    const std::string fanout = path.substr(0, path.rfind('/'));
    if (::mkdir(fanout.c_str(), 0755) == 0) {
      new_fanout = true;
    } else if (errno != EEXIST) {
      return Errno(errno, absl::StrCat("create directory '", fanout, "'"));
    }
    const Bytes stored = CompressChunk(c.raw, options_.compression_level);
    SWARM_RETURN_IF_ERROR(WriteFileAtomic(path, stored, chunk_write));
    ++st.chunks_new;
    st.bytes_new += c.raw.size();
    st.bytes_stored += stored.size();
  }
  st.bytes_dedup = st.bytes_raw - st.bytes_new;
  std::vector<ChunkId> ids;
  ids.reserve(plan.unique_chunks.size());
  for (const PlannedChunk& c : plan.unique_chunks) ids.push_back(c.id);
  SWARM_RETURN_IF_ERROR(SyncChunks(ids, new_fanout));
  SWARM_RETURN_IF_ERROR(WriteFileAtomic(manifest_path, manifest_bytes,
                                        {.mode = 0644, .replace = false, .sync = options_.sync}));
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WriteResult r;
  r.root = ManifestRoot(plan.manifest);
  r.manifest = std::move(plan.manifest);
  r.stats = st;
  return r;
}

Status CheckpointDir::SyncChunks(const std::vector<ChunkId>& ids, bool new_fanout) const {
  if (!options_.sync) return absl::OkStatus();
  // Every chunk a manifest names must be durable before the manifest is: a
  // chunk found on disk may come from a writer that died before its fsync.
  // Likewise its directory entry (the rename), found or new.
  std::set<std::string> dirs;
  for (const ChunkId& id : ids) {
    const std::string path = ChunkPath(id);
    SWARM_RETURN_IF_ERROR(FsyncPath(path, false));
    dirs.insert(path.substr(0, path.rfind('/')));
  }
  for (const std::string& d : dirs) SWARM_RETURN_IF_ERROR(FsyncPath(d, true));
  if (new_fanout) SWARM_RETURN_IF_ERROR(FsyncPath(dir_ + "/chunks", true));
  return absl::OkStatus();
}

std::vector<ChunkEntry> CheckpointDir::MissingChunks(const Manifest& m) const {
  std::vector<ChunkEntry> out;
  for (const ChunkEntry& c : m.chunks) {
    if (::access(ChunkPath(c.id).c_str(), F_OK) != 0) out.push_back(c);
  }
  return out;
}

StatusOr<Bytes> CheckpointDir::ReadStoredChunk(const ChunkEntry& entry) const {
  const std::string path = ChunkPath(entry.id);
  auto stored = ReadFileBounded(path, ZSTD_compressBound(kChunkBytesMax));
  if (!stored.ok()) {
    if (absl::IsNotFound(stored.status())) return absl::NotFoundError(absl::StrCat("chunk file missing: ", path));
    return stored.status();
  }
  auto raw = OpenChunk(entry.id, entry.raw_bytes, *stored);
  if (!raw.ok()) return absl::DataLossError(absl::StrCat(path, ": ", raw.status().message()));
  return stored;
}

Status CheckpointDir::ImportChunk(const ChunkEntry& entry, ByteSpan stored) {
  auto raw = OpenChunk(entry.id, entry.raw_bytes, stored);
  if (!raw.ok()) return absl::InvalidArgumentError(absl::StrCat("import refused: ", raw.status().message()));
  SWARM_ASSIGN_OR_RETURN(DirLock lock, DirLock::Take(dir_, false, options_.lock_wait_ms));
  const std::string path = ChunkPath(entry.id);
  if (::access(path.c_str(), F_OK) == 0) return absl::OkStatus();
  SWARM_RETURN_IF_ERROR(MakeDir(path.substr(0, path.rfind('/'))));
  return WriteFileAtomic(path, stored, {.mode = 0644, .replace = true, .sync = false});
}

Status CheckpointDir::ImportManifest(const Manifest& m) {
  SWARM_ASSIGN_OR_RETURN(const Bytes bytes, EncodeManifest(m));
  SWARM_ASSIGN_OR_RETURN(DirLock lock, DirLock::Take(dir_, false, options_.lock_wait_ms));
  const auto missing = MissingChunks(m);
  if (!missing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("checkpoint '", m.label, "' cannot be imported: ", missing.size(),
                                                      " chunk(s) missing, first ", ToHex(missing[0].id)));
  }
  std::vector<ChunkId> ids;
  for (const ChunkEntry& c : m.chunks) ids.push_back(c.id);
  SWARM_RETURN_IF_ERROR(SyncChunks(ids, true));
  const std::string path = ManifestPath(m.label);
  Status s = WriteFileAtomic(path, bytes, {.mode = 0644, .replace = false, .sync = options_.sync});
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(absl::StrCat("checkpoint '", m.label, "' already exists (", path, ")"));
  }
  return s;
}

StatusOr<std::vector<ListedCheckpoint>> CheckpointDir::List() const {
  std::vector<ListedCheckpoint> out;
  std::error_code ec;
  fs::directory_iterator it(dir_ + "/manifests", ec);
  if (ec) return absl::NotFoundError(absl::StrCat("list '", dir_, "/manifests': ", ec.message()));
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (!EndsWith(name, kManifestSuffix) || IsTempName(name)) continue;
    ListedCheckpoint l;
    l.label = name.substr(0, name.size() - std::strlen(kManifestSuffix));
    l.path = entry.path().string();
    auto bytes = ReadFileBounded(l.path, kManifestBytesMax);
    if (!bytes.ok()) {
      l.error = std::string(bytes.status().message());
    } else {
      l.file_bytes = bytes->size();
      auto m = DecodeManifest(*bytes);
      if (!m.ok()) {
        l.error = std::string(m.status().message());
      } else if (m->label != l.label) {
        l.error = absl::StrCat("file name says label '", l.label, "', the manifest says '", m->label, "'");
      } else {
        l.manifest = std::move(*m);
      }
    }
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end(), [](const ListedCheckpoint& a, const ListedCheckpoint& b) {
    const uint64_t sa = a.manifest ? a.manifest->step : 0, sb = b.manifest ? b.manifest->step : 0;
    return sa != sb ? sa < sb : a.label < b.label;
  });
  return out;
}

StatusOr<Manifest> CheckpointDir::Latest() const {
  SWARM_ASSIGN_OR_RETURN(auto list, List());
  const Manifest* best = nullptr;
  for (const auto& l : list) {
    if (l.manifest && (best == nullptr || NewerFirst(*l.manifest, *best))) best = &*l.manifest;
  }
  if (best == nullptr) return absl::NotFoundError(absl::StrCat("no readable checkpoint in '", dir_, "'"));
  return *best;
}

StatusOr<Manifest> CheckpointDir::LatestForJob(const std::string& job) const {
  SWARM_ASSIGN_OR_RETURN(auto list, List());
  const Manifest* best = nullptr;
  for (const auto& l : list) {
    if (!l.manifest) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot resume job '", job, "' from '", dir_, "': ", l.path, " is unreadable (", l.error, ")"));
    }
    if (l.manifest->job != job) {
      return absl::FailedPreconditionError(absl::StrCat("cannot resume job '", job, "' from '", dir_, "': checkpoint '",
                                                        l.label, "' belongs to job '", l.manifest->job, "'"));
    }
    if (best == nullptr || NewerFirst(*l.manifest, *best)) best = &*l.manifest;
  }
  if (best == nullptr) return absl::NotFoundError(absl::StrCat("no checkpoint in '", dir_, "' to resume job '", job, "' from"));
  return *best;
}

StatusOr<Manifest> CheckpointDir::ReadManifest(const std::string& label) const {
  SWARM_RETURN_IF_ERROR(ValidateLabel(label));
  const std::string path = ManifestPath(label);
  auto bytes = ReadFileBounded(path, kManifestBytesMax);
  if (!bytes.ok()) {
    if (absl::IsNotFound(bytes.status())) {
      return absl::NotFoundError(absl::StrCat("no checkpoint '", label, "' in '", dir_, "' (", path, ")"));
    }
    return bytes.status();
  }
  auto m = DecodeManifest(*bytes);
  if (!m.ok()) return absl::DataLossError(absl::StrCat(path, ": ", m.status().message()));
  if (m->label != label) {
    return absl::DataLossError(absl::StrCat(path, ": file name says label '", label,
                                            "', the manifest says '", m->label, "'"));
  }
  return m;
}

StatusOr<Bytes> CheckpointDir::ReadChunk(const ChunkEntry& c) const {
  const std::string path = ChunkPath(c.id);
  auto stored = ReadFileBounded(path, ZSTD_compressBound(kChunkBytesMax));
  if (!stored.ok()) {
    if (absl::IsNotFound(stored.status())) return absl::NotFoundError("chunk file missing");
    return stored.status();
  }
  auto raw = OpenChunk(c.id, c.raw_bytes, *stored);
  if (!raw.ok()) return absl::DataLossError(raw.status().message());
  return raw;
}

StatusOr<Bytes> CheckpointDir::ReadBlob(const Manifest& m, const std::string& blob_name) const {
  auto it = std::find_if(m.blobs.begin(), m.blobs.end(),
                         [&](const BlobEntry& b) { return b.name == blob_name; });
  if (it == m.blobs.end()) {
    return absl::NotFoundError(absl::StrCat("checkpoint '", m.label, "' has no blob '", blob_name, "'"));
  }
  Bytes out;
  out.reserve(it->size);
  for (size_t k = 0; k < it->refs.size(); ++k) {
    auto raw = ReadChunk(m.chunks[it->refs[k]]);
    if (!raw.ok()) {
      return Status(raw.status().code(),
                    absl::StrCat("checkpoint '", m.label, "' blob '", blob_name, "' chunk #", k, " (",
                                 ChunkPath(m.chunks[it->refs[k]].id), "): ", raw.status().message()));
    }
    out.insert(out.end(), raw->begin(), raw->end());
  }
  // The chunks were checked against their ids; the ids against the root.
  if (out.size() != it->size || BlobRoot(BlobChunkIds(m, *it)) != it->root) {
    return absl::DataLossError(absl::StrCat("checkpoint '", m.label, "' blob '", blob_name,
                                            "' does not match its root"));
  }
  return out;
}

StatusOr<VerifyReport> CheckpointDir::Verify(const std::string& label) const {
  VerifyReport rep;
  auto m = ReadManifest(label);
  if (!m.ok()) {
    if (absl::IsNotFound(m.status())) return m.status();
    rep.manifest_error = std::string(m.status().message());
    return rep;
  }
  std::vector<bool> checked(m->chunks.size(), false);
  for (const BlobEntry& b : m->blobs) {
    for (size_t k = 0; k < b.refs.size(); ++k) {
      const uint32_t r = b.refs[k];
      if (checked[r]) continue;
      checked[r] = true;
      const ChunkEntry& c = m->chunks[r];
      auto raw = ReadChunk(c);
      if (!raw.ok()) {
        rep.first_bad = BadChunk{b.name, k, c.id, ChunkPath(c.id), std::string(raw.status().message())};
        return rep;
      }
      ++rep.chunks_checked;
      rep.bytes_checked += raw->size();
    }
  }
  rep.ok = true;
  return rep;
}

Status CheckpointDir::Restore(const std::string& label, const std::string& out_dir) const {
  if (out_dir.empty()) return absl::InvalidArgumentError("restore: empty output directory");
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out_dir, ec))) {
    return absl::AlreadyExistsError(absl::StrCat("restore target '", out_dir,
                                                 "' exists; restore never overwrites, choose a new directory"));
  }
  SWARM_ASSIGN_OR_RETURN(const Manifest m, ReadManifest(label));
  fs::path target = fs::absolute(fs::path(out_dir), ec).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/" names "out"
  const fs::path parent = target.parent_path();
  if (!fs::is_directory(parent, ec)) {
    return absl::NotFoundError(absl::StrCat("restore: parent directory '", parent.string(), "' does not exist"));
  }
  const fs::path partial = parent / absl::StrCat(".", target.filename().string(), ".partial.", ::getpid());
  fs::remove_all(partial, ec);
  if (::mkdir(partial.c_str(), 0755) != 0) return Errno(errno, absl::StrCat("create '", partial.string(), "'"));
  auto fail = [&](Status s) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    return s;
  };
  for (const BlobEntry& b : m.blobs) {
    auto bytes = ReadBlob(m, b.name);
    if (!bytes.ok()) return fail(bytes.status());
    Status s = WriteFileAtomic((partial / b.name).string(), *bytes,
                               {.mode = 0644, .replace = false, .sync = options_.sync});
    if (!s.ok()) return fail(s);
  }
  if (::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0) {
    return fail(Errno(errno, absl::StrCat("rename '", partial.string(), "' to '", target.string(), "'")));
  }
  if (options_.sync) SWARM_RETURN_IF_ERROR(FsyncPath(parent.string(), true));
  return absl::OkStatus();
}

Status CheckpointDir::Remove(const std::string& label) {
  SWARM_RETURN_IF_ERROR(ValidateLabel(label));
  SWARM_ASSIGN_OR_RETURN(DirLock lock, DirLock::Take(dir_, true, options_.lock_wait_ms));
  const std::string path = ManifestPath(label);
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no checkpoint '", label, "' in '", dir_, "'"));
    return Errno(errno, absl::StrCat("remove '", path, "'"));
  }
  if (options_.sync) SWARM_RETURN_IF_ERROR(FsyncPath(dir_ + "/manifests", true));
  return absl::OkStatus();
}

StatusOr<GcReport> CheckpointDir::Gc(size_t keep_latest) {
  SWARM_ASSIGN_OR_RETURN(DirLock lock, DirLock::Take(dir_, true, options_.lock_wait_ms));
  GcReport rep;
  SWARM_ASSIGN_OR_RETURN(auto listed, List());
  for (const auto& l : listed) {
    if (!l.manifest) {
      return absl::FailedPreconditionError(absl::StrCat(
          "gc refused: manifest '", l.path, "' does not decode (", l.error,
          "); its chunks would look unreferenced. Move or remove that file first"));
    }
  }
  std::vector<const Manifest*> kept;
  for (const auto& l : listed) kept.push_back(&*l.manifest);
  std::sort(kept.begin(), kept.end(), [](const Manifest* a, const Manifest* b) { return NewerFirst(*a, *b); });
  if (keep_latest > 0 && kept.size() > keep_latest) {
    for (size_t i = keep_latest; i < kept.size(); ++i) {
      const std::string path = ManifestPath(kept[i]->label);
      if (::unlink(path.c_str()) != 0) return Errno(errno, absl::StrCat("remove '", path, "'"));
    }
    kept.resize(keep_latest);
    if (options_.sync) SWARM_RETURN_IF_ERROR(FsyncPath(dir_ + "/manifests", true));
  }
  rep.manifests = kept.size();
  std::set<std::string> referenced;
  for (const Manifest* m : kept) {
    for (const ChunkEntry& c : m->chunks) referenced.insert(ToHex(c.id) + kChunkSuffix);
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ + "/manifests", ec)) {
    if (IsTempName(entry.path().filename().string())) {
      fs::remove(entry.path(), ec);
      ++rep.temp_files_removed;
    }
  }
  for (const auto& fan : fs::directory_iterator(dir_ + "/chunks", ec)) {
    if (!fan.is_directory()) continue;
    std::error_code ec2;
    for (const auto& f : fs::directory_iterator(fan.path(), ec2)) {
      const std::string name = f.path().filename().string();
      if (IsTempName(name)) {
        fs::remove(f.path(), ec2);
        ++rep.temp_files_removed;
        continue;
      }
      if (!EndsWith(name, kChunkSuffix)) continue;  // not ours: left alone
      if (referenced.count(name) != 0) {
        ++rep.chunks_kept;
        continue;
      }
      const uint64_t size = f.file_size(ec2);
      if (fs::remove(f.path(), ec2)) {
        ++rep.chunks_removed;
        rep.bytes_removed += size;
      }
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("gc: list '", dir_, "': ", ec.message()));
  return rep;
}

}  // namespace swarm::chunks
