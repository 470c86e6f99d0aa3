// Child peers of `swarm up` and `swarm train`: the running binary's path, a
// fork+exec that ties the child's life to this process, and ChildGroup, the
// one supervision both commands use (spawn, reap, report, stop).
//
// Thread-compatible: one thread drives a group. Several groups in one
// process are independent because each child is reaped by its own pid,
// never by waitpid(-1) (which would reap, and lose, another group's child).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <ostream>
#include <string>
#include <vector>

namespace swarm::cli {

// Path of the running `swarm` binary ("swarm" if /proc is unreadable).
std::string SelfExe();

// Starts args[0] with args, stdout and stderr appended to log_path, signal
// mask cleared, and PR_SET_PDEATHSIG so the child dies with this process
// however it dies. `single_torch_thread` sets OMP_NUM_THREADS=1 (unless set):
// several peers share the cores, and spinning OpenMP workers would starve
// every peer's gRPC threads. Returns the child's pid, or -1 if fork failed.
pid_t SpawnPeer(const std::vector<std::string>& args, const std::string& log_path,
                bool single_torch_thread = false);

// "exited with status 3" / "killed by signal 9" for a waitpid status.
std::string DescribeExit(int status);

// One supervised child. Commands derive their own record from it (adding
// addresses and roles). A record with pid <= 0 was never spawned (e.g. a peer
// `swarm train --peers` only watches) and is ignored by the group.
struct ChildProcess {
  std::string id;        // name in messages ("n0", "t3")
  std::string log_path;  // its stdout+stderr
  pid_t pid = -1;
  bool alive = false;     // spawned, not yet seen to exit, not SIGKILLed by us
  bool stopping = false;  // told to stop (Kill/StopAll): its exit is expected, not reported
  bool reaped = false;    // waited on; never waited on again
  int exit_status = 0;    // waitpid status once reaped
};

// Where a group reports a child that exits without being told to:
//   "<prefix>peer <id> (pid <pid>) exited with status 3; see <log>"
//   "<prefix>peer <id> (pid <pid>) killed by signal 9; see <log>"
struct ChildReport {
  std::string prefix;
  std::ostream* out = nullptr;  // nullptr: report nothing
};

// Bound between SIGTERM and SIGKILL in StopAll.
inline constexpr std::chrono::milliseconds kChildStopBound{10'000};

// The non-template parts ChildGroup uses.
bool SpawnChild(ChildProcess& c, const std::vector<std::string>& args, bool single_torch_thread);
// Reaps c without blocking if it exited; returns true if that exit was unbidden (and reports it).
bool ReapChild(ChildProcess& c, const ChildReport& report);
void SignalChild(ChildProcess& c, int sig);
// SIGTERM to each live child, reap until all exited or `bound`, then
// SIGKILL the rest (each named on the report stream) and wait for them.
void StopChildren(const std::vector<ChildProcess*>& cs, std::chrono::milliseconds bound, const ChildReport& report);

// A group of children of type C (ChildProcess or a record derived from it).
// References to its elements stay valid as children are added (deque).
// The destructor stops every child still running.
template <class C = ChildProcess>
class ChildGroup {
 public:
  explicit ChildGroup(ChildReport report = {}) : report_(std::move(report)) {}
  ~ChildGroup() { StopAll(); }
  ChildGroup(const ChildGroup&) = delete;
  ChildGroup& operator=(const ChildGroup&) = delete;

  C& Add(C c) { return children_.emplace_back(std::move(c)); }
  // Starts c (an element of this group) with c.log_path as its log; false
  // (c.alive false, pid -1) if fork failed.
  bool Spawn(C& c, const std::vector<std::string>& args, bool single_torch_thread = false) {
    return SpawnChild(c, args, single_torch_thread);
  }
  // Reaps every exited child; returns how many exited unbidden (reported).
  size_t Reap() {
    size_t n = 0;
    for (auto& c : children_) n += ReapChild(c, report_) ? 1 : 0;
    return n;
  }
  // Sends `sig` to a live child and marks its exit as expected; after SIGKILL
  // the child is no longer alive (it is still reaped by the next Reap).
  void Kill(C& c, int sig) { SignalChild(c, sig); }
  void StopAll(std::chrono::milliseconds bound = kChildStopBound) {
    std::vector<ChildProcess*> all;
    for (auto& c : children_) all.push_back(&c);
    StopChildren(all, bound, report_);
  }
  bool AnyAlive() const {
    for (const auto& c : children_) {
      if (c.alive) return true;
    }
    return false;
  }

  size_t size() const { return children_.size(); }
  bool empty() const { return children_.empty(); }
  C& operator[](size_t i) { return children_[i]; }
  const C& operator[](size_t i) const { return children_[i]; }
  C& back() { return children_.back(); }
  auto begin() { return children_.begin(); }
  auto end() { return children_.end(); }
  auto begin() const { return children_.begin(); }
  auto end() const { return children_.end(); }

 private:
  ChildReport report_;
  std::deque<C> children_;
};

}  // namespace swarm::cli
