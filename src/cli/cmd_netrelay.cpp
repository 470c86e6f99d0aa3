// `swarm netrelay`: the delaying TCP relay of the multi-host harness
// (scripts/netns; logic in netrelay/relay.h).
#include <signal.h>

#include <atomic>
#include <iostream>

#include "cli/commands.h"
#include "common/log.h"
#include "netrelay/relay.h"

namespace swarm::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

struct NetrelayFlags {
  netrelay::RelayOptions options;
  std::vector<std::string> routes;
  std::string log_level = "info";
};

void RunNetrelay(NetrelayFlags& f) {
  const std::string cmd = "netrelay";
  if (auto s = InitLogging(LogFormat::kText, f.log_level, "netrelay"); !s.ok()) Fail(cmd, s, kExitUsage);
  for (const std::string& text : f.routes) {
    auto r = netrelay::ParseRoute(text);
    if (!r.ok()) Fail(cmd, r.status(), kExitUsage);
    f.options.routes.push_back(*r);
  }
  auto relay = netrelay::Relay::Create(f.options);
  if (!relay.ok()) Fail(cmd, relay.status(), kExitUsage);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: epoll_wait returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::cout << "swarm netrelay: listening on port " << (*relay)->port() << " ("
            << (f.options.to.empty() ? "transparent" : "to " + f.options.to) << ", " << f.options.routes.size()
            << " route(s))" << std::endl;
  const Status s = (*relay)->Run(&g_stop);
  const netrelay::RelayStats st = (*relay)->stats();
  std::cout << "swarm netrelay: stopped; accepted " << st.accepted << " connection(s), " << st.bytes_forwarded
            << " bytes forwarded, " << st.connect_failures << " upstream connect failure(s), "
            << st.refused_over_limit << " refused over connections_max" << std::endl;
  if (!s.ok()) Fail(cmd, s, kExitRuntime);
}

}  // namespace

void AddNetrelayCommand(CLI::App& app) {
  auto f = std::make_shared<NetrelayFlags>();
  auto* cmd = app.add_subcommand(
      "netrelay",
      "A delaying TCP relay: adds latency and jitter to TCP connections where `tc netem` is missing.\n\n"
      "Transparent mode (what scripts/netns uses inside a peer's network namespace): an nftables rule\n"
      "redirects new outgoing TCP connections to --listen; the relay connects to each one's original\n"
      "destination with socket mark --mark (exempt it in the rule) and delays every byte, both ways,\n"
      "by the delay of the longest --route prefix matching the destination (no match: no delay).\n"
      "With --to, every connection goes to that address instead.\n"
      "A route's delay is one-way: a connection's round trip gains 2 x DELAY_MS.\n\n"
      "Examples:\n"
      "  swarm netrelay --listen 127.0.0.1:7399 --route 10.77.0.0/16=20:2 --route 10.77.1.0/24=2\n"
      "  nft add rule ip swarmrelay out meta mark != 0x5357 ip daddr 10.77.0.0/16 tcp flags syn redirect to :7399\n"
      "  swarm netrelay --listen 127.0.0.1:9000 --to 127.0.0.1:7000 --route 0.0.0.0/0=50\n"
      "Stops on SIGINT/SIGTERM and prints what it relayed.");
  cmd->add_option("--listen", f->options.listen, "host:port to accept on (IPv4; port 0 picks one)")
      ->capture_default_str();
  cmd->add_option("--to", f->options.to, "Fixed upstream host:port (default: each connection's original destination)");
  cmd->add_option("--route", f->routes,
                  "CIDR=DELAY_MS[:JITTER_MS], one-way delay and uniform jitter toward that destination; repeatable");
  cmd->add_option("--mark", f->options.mark, "SO_MARK of upstream sockets (transparent mode)")->capture_default_str();
  cmd->add_option("--buffer-bytes-max", f->options.buffer_bytes_max,
                  "Bytes queued per direction per connection before reads pause")
      ->capture_default_str();
  cmd->add_option("--connections-max", f->options.connections_max, "Open connections; more are closed at accept")
      ->capture_default_str();
  cmd->add_option("--connect-timeout-ms", f->options.connect_timeout_ms, "Upstream connect timeout")
      ->capture_default_str();
  cmd->add_option("--seed", f->options.seed, "Seed of the jitter stream")->capture_default_str();
  cmd->add_option("--log-level", f->log_level, "trace, debug, info, warn, error, off")->capture_default_str();
  cmd->callback([f] { RunNetrelay(*f); });
}

}  // namespace swarm::cli
