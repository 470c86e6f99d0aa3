// Grant and issuer-key files.
// TODO(h3): switch WriteDurably/ReadBounded to common/file.h once it is on main.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "admission/grant.h"

namespace swarm::admission {
namespace {

std::string Errno() { return std::strerror(errno); }

// Writes `data` to `path` through a temporary file in the same folder
// (write, fsync, rename, fsync of the folder): a reader sees the old file or
// the new one, never half of one.
Status WriteDurably(const std::string& path, ByteSpan data, mode_t mode, absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " path is empty"));
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat(what, " '", path, "': cannot create '", tmp, "': ", Errno()));
  }
  Status s;
  size_t done = 0;
  while (s.ok() && done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) s = absl::InternalError(absl::StrCat(what, " '", path, "': write: ", Errno()));
    else done += static_cast<size_t>(n);
  }
  if (s.ok() && ::fsync(fd) != 0) s = absl::InternalError(absl::StrCat(what, " '", path, "': fsync: ", Errno()));
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = absl::InternalError(absl::StrCat(what, " '", path, "': rename: ", Errno()));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

// The whole file, refused when larger than `bytes_max`.
StatusOr<Bytes> ReadBounded(const std::string& path, size_t bytes_max, absl::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    return absl::Status(e == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal,
                        absl::StrCat(what, " '", path, "': ", std::strerror(e)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > bytes_max) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' is ", st.st_size,
                                                   " bytes; at most ", bytes_max));
  }
  Bytes data(bytes_max + 1);
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string e = Errno();
      ::close(fd);
      return absl::InternalError(absl::StrCat(what, " '", path, "': read: ", e));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' grew past ", bytes_max, " bytes"));
  }
  data.resize(got);
  return data;
}

}  // namespace

Status SaveGrant(const std::string& path, const SignedGrant& grant) {
  return WriteDurably(path, EncodeSignedGrant(grant), 0644, "grant file");
}

StatusOr<SignedGrant> LoadGrant(const std::string& path) {
  SWARM_ASSIGN_OR_RETURN(Bytes data, ReadBounded(path, kGrantBytesMax, "grant file"));
  auto sg = DecodeSignedGrant(data);
  if (!sg.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("grant file '", path, "': ", sg.status().message()));
  }
  return sg;
}

Status SaveIssuerKey(const std::string& path, const IssuerKey& key) {
  return WriteDurably(path, AsBytes(FormatIssuerKey(key)), 0644, "public key file");
}

StatusOr<IssuerKey> LoadIssuerKey(const std::string& path) {
  SWARM_ASSIGN_OR_RETURN(Bytes data, ReadBounded(path, 3 * crypto::kKeyFileBytesMax, "public key file"));
  return ParseIssuerKey(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()),
                        path);
}

}  // namespace swarm::admission
