#include "node/config.h"

#include "net/address.h"
#include "node/extension.h"

namespace swarm::node {

const ConfigSchema& NodeSchema() {
  static const ConfigSchema* schema = [] {
    auto* s = new ConfigSchema();
    s->String("node.id", "", {}, "Name of this peer as shown in status tables (default: its gRPC address).")
        .String("node.grpc_listen", "127.0.0.1:7000", {}, "gRPC address to listen on (host:port or [v6]:port).")
        .String("node.http_listen", "127.0.0.1:0", {}, "HTTP address for /metrics, /healthz and the dashboard; port 0 picks a free port.")
        .String("http.token", "", {}, "Bearer token required on every HTTP path but /healthz; required when node.http_listen is not a loopback address.")
        .Int("http.body_bytes_max", 4096, 0, 1 << 20, "Largest HTTP request body announced; larger ones get 413 before any body byte is read.")
        .Int("http.header_timeout_ms", 3000, 100, 600000, "A request's line and headers must arrive within this.")
        .Int("http.connection_ms_max", 15000, 100, 3600000, "Longest life of one HTTP connection, keep-alive included.")
        .Int("http.threads", 16, 1, 1024, "HTTP connection workers.")
        .Int("http.connections_max", 256, 1, 65536, "Open plus queued HTTP connections; more are answered 503 and closed.")
        .String("node.data_dir", "", {}, "Directory for node.json and durable state; empty = no durable state.")
        .String("node.region", "local", {}, "Region label; replicas prefer distinct regions.")
        .String("node.operator", "", {},
                "Operator name `swarm up` writes in this peer's grant (\"\" = its own, local-<id>); peers with one name "
                "count as one operator for placement caps and job votes. A peer's operator is its grant's, never this key's.")
        .Double("node.capacity", 1.0, 0.01, 1000.0, "Relative capacity of this peer (weights its share of experts).")
        .StringList("node.seeds", {}, "Addresses of peers to join through (host:port).")
        .Int("node.shutdown_drain_ms", 5000, 0, 600000, "How long in-flight calls may finish after SIGINT/SIGTERM.")
        .Int("net.message_size_bytes_max", net::kMessageSizeBytesDefault, 1024, 1ll << 30, "Largest gRPC message accepted or sent, in bytes.")
        .Int("net.call_deadline_ms", 2000, 1, 600000, "Default per-call deadline.")
        .Int("net.retry_attempts", 3, 0, net::kRetryAttemptsMax, "Retries after the first attempt, idempotent calls only.")
        .Int("net.backoff_initial_ms", 50, 1, 60000, "First retry's backoff cap (full jitter).")
        .Int("net.backoff_max_ms", 2000, 1, 600000, "Largest backoff cap.")
        .Double("net.backoff_multiplier", 2.0, 1.0, 10.0, "Backoff cap growth per retry.")
        .Int("net.breaker_failure_threshold", 5, 1, 1000, "Consecutive failures that open a peer's circuit.")
        .Int("net.breaker_open_ms", 5000, 1, 600000, "How long an open circuit refuses calls before a probe.")
        .Bool("tls.enabled", false, "Serve and call over TLS.")
        .String("tls.cert_file", "", {}, "PEM certificate chain of this peer.")
        .String("tls.key_file", "", {}, "PEM private key of this peer.")
        .String("tls.ca_file", "", {}, "PEM CA bundle that peers' certificates must chain to (enables mutual TLS).")
        .String("node.key_file", "", {}, "Identity key file (swarm keygen); empty = <data_dir>/node.key, created on first start.")
        .String("node.signature", "ml-dsa-65", {"ml-dsa-65", "ml-dsa-87", "hybrid"}, "Signature scheme of a newly created identity.")
        .Bool("membership.enabled", true, "Run SWIM membership with the peers in node.seeds.")
        .Int("membership.probe_interval_ms", 1000, 10, 60000, "SWIM protocol period T: one probe per period.")
        .Int("membership.probe_timeout_ms", 500, 5, 60000, "Direct-ack wait before asking helpers (ping-req).")
        .Double("membership.suspicion_mult", 4.0, 0.5, 100.0, "Suspicion timeout = mult * log10(max(n,10)) * T (shorter with confirmations).")
        .Int("membership.join_timeout_ms", 10000, 100, 600000, "Give up joining after this long with no seed answering.")
        .Int("ring.experts", 16, 1, 1 << 20, "Expert ids placed on the ring (shown by swarm status).")
        .Int("ring.replicas", 2, 1, 16, "Replicas per expert, on distinct peers (distinct regions when possible).")
        .String("admission.swarm_id", "", {}, "Swarm this peer belongs to; grants for another swarm are refused (1..64 printable characters). Required when admission.issuer_key_files is set.")
        .StringList("admission.issuer_key_files", {}, "Public-key files of the trusted grant issuers (swarm admission issuer-keygen writes issuer.pub). Empty and admission.open = false: this peer refuses every peer call.")
        .String("admission.grant_file", "", {}, "This peer's own grant (swarm admission issue); checked at start: malformed, expired, for another swarm or key, or from an unknown issuer refuses to start.")
        .Bool("admission.open", false, "DEV MODE: accept calls from peers without a grant. Logged as a warning and shown in /api/status.")
        .String("log.format", "text", {"text", "json"}, "Log line format.")
        .String("log.level", "info", {"trace", "debug", "info", "warn", "error", "off"}, "Least severe level logged.");
    for (const auto& ext : RegisteredExtensions()) ext.add_config_keys(*s);
    return s;
  }();
  return *schema;
}

StatusOr<NodeConfig> ToNodeConfig(const Config& c) {
  NodeConfig n;
  n.grpc_listen = c.GetString("node.grpc_listen");
  if (auto a = net::ParseAddress(n.grpc_listen, true); !a.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("node.grpc_listen: ", a.status().message()));
  }
  n.http_listen = c.GetString("node.http_listen");
  if (auto a = net::ParseAddress(n.http_listen, true); !a.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("node.http_listen: ", a.status().message()));
  }
  n.http.token = c.GetString("http.token");
  n.http.body_bytes_max = c.GetInt("http.body_bytes_max");
  n.http.header_timeout_ms = c.GetInt("http.header_timeout_ms");
  n.http.connection_ms_max = c.GetInt("http.connection_ms_max");
  n.http.threads = c.GetInt("http.threads");
  n.http.connections_max = c.GetInt("http.connections_max");
  if (auto a = net::ParseAddress(n.http_listen, true); !net::IsLoopbackHost(a->host) && n.http.token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node.http_listen = ", n.http_listen,
        " is not a loopback address: set http.token (a bearer token every HTTP path but /healthz will require)"));
  }
  if (!n.http.token.empty() && n.http.token.size() < 16) {
    return absl::InvalidArgumentError(absl::StrCat("http.token is ", n.http.token.size(),
                                                   " characters long; use at least 16"));
  }
  n.id = c.GetString("node.id").empty() ? n.grpc_listen : c.GetString("node.id");
  n.data_dir = c.GetString("node.data_dir");
  n.region = c.GetString("node.region");
  n.capacity = c.GetDouble("node.capacity");
  n.seeds = c.GetStringList("node.seeds");
  for (const auto& seed : n.seeds) {
    auto a = net::ParseAddress(seed);
    if (!a.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("node.seeds: ", a.status().message()));
    }
  }
  n.shutdown_drain = Millis(c.GetInt("node.shutdown_drain_ms"));
  n.net.message_size_bytes_max = c.GetInt("net.message_size_bytes_max");
  n.net.call_deadline = Millis(c.GetInt("net.call_deadline_ms"));
  n.net.retry_attempts = static_cast<int>(c.GetInt("net.retry_attempts"));
  n.net.backoff.initial = Millis(c.GetInt("net.backoff_initial_ms"));
  n.net.backoff.max = Millis(c.GetInt("net.backoff_max_ms"));
  n.net.backoff.multiplier = c.GetDouble("net.backoff_multiplier");
  if (n.net.backoff.max < n.net.backoff.initial) {
    return absl::InvalidArgumentError(absl::StrCat(
        "net.backoff_max_ms = ", c.GetInt("net.backoff_max_ms"),
        " must be at least net.backoff_initial_ms = ", c.GetInt("net.backoff_initial_ms")));
  }
  n.net.breaker.failure_threshold = static_cast<int>(c.GetInt("net.breaker_failure_threshold"));
  n.net.breaker.open_duration = Millis(c.GetInt("net.breaker_open_ms"));
  n.net.tls.enabled = c.GetBool("tls.enabled");
  n.net.tls.cert_file = c.GetString("tls.cert_file");
  n.net.tls.key_file = c.GetString("tls.key_file");
  n.net.tls.ca_file = c.GetString("tls.ca_file");
  if (n.net.tls.enabled && (n.net.tls.cert_file.empty() || n.net.tls.key_file.empty())) {
    return absl::InvalidArgumentError(
        "tls.enabled = true needs tls.cert_file and tls.key_file to be set");
  }
  n.key_file = c.GetString("node.key_file");
  n.signature = c.GetString("node.signature");
  n.membership = c.GetBool("membership.enabled");
  n.membership_probe_interval = Millis(c.GetInt("membership.probe_interval_ms"));
  n.membership_probe_timeout = Millis(c.GetInt("membership.probe_timeout_ms"));
  if (n.membership_probe_timeout >= n.membership_probe_interval) {
    return absl::InvalidArgumentError(absl::StrCat(
        "membership.probe_timeout_ms = ", c.GetInt("membership.probe_timeout_ms"),
        " must be less than membership.probe_interval_ms = ", c.GetInt("membership.probe_interval_ms")));
  }
  n.membership_suspicion_mult = c.GetDouble("membership.suspicion_mult");
  n.membership_join_timeout = Millis(c.GetInt("membership.join_timeout_ms"));
  n.ring_experts = c.GetInt("ring.experts");
  n.ring_replicas = c.GetInt("ring.replicas");
  n.admission.swarm_id = c.GetString("admission.swarm_id");
  n.admission.issuer_key_files = c.GetStringList("admission.issuer_key_files");
  n.admission.grant_file = c.GetString("admission.grant_file");
  n.admission.open = c.GetBool("admission.open");
  if (!n.admission.issuer_key_files.empty() && n.admission.swarm_id.empty()) {
    return absl::InvalidArgumentError(
        "admission.issuer_key_files is set but admission.swarm_id is empty: name the swarm the "
        "issuers admit to");
  }
  if (!n.admission.grant_file.empty() && n.admission.issuer_key_files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "admission.grant_file = '", n.admission.grant_file,
        "' is set but admission.issuer_key_files is empty: the grant cannot be checked"));
  }
  n.log_format = c.GetString("log.format");
  n.log_level = c.GetString("log.level");
  n.raw = c;
  return n;
}

}  // namespace swarm::node
