// Durable, atomic replacement of a whole file: the one way swarm writes a
// file that must survive a crash whole (keys, pinned keys, checkpoints,
// replica state, node.json, job outputs).
//
// WriteFileAtomic(path, bytes, options):
//   1. creates a temporary file in the directory of `path`
//      ("<path>.tmp.<pid>.<n>", O_EXCL, then fchmod to options.mode exactly,
//      so the umask does not widen or narrow it);
//   2. writes every byte (retrying short writes and EINTR);
//   3. fsyncs the file (when options.sync);
//   4. renames it over `path` — or, with options.replace = false, hard-links
//      it to `path`, which never replaces an existing file (AlreadyExists),
//      even one created after the caller looked;
//   5. fsyncs the directory so the new name itself is durable (when
//      options.sync).
// Afterwards `path` holds either its previous contents or exactly `bytes`,
// never a prefix; on any error the temporary file is removed and `path` is
// untouched (except after step 4: a failed directory fsync reports an error
// although the new contents are in place, not yet known durable).
//
// Errors name the path and the step: NotFound (the directory does not
// exist), PermissionDenied (EACCES/EPERM/EROFS), ResourceExhausted
// (ENOSPC/EDQUOT/EFBIG), AlreadyExists (replace = false and `path` exists),
// Internal otherwise. Paths are used as given (relative to the working
// directory); the directory is not created.
//
// Thread-safety: concurrent calls for different paths are independent;
// concurrent calls for the same path each leave one complete version (the
// last rename wins). No state is shared between calls.
#pragma once

#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/status.h"

namespace swarm {

struct FileWriteOptions {
  // Permission bits of the written file (e.g. 0600 for secrets, 0644 for
  // files other users may read).
  uint32_t mode = 0600;
  // false: never overwrite an existing `path` (AlreadyExists instead).
  bool replace = true;
  // false: atomic but not durable (no fsync of file or directory) — for
  // simulations and benchmarks that measure without the disk.
  bool sync = true;
};

Status WriteFileAtomic(const std::string& path, ByteSpan bytes, const FileWriteOptions& options = {});

inline Status WriteFileAtomic(const std::string& path, std::string_view text,
                              const FileWriteOptions& options = {}) {
  return WriteFileAtomic(path, AsBytes(text), options);
}

}  // namespace swarm
