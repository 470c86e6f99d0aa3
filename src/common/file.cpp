#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace swarm {
namespace {

Status ErrnoStatus(int err, const std::string& path, const std::string& step) {
  const std::string msg = absl::StrCat("'", path, "': ", step, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::ResourceExhaustedError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    default:
      return absl::InternalError(msg);
  }
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status SyncDirectory(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus(errno, path, absl::StrCat("open directory '", dir, "' to fsync"));
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  // EINVAL: the file system cannot sync a directory (it has nothing to do).
  if (rc != 0 && err != EINVAL) return ErrnoStatus(err, path, absl::StrCat("fsync directory '", dir, "'"));
  return absl::OkStatus();
}

Status WriteAllAndClose(int fd, ByteSpan bytes, const std::string& path, const std::string& tmp,
                        const FileWriteOptions& options) {
  Status s = absl::OkStatus();
  if (::fchmod(fd, static_cast<mode_t>(options.mode & 07777)) != 0) {
    s = ErrnoStatus(errno, path, absl::StrCat("chmod '", tmp, "'"));
  }
  size_t off = 0;
  while (s.ok() && off < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      s = ErrnoStatus(errno, path, absl::StrCat("write '", tmp, "'"));
    } else {
      off += static_cast<size_t>(w);
    }
  }
  if (s.ok() && options.sync && ::fsync(fd) != 0) s = ErrnoStatus(errno, path, absl::StrCat("fsync '", tmp, "'"));
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus(errno, path, absl::StrCat("close '", tmp, "'"));
  return s;
}

}  // namespace

Status WriteFileAtomic(const std::string& path, ByteSpan bytes, const FileWriteOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("file path is empty");
  if (path.back() == '/') return absl::InvalidArgumentError(absl::StrCat("'", path, "': names a directory"));
  if (!options.replace && ::access(path.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError(absl::StrCat("'", path, "': already exists"));
  }

  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  int fd = -1;
  // A name taken by a temporary left behind by a crashed process that had
  // our pid is removed and tried once more.
  for (int attempt = 0; attempt < 2 && fd < 0; ++attempt) {
    tmp = absl::StrCat(path, ".tmp.", ::getpid(), ".", counter.fetch_add(1));
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST && attempt == 0) {
      ::unlink(tmp.c_str());
      continue;
    }
    if (fd < 0) return ErrnoStatus(errno, path, absl::StrCat("create temporary '", tmp, "'"));
  }

  Status s = WriteAllAndClose(fd, bytes, path, tmp, options);
  if (s.ok()) {
    if (options.replace) {
      if (::rename(tmp.c_str(), path.c_str()) != 0) s = ErrnoStatus(errno, path, absl::StrCat("rename '", tmp, "'"));
    } else if (::link(tmp.c_str(), path.c_str()) != 0) {
      s = errno == EEXIST ? absl::AlreadyExistsError(absl::StrCat("'", path, "': already exists"))
                          : ErrnoStatus(errno, path, absl::StrCat("link '", tmp, "'"));
    }
  }
  // After rename the temporary name is gone (ENOENT, harmless); after link or
  // an error it must not be left behind.
  ::unlink(tmp.c_str());
  if (!s.ok()) return s;
  if (options.sync) return SyncDirectory(path);
  return absl::OkStatus();
}

}  // namespace swarm
