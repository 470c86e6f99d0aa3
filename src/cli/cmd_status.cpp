// `swarm status`: what a peer knows (its Info), or every peer of a local cluster.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/credentials.h"
#include "net/rpc.h"
#include "swarm/v1/node.grpc.pb.h"

namespace swarm::cli {
namespace {

struct StatusFlags {
  std::string peer;
  std::string dir;
  bool json = false;
  int deadline_ms = 2000;
  int retries = 2;
};

StatusOr<nlohmann::json> FetchInfo(const std::string& address, const StatusFlags& f) {
  net::NetOptions opts;
  opts.call_deadline = Millis(f.deadline_ms);
  opts.retry_attempts = f.retries;
  SWARM_ASSIGN_OR_RETURN(auto client, net::PeerClient::Create(address, opts));
  auto stub = swarm::v1::Node::NewStub(client->channel());
  swarm::v1::InfoReply reply;
  SWARM_RETURN_IF_ERROR(client->Call(
      "Info",
      [&](grpc::ClientContext* ctx) {
        return stub->Info(ctx, swarm::v1::InfoRequest(), &reply);
      },
      {.idempotent = true}));
  nlohmann::json j = nlohmann::json::parse(reply.status_json(), nullptr, false);
  if (j.is_discarded()) {
    return absl::DataLossError(absl::StrCat("peer ", address, ": Info.status_json is not JSON"));
  }
  return j;
}

// Objects in the status JSON that belong to the peer itself; every other
// object is an extension's (consensus, experts, trainer, evo, jobs, ...).
bool IsExtensionKey(const std::string& key, const nlohmann::json& v) {
  static const char* kCore[] = {"self", "members", "ring", "counters"};
  if (!v.is_object()) return false;
  for (const char* k : kCore) {
    if (key == k) return false;
  }
  return true;
}

std::string Cell(const nlohmann::json& v) {
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.4g", v.get<double>());
    return buf;
  }
  if (v.is_string()) return v.get<std::string>();
  std::string d = v.dump();
  return d.size() > 100 ? d.substr(0, 97) + "..." : d;
}

// The extensions a peer runs, e.g. "consensus,experts".
std::string Roles(const nlohmann::json& s) {
  std::string out;
  for (const auto& [k, v] : s.items()) {
    if (IsExtensionKey(k, v)) out += (out.empty() ? "" : ",") + k;
  }
  return out.empty() ? "-" : out;
}

void PrintPeer(const nlohmann::json& s) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, v] : s.items()) {
    if (v.is_object() || v.is_array()) continue;
    rows.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
  }
  std::cout << FormatTable({"field", "value"}, rows);
  if (s.contains("members") && s["members"].is_array()) {
    std::vector<std::vector<std::string>> m;
    for (const auto& e : s["members"]) {
      auto str = [&](const char* k) {
        if (!e.contains(k)) return std::string();
        if (e[k].is_number_float()) {
          char buf[32];
          std::snprintf(buf, sizeof(buf), "%.2f", e[k].get<double>());
          return std::string(buf);
        }
        return e[k].is_string() ? e[k].get<std::string>() : e[k].dump();
      };
      m.push_back({str("id"), str("state"), str("incarnation"), str("region"), str("capacity"),
                   str("link_weight")});
    }
    std::cout << "\nmembers\n"
              << FormatTable({"id", "state", "incarnation", "region", "capacity", "link weight"}, m);
  }
  for (const auto& [name, ext] : s.items()) {
    if (!IsExtensionKey(name, ext)) continue;
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, v] : ext.items()) rows.push_back({k, Cell(v)});
    std::cout << "\n" << name << "\n" << FormatTable({"field", "value"}, rows);
  }
  // The committed epochs (node/consensus/extension.h), one row per kind.
  if (s.contains("consensus") && s["consensus"].is_object() && s["consensus"].contains("epochs")) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [kind, e] : s["consensus"]["epochs"].items()) {
      std::string what;
      if (e.contains("members")) {
        for (const auto& m : e["members"]) what += (what.empty() ? "" : " ") + m.value("id", "") + "@" + m.value("address", "");
      } else if (e.contains("experts")) {
        what = e["experts"].dump() + " experts";
      }
      rows.push_back({kind, e.value("version", nlohmann::json(0)).dump(), e.contains("index") ? e["index"].dump() : "-",
                      e.value("root", "-").substr(0, 16), what});
    }
    std::cout << "\nconsensus epochs\n" << FormatTable({"kind", "version", "ledger index", "root", "members"}, rows);
  }
}

int RunStatus(const StatusFlags& f) {
  if (f.peer.empty() == f.dir.empty()) {
    Fail("status", absl::InvalidArgumentError("give exactly one of --peer HOST:PORT or --dir DIR"),
         kExitUsage);
  }
  if (!f.peer.empty()) {
    auto info = FetchInfo(f.peer, f);
    if (!info.ok()) Fail("status", info.status(), kExitRuntime);
    if (f.json) std::cout << info->dump(2) << std::endl;
    else PrintPeer(*info);
    return 0;
  }
  if (auto s = UseRunCredentials(f.dir); !s.ok()) Fail("status", s, kExitUsage);
  const std::string path = f.dir + "/cluster.json";
  std::ifstream in(path);
  if (!in) Fail("status", absl::NotFoundError(absl::StrCat("cannot read ", path, " (is `swarm up --dir ", f.dir, "` running?)")), kExitUsage);
  nlohmann::json cluster = nlohmann::json::parse(in, nullptr, false);
  if (cluster.is_discarded() || !cluster.contains("nodes")) {
    Fail("status", absl::DataLossError(absl::StrCat(path, ": not a cluster.json")), kExitUsage);
  }
  nlohmann::json out = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  int unreachable = 0;
  for (const auto& n : cluster["nodes"]) {
    const std::string grpc = n.value("grpc", "");
    auto info = FetchInfo(grpc, f);
    if (info.ok()) {
      out.push_back(*info);
      std::string cons = "-";
      if (info->contains("consensus") && (*info)["consensus"].contains("view")) {
        const auto& c = (*info)["consensus"];
        cons = absl::StrCat("v", c.value("view", 0), " p=", Cell(c.value("primary", nlohmann::json(""))),
                            " c=", c.value("last_committed", 0), " s=", c.value("stable_checkpoint", 0));
        if (c.contains("epochs") && c["epochs"].is_object()) {
          absl::StrAppend(&cons, " e=m", c["epochs"].value("membership", nlohmann::json::object()).value("version", 0),
                          "/p", c["epochs"].value("placement", nlohmann::json::object()).value("version", 0));
        }
      }
      rows.push_back({info->value("id", ""), grpc, info->value("http", ""),
                      std::to_string(info->value("pid", 0)),
                      absl::StrCat(static_cast<int64_t>(info->value("uptime_seconds", 0.0)), " s"),
                      info->value("healthy", false) ? "healthy" : "unhealthy", Roles(*info), cons});
    } else {
      ++unreachable;
      out.push_back({{"id", n.value("id", "")}, {"grpc", grpc}, {"error", std::string(info.status().message())}});
      rows.push_back({n.value("id", ""), grpc, n.value("http", ""), "-", "-", "unreachable", "-", "-"});
    }
  }
  if (f.json) std::cout << out.dump(2) << std::endl;
  else std::cout << FormatTable({"peer", "grpc", "http", "pid", "uptime", "state", "roles", "consensus"}, rows);
  return unreachable == 0 ? 0 : kExitRuntime;
}

}  // namespace

void AddStatusCommand(CLI::App& app) {
  auto f = std::make_shared<StatusFlags>();
  auto* cmd = app.add_subcommand(
      "status",
      "Show what a peer knows, or the state of every peer of a local cluster.\n\n"
      "Examples:\n  swarm status --peer 127.0.0.1:47000\n  swarm status --dir swarm-cluster --json");
  cmd->add_option("--peer", f->peer, "Peer address host:port");
  cmd->add_option("--dir", f->dir, "Cluster directory written by `swarm up` (reads cluster.json)");
  cmd->add_flag("--json", f->json, "Print JSON instead of a table");
  cmd->add_option("--deadline-ms", f->deadline_ms, "Per-call deadline")->capture_default_str();
  cmd->add_option("--retries", f->retries, "Retries for an unreachable peer")->capture_default_str();
  cmd->callback([f] {
    UseEnvironmentCredentialsOrExit();
    const int code = RunStatus(*f);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace swarm::cli
