#include "cli/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace swarm::cli {

std::string SelfExe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "swarm" : p.string();
}

pid_t SpawnPeer(const std::vector<std::string>& args, const std::string& log_path,
                bool single_torch_thread) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // Child. Die with the parent, even if it is SIGKILLed.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(1);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (single_torch_thread) setenv("OMP_NUM_THREADS", "1", 0);
  const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

bool SpawnChild(ChildProcess& c, const std::vector<std::string>& args, bool single_torch_thread) {
  c.pid = SpawnPeer(args, c.log_path, single_torch_thread);
  c.alive = c.pid > 0;
  c.stopping = false;
  c.reaped = false;
  c.exit_status = 0;
  return c.alive;
}

bool ReapChild(ChildProcess& c, const ChildReport& report) {
  if (c.pid <= 0 || c.reaped) return false;
  int status = 0;
  // This child's own pid, never -1: another group's child is not ours to reap.
  if (waitpid(c.pid, &status, WNOHANG) != c.pid) return false;
  const bool unbidden = c.alive && !c.stopping;
  c.alive = false;
  c.reaped = true;
  c.exit_status = status;
  if (unbidden && report.out != nullptr) {
    *report.out << report.prefix << "peer " << c.id << " (pid " << c.pid << ") " << DescribeExit(status)
                << "; see " << c.log_path << std::endl;
  }
  return unbidden;
}

void SignalChild(ChildProcess& c, int sig) {
  if (c.pid <= 0 || !c.alive) return;
  c.stopping = true;
  kill(c.pid, sig);
  // SIGKILL cannot be caught: the child counts as gone now (reaped later).
  if (sig == SIGKILL) c.alive = false;
}

void StopChildren(const std::vector<ChildProcess*>& cs, std::chrono::milliseconds bound, const ChildReport& report) {
  for (ChildProcess* c : cs) SignalChild(*c, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    bool any = false;
    for (ChildProcess* c : cs) {
      ReapChild(*c, report);
      any |= c->pid > 0 && !c->reaped;
    }
    if (!any) return;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (ChildProcess* c : cs) {
    if (c->pid <= 0 || c->reaped) continue;
    if (!c->alive) {  // SIGKILLed earlier by Kill: collect it so no zombie stays
      int status = 0;
      while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
      }
      c->reaped = true;
      c->exit_status = status;
      continue;
    }
    if (report.out != nullptr) {
      *report.out << report.prefix << "peer " << c->id << " (pid " << c->pid << ") did not stop within "
                  << std::chrono::duration<double>(bound).count() << " s; sending SIGKILL" << std::endl;
    }
    kill(c->pid, SIGKILL);
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
    }
    c->alive = false;
    c->reaped = true;
    c->exit_status = status;
  }
}

}  // namespace swarm::cli
