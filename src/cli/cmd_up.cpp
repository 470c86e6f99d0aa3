// `swarm up`: a local cluster of `swarm node` processes on loopback.
//
// No orphans: every child gets PR_SET_PDEATHSIG(SIGTERM), so if `swarm up`
// dies for any reason (even SIGKILL) the kernel tells each peer to shut down.
// On SIGINT/SIGTERM, `swarm up` sends SIGTERM to every peer, waits for them to
// drain, and SIGKILLs any that did not stop in time.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <fstream>
#include <iostream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/local_admission.h"
#include "common/file.h"
#include "cli/spawn.h"
#include "net/address.h"
#include "node/config.h"

namespace swarm::cli {
namespace {

constexpr int kNodesMax = 256;

struct UpFlags {
  int nodes = 4;
  int base_port = 47000;
  std::string host = "127.0.0.1";
  std::string dir = "swarm-cluster";
  std::string config_file;
  std::vector<std::string> sets;
  std::vector<std::string> node_sets;  // "I:key=value"
  std::vector<std::string> prometheus_rules;
  double ready_timeout_s = 30;
  double stop_timeout_s = 10;
  std::string log_level = "info";
};

// A peer of the cluster; supervision (spawn, reap by pid, stop) is ChildGroup's.
struct Child : ChildProcess {
  std::string grpc;
  std::string http;
  std::string dir;
};

std::chrono::milliseconds Bound(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::string LastLines(const std::string& path, int n) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > static_cast<size_t>(n) ? lines.size() - n : 0; i < lines.size(); ++i) {
    out += "    " + lines[i] + "\n";
  }
  return out;
}

// Grants peer `c` (config file + its overrides) the roles of what it runs; the
// returned arguments go before the user's --set so those can override them.
StatusOr<std::vector<std::string>> AdmitPeer(LocalIssuer& issuer, const UpFlags& f, const Child& c,
                                             const std::vector<std::string>& overrides) {
  const ConfigSchema& schema = node::NodeSchema();
  Config config = schema.Defaults();
  if (!f.config_file.empty()) {
    if (auto parsed = schema.ParseFile(f.config_file); parsed.ok()) config = *parsed;
  }
  // A config that does not parse gets observer only; the peer itself reports the error.
  auto with = schema.ApplyOverrides(config, overrides);
  if (with.ok()) config = *with;
  return issuer.Admit(c.dir, RolesForNodeConfig(config), c.grpc, config.GetDouble("node.capacity"),
                      config.GetString("node.region"), config.GetString("node.operator"));
}

bool Healthy(const std::string& http) {
  auto a = net::ParseAddress(http);
  if (!a.ok()) return false;
  httplib::Client cli(a->host, a->port);
  cli.set_connection_timeout(0, 300000);
  cli.set_read_timeout(1, 0);
  auto res = cli.Get("/healthz");
  return res && res->status == 200;
}

// A Prometheus config that scrapes every peer's /metrics (labels: peer = its
// id, swarm_dir = the cluster), loading `rule_files` (absolute paths).
std::string PrometheusConfig(const ChildGroup<Child>& children, const std::string& dir,
                             const std::vector<std::string>& rule_files) {
  std::string y = "# Written by `swarm up` for the cluster in " + dir +
                  ".\n# Run: prometheus --config.file=" + dir +
                  "/prometheus.yml --storage.tsdb.path=" + dir +
                  "/prometheus-data\n# Rules: deploy/prometheus/ in the swarm repository (swarm up --prometheus-rules).\n"
                  "global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n";
  if (!rule_files.empty()) {
    y += "rule_files:\n";
    for (const auto& f : rule_files) y += "  - " + nlohmann::json(f).dump() + "\n";
  }
  y += "scrape_configs:\n  - job_name: swarm\n    metrics_path: /metrics\n    static_configs:\n";
  for (const auto& c : children) {
    y += "      - targets: [" + nlohmann::json(c.http).dump() + "]\n        labels: {peer: " +
         nlohmann::json(c.id).dump() + ", swarm_dir: " + nlohmann::json(dir).dump() + "}\n";
  }
  return y;
}

nlohmann::json ClusterJson(const ChildGroup<Child>& children) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& c : children) {
    nodes.push_back({{"id", c.id}, {"grpc", c.grpc}, {"http", c.http}, {"pid", c.pid}});
  }
  return {{"nodes", nodes}};
}

int RunUp(const UpFlags& f) {
  if (f.nodes < 1 || f.nodes > kNodesMax) {
    Fail("up", absl::InvalidArgumentError(absl::StrCat("--nodes ", f.nodes, " is out of range [1, ",
                                                       kNodesMax, "]")),
         kExitUsage);
  }
  if (f.base_port < 1024 || f.base_port + f.nodes - 1 > 65535) {
    Fail("up", absl::InvalidArgumentError(absl::StrCat(
                   "--base-port ", f.base_port, " with --nodes ", f.nodes,
                   " needs ports ", f.base_port, "..", f.base_port + f.nodes - 1,
                   " within [1024, 65535]")),
         kExitUsage);
  }
  std::error_code ec;
  std::filesystem::create_directories(f.dir, ec);
  if (ec) {
    Fail("up", absl::PermissionDeniedError(absl::StrCat("--dir '", f.dir, "': ", ec.message())),
         kExitUsage);
  }
  const std::string dir = std::filesystem::absolute(f.dir).string();
  const std::string self = SelfExe();

  // SIGINT/SIGTERM/SIGCHLD are taken with sigtimedwait in the loop below.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, nullptr);

  ChildGroup<Child> children(ChildReport{"swarm up: ", &std::cerr});
  const std::string seed = net::Address{f.host, static_cast<uint16_t>(f.base_port)}.ToString();
  // Placeholders in --set / --node-set values: {peers} = TOML array of every
  // peer's gRPC address, {i} = the peer's index, {id} = its name.
  std::string peers_toml = "[";
  for (int i = 0; i < f.nodes; ++i) {
    peers_toml += (i ? ",\"" : "\"") +
                  net::Address{f.host, static_cast<uint16_t>(f.base_port + i)}.ToString() + "\"";
  }
  peers_toml += "]";
  auto expand = [&](std::string v, int i) {
    const std::pair<std::string, std::string> subs[] = {
        {"{peers}", peers_toml}, {"{i}", std::to_string(i)}, {"{id}", "n" + std::to_string(i)}};
    for (const auto& [from, to] : subs) {
      for (size_t pos = v.find(from); pos != std::string::npos; pos = v.find(from, pos + to.size())) {
        v.replace(pos, from.size(), to);
      }
    }
    return v;
  };
  auto issuer = LocalIssuer::Create(dir);
  if (!issuer.ok()) Fail("up", issuer.status(), kExitRuntime);
  std::map<int, std::vector<std::string>> per_node;
  for (const auto& ns : f.node_sets) {
    const auto colon = ns.find(':');
    int index = -1;
    if (colon != std::string::npos) {
      try {
        index = std::stoi(ns.substr(0, colon));
      } catch (...) {
        index = -1;
      }
    }
    if (index < 0 || index >= f.nodes || ns.find('=') == std::string::npos) {
      std::cerr << "swarm up: --node-set '" << ns << "': expected I:key=value with I in [0, "
                << f.nodes - 1 << "]" << std::endl;
      return kExitUsage;
    }
    per_node[index].push_back(ns.substr(colon + 1));
  }
  for (int i = 0; i < f.nodes; ++i) {
    Child& c = children.Add({});
    c.id = "n" + std::to_string(i);
    c.grpc = net::Address{f.host, static_cast<uint16_t>(f.base_port + i)}.ToString();
    c.dir = dir + "/" + c.id;
    c.log_path = c.dir + "/node.log";
    std::filesystem::create_directories(c.dir, ec);
    std::filesystem::remove(c.dir + "/node.json", ec);
    std::vector<std::string> args = {self, "node", "--id", c.id, "--grpc-listen", c.grpc,
                                     "--http-listen", net::Address{f.host, 0}.ToString(),
                                     "--data-dir", c.dir, "--log-level", f.log_level};
    if (!f.config_file.empty()) {
      args.push_back("--config");
      args.push_back(std::filesystem::absolute(f.config_file).string());
    }
    if (i != 0) {
      args.push_back("--seed");
      args.push_back(seed);
    }
    std::vector<std::string> overrides;
    for (const auto& s : f.sets) overrides.push_back(expand(s, i));
    for (const auto& s : per_node[i]) overrides.push_back(expand(s, i));
    auto admitted = AdmitPeer(*issuer, f, c, overrides);
    if (!admitted.ok()) Fail("up", admitted.status(), kExitRuntime);
    args.insert(args.end(), admitted->begin(), admitted->end());
    for (const auto& s : overrides) {
      args.push_back("--set");
      args.push_back(s);
    }
    children.Spawn(c, args);
  }
  std::cout << "swarm up: started " << f.nodes << " peer(s); logs in " << dir << "/n*/node.log"
            << std::endl;
  std::cout << "swarm up: " << issuer->Summary() << std::endl;

  // Wait until every peer wrote node.json and answers /healthz.
  const auto ready_deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(f.ready_timeout_s);
  for (;;) {
    children.Reap();
    for (auto& c : children) {
      if (!c.alive) {
        std::cerr << "swarm up: peer " << c.id << " " << DescribeExit(c.exit_status)
                  << " during start-up; last lines of " << c.dir << "/node.log:\n"
                  << LastLines(c.dir + "/node.log", 5);
        children.StopAll(Bound(f.stop_timeout_s));
        throw CLI::RuntimeError(WIFEXITED(c.exit_status) && WEXITSTATUS(c.exit_status) == kExitUsage
                                    ? kExitUsage
                                    : kExitRuntime);
      }
    }
    size_t ready = 0;
    for (auto& c : children) {
      if (c.http.empty()) {
        std::ifstream in(c.dir + "/node.json");
        if (in) {
          try {
            c.http = nlohmann::json::parse(in).at("http").get<std::string>();
          } catch (...) {
            // Not complete yet; the node writes it atomically, so this is rare.
          }
        }
      }
      if (!c.http.empty() && Healthy(c.http)) ++ready;
    }
    if (ready == children.size()) break;
    if (std::chrono::steady_clock::now() > ready_deadline) {
      std::cerr << "swarm up: only " << ready << " of " << children.size()
                << " peers healthy after " << f.ready_timeout_s << " s" << std::endl;
      for (auto& c : children) {
        if (c.http.empty() || !Healthy(c.http)) {
          std::cerr << "  " << c.id << " not healthy; last lines of its log:\n"
                    << LastLines(c.dir + "/node.log", 5);
        }
      }
      children.StopAll(Bound(f.stop_timeout_s));
      throw CLI::RuntimeError(kExitRuntime);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  const nlohmann::json cluster = ClusterJson(children);
  if (const Status s = WriteFileAtomic(dir + "/cluster.json", cluster.dump(2) + "\n", {.mode = 0644}); !s.ok()) {
    std::cerr << "swarm up: cannot write cluster.json: " << s.message() << "\n";
  }
  std::vector<std::string> rule_files;
  for (const auto& r : f.prometheus_rules) rule_files.push_back(std::filesystem::absolute(r).string());
  if (const Status s = WriteFileAtomic(dir + "/prometheus.yml", PrometheusConfig(children, dir, rule_files),
                                       {.mode = 0644});
      !s.ok()) {
    std::cerr << "swarm up: cannot write prometheus.yml: " << s.message() << "\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : children) {
    rows.push_back({c.id, c.grpc, "http://" + c.http, std::to_string(c.pid), "healthy"});
  }
  std::cout << FormatTable({"peer", "grpc", "http (metrics, dashboard)", "pid", "state"}, rows)
            << "cluster: " << dir << "/cluster.json   (Ctrl-C stops every peer)\n"
            << "prometheus: " << dir << "/prometheus.yml   (scrapes every peer's /metrics)" << std::endl;

  for (;;) {
    timespec timeout{0, 500'000'000};
    const int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      std::cout << "swarm up: stopping " << children.size() << " peer(s)" << std::endl;
      children.StopAll(Bound(f.stop_timeout_s));
      std::cout << "swarm up: all peers stopped" << std::endl;
      return 0;
    }
    children.Reap();
  }
}

}  // namespace

void AddUpCommand(CLI::App& app) {
  auto f = std::make_shared<UpFlags>();
  auto* cmd = app.add_subcommand(
      "up",
      "Start a local cluster of peers on loopback and keep it running until Ctrl-C.\n\n"
      "Examples:\n  swarm up --nodes 3 --base-port 47100 --dir /tmp/x\n"
      "  swarm up --nodes 4 --set 'consensus.committee={peers}' --node-set 3:log.level=debug\n"
      "Writes DIR/cluster.json ({\"nodes\":[{\"id\",\"grpc\",\"http\",\"pid\"}...]}) and DIR/prometheus.yml "
      "(a Prometheus scrape config for every peer's /metrics, label peer=<id>); each peer logs to "
      "DIR/<id>/node.log. Peers stop when `swarm up` stops, however it stops.\n"
      "Admission: `swarm up` is the issuer of the swarm it starts: a new issuer key per run "
      "(DIR/admission/issuer.{key,pub}), and each peer gets DIR/<id>/node.key and a grant "
      "DIR/<id>/admission.grant with the roles of what its config runs (observer always; committee+client "
      "with consensus, expert_host, trainer, aggregator, evaluator, queen, jobs_worker), capacity and "
      "region from its config, its gRPC address; DIR/admission/operator.{key,grant} admit the operator's "
      "tools. --set admission.* overrides win (docs/security.md).");
  cmd->add_option("-n,--nodes", f->nodes, "Number of peers")->capture_default_str();
  cmd->add_option("--base-port", f->base_port, "gRPC port of the first peer; peer i uses base+i")
      ->capture_default_str();
  cmd->add_option("--host", f->host, "Address to bind")->capture_default_str();
  cmd->add_option("--dir", f->dir, "Directory for cluster.json and per-peer state")->capture_default_str();
  cmd->add_option("-c,--config", f->config_file, "Node config applied to every peer")->check(CLI::ExistingFile);
  cmd->add_option("--set", f->sets,
                  "Config override for every peer, key=value; repeatable. In values, {peers} becomes a "
                  "TOML array of every peer's gRPC address, {i} the peer's index, {id} its name");
  cmd->add_option("--node-set", f->node_sets,
                  "Config override for one peer, I:key=value (I = 0-based index); repeatable, "
                  "applied after --set");
  cmd->add_option("--prometheus-rules", f->prometheus_rules,
                  "Rule file listed in DIR/prometheus.yml (e.g. deploy/prometheus/swarm_rules.yml); repeatable")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ready-timeout", f->ready_timeout_s, "Seconds to wait for every peer to be healthy")
      ->capture_default_str();
  cmd->add_option("--log-level", f->log_level, "Peers' log level")->capture_default_str();
  cmd->callback([f] {
    const int code = RunUp(*f);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace swarm::cli
