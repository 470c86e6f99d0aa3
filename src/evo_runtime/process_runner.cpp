#include "evo_runtime/process_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace swarm::evo {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// Blocks SIGPIPE in this thread for the object's lifetime and discards any
// SIGPIPE raised meanwhile.
class SigPipeGuard {
 public:
  SigPipeGuard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigPipeGuard() {
    timespec zero{0, 0};
    while (sigtimedwait(&set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  const sigset_t& old_mask() const { return old_; }

 private:
  sigset_t set_, old_;
};

}  // namespace

StatusOr<ProcessOutput> PosixProcessRunner::Run(const std::vector<std::string>& argv, const std::string& input,
                                                int64_t timeout_ms, size_t output_bytes_max) const {
  if (argv.empty()) return absl::FailedPreconditionError("process runner: empty command");
  SigPipeGuard sigpipe;
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  Fd child_in{in_pipe[0]}, to_child{in_pipe[1]};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  Fd from_child{out_pipe[0]}, child_out{out_pipe[1]};

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, child_in.fd, 0);
  posix_spawn_file_actions_adddup2(&fa, child_out.fd, 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The child gets the caller's signal mask, not the SIGPIPE block.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &sigpipe.old_mask());
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start '", argv[0], "': ", std::strerror(rc)));
  }
  child_in.Close();
  child_out.Close();
  ::fcntl(to_child.fd, F_SETFL, O_NONBLOCK);
  ::fcntl(from_child.fd, F_SETFL, O_NONBLOCK);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t written = 0;
  std::string out;
  Status failure;
  bool eof = false;
  while (!eof) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      failure = absl::DeadlineExceededError(
          absl::StrCat("'", argv[0], "' gave no fitness within ", timeout_ms, " ms"));
      break;
    }
    pollfd p[2];
    int n = 0;
    p[n++] = {from_child.fd, POLLIN, 0};
    if (to_child.fd >= 0) p[n++] = {to_child.fd, POLLOUT, 0};
    const int r = ::poll(p, n, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (r < 0 && errno != EINTR) {
      failure = absl::InternalError("poll failed");
      break;
    }
    if (n == 2 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t w = ::write(to_child.fd, input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN) written = input.size();  // child closed stdin: stop writing
      if (written >= input.size()) to_child.Close();
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[1024];
      const ssize_t got = ::read(from_child.fd, buf, sizeof buf);
      if (got > 0) out.append(buf, static_cast<size_t>(got));
      else if (got == 0 || errno != EAGAIN) eof = true;
      if (out.size() > output_bytes_max) {
        failure = absl::ResourceExhaustedError(absl::StrCat(
            "'", argv[0], "' wrote more than output_bytes_max = ", output_bytes_max));
        break;
      }
    }
  }
  int status = 0;
  if (!failure.ok()) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return failure;
  }
  // stdout is closed; the child should exit promptly, but never wait forever.
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return absl::DeadlineExceededError(
          absl::StrCat("'", argv[0], "' did not exit within ", timeout_ms, " ms"));
    }
    ::usleep(1000);
  }
  ProcessOutput result;
  result.stdout_bytes = std::move(out);
  result.signaled = WIFSIGNALED(status);
  result.signal = result.signaled ? WTERMSIG(status) : 0;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  return result;
}

}  // namespace swarm::evo
