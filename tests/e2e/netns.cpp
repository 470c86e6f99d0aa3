#include "e2e/netns.h"

#include <unistd.h>

#include <cstdlib>
#include <random>
#include <sstream>

#include "e2e/process.h"

namespace swarm::e2e {

std::string NetnsRun::Script() { return std::string(SWARM_SOURCE_DIR) + "/scripts/netns"; }

bool NetnsRun::Available(std::string* why) {
  if (geteuid() != 0) {
    *why = "root (scripts/netns creates network namespaces; CI runs as root)";
    return false;
  }
  for (const char* tool : {"/usr/sbin/ip", "/usr/sbin/nft", "/usr/sbin/tc"}) {
    if (access(tool, X_OK) != 0) {
      *why = std::string(tool) + " (run scripts/setup: iproute2, nftables)";
      return false;
    }
  }
  return true;
}

std::unique_ptr<NetnsRun> NetnsRun::Create(const std::vector<std::string>& up_args, std::string* error) {
  std::unique_ptr<NetnsRun> run(new NetnsRun());
  std::mt19937 gen(std::random_device{}());
  run->name_ = "e" + std::to_string(gen() % 10'000'000);
  std::vector<std::string> args = {Script(), "up", run->name_};
  args.insert(args.end(), up_args.begin(), up_args.end());
  args.insert(args.end(), {"--owner", std::to_string(getpid()), "--swarm", SwarmBinary()});
  RunResult r = RunSwarm(args, 120);
  if (r.exit_code != 0) {
    *error = "scripts/netns up failed (exit " + std::to_string(r.exit_code) + "): " + r.err + r.out;
    run->name_.clear();  // it removed what it made
    return nullptr;
  }
  RunResult p = RunSwarm({Script(), "peers", run->name_}, 30);
  std::istringstream in(p.out);
  Peer peer;
  while (in >> peer.name >> peer.region >> peer.address >> peer.ns) run->peers_.push_back(peer);
  if (run->peers_.empty()) {
    *error = "scripts/netns peers printed no peers: " + p.err;
    return nullptr;  // the destructor removes the run
  }
  return run;
}

NetnsRun::~NetnsRun() {
  if (!name_.empty()) RunSwarm({Script(), "down", name_}, 120);
}

const NetnsRun::Peer& NetnsRun::peer(const std::string& name) const {
  for (const Peer& p : peers_) {
    if (p.name == name) return p;
  }
  std::abort();  // a test asked for a peer its own run spec does not make
}

std::string NetnsRun::host_address() const {
  const std::string& a = peers_.front().address;
  return a.substr(0, a.rfind('.')) + ".1";
}

std::vector<std::string> NetnsRun::In(const std::string& peer, const std::vector<std::string>& args) const {
  std::vector<std::string> out = {"/usr/sbin/ip", "netns", "exec", this->peer(peer).ns};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

bool NetnsRun::Do(const std::string& command, const std::vector<std::string>& args, std::string* out) const {
  std::vector<std::string> full = {Script(), command, name_};
  full.insert(full.end(), args.begin(), args.end());
  RunResult r = RunSwarm(full, 60);
  if (out) *out = r.out + r.err;
  return r.exit_code == 0;
}

}  // namespace swarm::e2e
