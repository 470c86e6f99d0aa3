#include "e2e/netns.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

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

std::string NetnsSwarm::Peer::http() const { return address + ":" + std::to_string(kHttpPort); }

namespace {

// `swarm args...`; "" on success, else what failed.
std::string SwarmStep(const std::vector<std::string>& args) {
  std::vector<std::string> full = {SwarmBinary()};
  full.insert(full.end(), args.begin(), args.end());
  RunResult r = RunSwarm(full, 60);
  if (r.exit_code == 0) return "";
  return "swarm " + args[0] + " " + (args.size() > 1 ? args[1] : "") + " exited " + std::to_string(r.exit_code) +
         ": " + r.err;
}

}  // namespace

std::unique_ptr<NetnsSwarm> NetnsSwarm::Start(const NetnsRun& run, const std::string& dir,
                                              const std::string& extra_toml, double ready_s, std::string* error) {
  std::unique_ptr<NetnsSwarm> swarm(new NetnsSwarm());
  if ((*error = SwarmStep({"admission", "issuer-keygen", "--out", dir + "/issuer"})) != "") return nullptr;
  for (const auto& p : run.peers()) swarm->peers_.push_back({p.name, p.region, p.address, dir + "/" + p.name});
  const std::string seed = swarm->peers_[0].address + ":" + std::to_string(kGrpcPort);
  for (Peer& p : swarm->peers_) {
    std::filesystem::create_directories(p.dir);
    const std::string grpc = p.address + ":" + std::to_string(kGrpcPort);
    if ((*error = SwarmStep({"keygen", "--out", p.dir + "/node.key"})) != "") return nullptr;
    *error = SwarmStep({"admission", "issue", "--issuer", dir + "/issuer/issuer.key", "--peer-key", p.dir + "/node.key",
                        "--swarm", kSwarmId, "--roles", "observer", "--operator", "e2e", "--region", p.region,
                        "--address", grpc, "--ttl", "2h", "--out", p.dir + "/admission.grant"});
    if (!error->empty()) return nullptr;
    std::ofstream toml(p.dir + "/node.toml");
    toml << "[node]\n"
         << "id = \"" << p.name << "\"\n"
         << "grpc_listen = \"" << grpc << "\"\n"
         << "http_listen = \"" << p.http() << "\"\n"
         << "data_dir = \"" << p.dir << "\"\n"
         << "key_file = \"" << p.dir << "/node.key\"\n"
         << "region = \"" << p.region << "\"\n"
         << "seeds = [" << (&p == &swarm->peers_[0] ? "" : "\"" + seed + "\"") << "]\n"
         << "[http]\ntoken = \"" << kToken << "\"\n"
         << "[admission]\nswarm_id = \"" << kSwarmId << "\"\n"
         << "issuer_key_files = [\"" << dir << "/issuer/issuer.pub\"]\n"
         << "grant_file = \"" << p.dir << "/admission.grant\"\n"
         << extra_toml;
  }
  for (Peer& p : swarm->peers_) {
    p.pid = Spawn(run.In(p.name, {SwarmBinary(), "node", "--config", p.dir + "/node.toml"}), p.dir + "/node.log");
  }
  for (const Peer& p : swarm->peers_) {
    if (!Eventually(ready_s, [&] { return HttpGet(p.http(), "/healthz").first == 200; })) {
      *error = p.name + " not healthy after " + std::to_string(ready_s) + " s; its log:\n" + swarm->LogTail(p);
      return nullptr;  // the destructor stops the peers
    }
  }
  return swarm;
}

NetnsSwarm::~NetnsSwarm() {
  for (Peer& p : peers_) {
    if (p.pid > 0) kill(p.pid, SIGTERM);
  }
  for (Peer& p : peers_) {
    if (p.pid > 0 && WaitFor(p.pid, 15) == -1) {
      kill(p.pid, SIGKILL);
      WaitFor(p.pid, 5);
    }
  }
}

NetnsSwarm::Peer& NetnsSwarm::peer(const std::string& name) {
  for (Peer& p : peers_) {
    if (p.name == name) return p;
  }
  std::abort();  // a test asked for a peer its own run spec does not make
}

std::map<std::string, std::string> NetnsSwarm::View(const Peer& p) const {
  auto [code, body] = HttpGet(p.http(), "/api/status", kToken);
  std::map<std::string, std::string> view;
  if (code != 200) return view;
  const auto s = nlohmann::json::parse(body, nullptr, false);
  if (!s.is_object() || !s.contains("members")) return view;
  for (const auto& m : s["members"]) view[m.value("id", "")] = m.value("state", "");
  return view;
}

bool NetnsSwarm::AllSee(const std::vector<const Peer*>& observers, const std::vector<const Peer*>& subjects,
                        const std::string& state, std::string* why) const {
  for (const Peer* o : observers) {
    const auto view = View(*o);
    for (const Peer* s : subjects) {
      const auto it = view.find(s->name);
      const std::string got = it == view.end() ? "(absent)" : it->second;
      if (got != state) {
        *why = o->name + " sees " + s->name + " " + got + " (want " + state + ")";
        return false;
      }
    }
  }
  return true;
}

double NetnsSwarm::Metric(const Peer& p, const std::string& name) const {
  auto [code, body] = HttpGet(p.http(), "/metrics", kToken);
  if (code != 200) return -1;
  double sum = 0;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next != ' ' && next != '{') continue;
    sum += std::strtod(line.substr(line.rfind(' ') + 1).c_str(), nullptr);
  }
  return sum;
}

std::string NetnsSwarm::PrometheusConfig(const std::string& rule_file) const {
  std::string y = "global: {scrape_interval: 5s, evaluation_interval: 5s}\nrule_files: [\"" + rule_file +
                  "\"]\nscrape_configs:\n  - job_name: swarm\n    authorization: {credentials: \"" + kToken +
                  "\"}\n    static_configs:\n";
  for (const Peer& p : peers_) y += "      - targets: [\"" + p.http() + "\"]\n        labels: {peer: " + p.name + "}\n";
  return y;
}

std::string NetnsSwarm::LogTail(const Peer& p) const {
  const std::string all = ReadFile(p.dir + "/node.log");
  return all.size() > 1500 ? all.substr(all.size() - 1500) : all;
}

}  // namespace swarm::e2e
