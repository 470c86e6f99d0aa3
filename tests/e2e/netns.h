// A multi-host test swarm on one machine: a run of scripts/netns (every peer
// its own network namespace and address, latency, loss, partitions) owned by
// this test process. The run is removed by the destructor and, if the test
// process dies however it dies, by scripts/netns's owner watchdog.
// Needs root (and ip, nft, tc); NetnsRun::Available() says whether this
// machine can run it, for SWARM_REQUIRE_INPUT_IF. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace swarm::e2e {

class NetnsRun {
 public:
  struct Peer {
    std::string name;     // e.g. "eu0": region + index
    std::string region;   // e.g. "eu"
    std::string address;  // IPv4 address of the peer's eth0
    std::string ns;       // network namespace name
  };

  // Path of scripts/netns in the source tree.
  static std::string Script();
  // Root, and ip/nft/tc present; `why` gets the reason when not.
  static bool Available(std::string* why);
  // `scripts/netns up <fresh name> <up_args> --owner <this pid>`; nullptr with
  // the script's output in `error` when it fails.
  static std::unique_ptr<NetnsRun> Create(const std::vector<std::string>& up_args, std::string* error);
  ~NetnsRun();

  const std::string& name() const { return name_; }
  const std::vector<Peer>& peers() const { return peers_; }
  const Peer& peer(const std::string& name) const;
  // The host's address on the run's bridge (reaches every peer).
  std::string host_address() const;
  // `args` run inside `peer`'s namespace (prefix for Spawn/RunSwarm; same pid).
  std::vector<std::string> In(const std::string& peer, const std::vector<std::string>& args) const;
  // scripts/netns <command> <name> <args>: true on exit 0; output to `out`.
  bool Do(const std::string& command, const std::vector<std::string>& args, std::string* out = nullptr) const;

 private:
  NetnsRun() = default;
  std::string name_;
  std::vector<Peer> peers_;
};

}  // namespace swarm::e2e
