// A multi-host test swarm on one machine: a run of scripts/netns (every peer
// its own network namespace and address, latency, loss, partitions) owned by
// this test process. The run is removed by the destructor and, if the test
// process dies however it dies, by scripts/netns's owner watchdog.
// Needs root (and ip, nft, tc); NetnsRun::Available() says whether this
// machine can run it, for SWARM_REQUIRE_INPUT_IF. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <map>
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

// `swarm node` peers on every "host" of a NetnsRun, started the way
// docs/operator.md "Across machines" says: an issuer, a key and a grant
// (observer) per peer, a config file per peer (its own address, seeds = the
// first peer, HTTP on its address with a bearer token), `swarm node --config`.
// The destructor stops them (SIGTERM, then SIGKILL). Not thread-safe.
class NetnsSwarm {
 public:
  static constexpr int kGrpcPort = 7000;
  static constexpr int kHttpPort = 9100;
  static constexpr char kToken[] = "netns-e2e-token-0123456789";
  static constexpr char kSwarmId[] = "netns-e2e";

  struct Peer {
    std::string name, region, address, dir;
    pid_t pid = -1;
    std::string http() const;  // address:kHttpPort
  };

  // Writes everything under `dir` and starts every peer; `extra_toml` is
  // appended to each config (e.g. "[membership]\nprobe_interval_ms = 500\n").
  // Waits until every /healthz answers (bound `ready_s`); nullptr and `error` otherwise.
  static std::unique_ptr<NetnsSwarm> Start(const NetnsRun& run, const std::string& dir,
                                           const std::string& extra_toml, double ready_s, std::string* error);
  ~NetnsSwarm();

  std::vector<Peer>& peers() { return peers_; }
  Peer& peer(const std::string& name);
  // name -> SWIM state as `p` sees the swarm (empty if it does not answer).
  std::map<std::string, std::string> View(const Peer& p) const;
  // Every observer sees every subject in `state`; else `why` says who does not.
  bool AllSee(const std::vector<const Peer*>& observers, const std::vector<const Peer*>& subjects,
              const std::string& state, std::string* why) const;
  // The sum of a metric's samples on `p`'s /metrics (-1 if unreachable).
  double Metric(const Peer& p, const std::string& name) const;
  // A Prometheus scrape config for every peer (bearer token), loading `rule_file`.
  std::string PrometheusConfig(const std::string& rule_file) const;
  // The last ~1500 bytes of a peer's log.
  std::string LogTail(const Peer& p) const;

 private:
  NetnsSwarm() = default;
  std::vector<Peer> peers_;
};

}  // namespace swarm::e2e
