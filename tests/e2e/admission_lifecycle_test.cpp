// End-to-end: admission over time and by mode, on real `swarm` processes.
//   - closed mode (no issuer, not open) refuses every call, signed or not;
//   - a grant that expires takes its member out of every peer's view and
//     placement, and out of the guard (`expired`), without a restart; a
//     renewed grant file brings it back;
//   - `swarm up` gives each spawned peer its own operator (placement caps per
//     operator bite), and node.operator groups peers.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

json Status(const std::string& http) {
  auto [code, body] = HttpGet(http, "/api/status");
  if (code != 200) return json();
  return json::parse(body, nullptr, false);
}

// Sum of the samples of `name` whose labels contain every one of `labels`.
double Sum(const std::string& http, const std::string& name, const std::vector<std::string>& labels) {
  auto [code, body] = HttpGet(http, "/metrics");
  if (code != 200) return -1;
  std::istringstream in(body);
  std::string line;
  double total = 0;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0) continue;
    bool all = true;
    for (const auto& l : labels) all &= Has(line, l);
    if (all) total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

// The full peer id (64 hex) of the member displayed as `name` in a status.
std::string FullPeerId(const json& s, const std::string& name) {
  if (!s.is_object() || !s.contains("members")) return "";
  for (const auto& m : s["members"]) {
    if (m.value("id", "") == name) return m.value("peer_id", "");
  }
  return "";
}

RunResult Swarm(std::vector<std::string> args, double timeout_s = 60) {
  args.insert(args.begin(), SwarmBinary());
  return RunSwarm(args, timeout_s);
}

// A `swarm up` run, stopped at the end of the test.
struct Up {
  std::string dir;
  pid_t pid = -1;
  json nodes;
  ~Up() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      if (WaitFor(pid, 30) == -1) kill(pid, SIGKILL);
    }
  }
  // `committee` > 0: peers 0..committee-1 are a fixed PBFT committee.
  void Start(const std::string& d, int n, const std::vector<std::string>& extra, int committee = 0) {
    dir = d;
    for (int attempt = 0; attempt < 3 && nodes.empty(); ++attempt) {
      UseRunCredentials(dir);
      const int base = FreePort();
      std::vector<std::string> args = {SwarmBinary(), "up", "--nodes", std::to_string(n), "--base-port",
                                       std::to_string(base), "--dir", dir, "--log-level", "info"};
      args.insert(args.end(), extra.begin(), extra.end());
      if (committee > 0) {
        std::string list = "[";
        for (int i = 0; i < committee; ++i)
          list += "\"127.0.0.1:" + std::to_string(base + i) + "\"" + (i + 1 < committee ? "," : "]");
        args.push_back("--set");
        args.push_back("consensus.committee=" + list);
      }
      pid = Spawn(args, dir + ".up.log");
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
      while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(dir + "/cluster.json");
        if (in) {
          nodes = json::parse(in, nullptr, false)["nodes"];
          break;
        }
        if (WaitFor(pid, 0.1) != -1) {
          pid = -1;
          break;  // port clash: retry
        }
      }
    }
    ASSERT_EQ(nodes.size(), static_cast<size_t>(n)) << ReadFile(dir + ".up.log");
  }
  std::string http(int i) const { return nodes[i]["http"]; }
  std::string grpc(int i) const { return nodes[i]["grpc"]; }
  std::string id(int i) const { return nodes[i]["id"]; }
  std::string log(int i) const { return ReadFile(dir + "/" + id(i) + "/node.log"); }
};

// Peer ids (hex) in the "members" of a status, and the "refused" reasons by peer id.
std::set<std::string> MemberIds(const json& s) {
  std::set<std::string> out;
  if (s.is_object() && s.contains("members")) {
    for (const auto& m : s["members"]) out.insert(m.value("peer_id", ""));
  }
  return out;
}
std::map<std::string, std::string> Refused(const json& s) {
  std::map<std::string, std::string> out;
  if (s.is_object() && s.contains("refused")) {
    for (const auto& r : s["refused"]) out[r.value("peer_id", "")] = r.value("reason", "");
  }
  return out;
}
std::set<std::string> RingPeers(const json& s) {
  std::set<std::string> out;
  if (!s.is_object() || !s.contains("ring") || !s["ring"].contains("owners")) return out;
  for (const auto& [e, owners] : s["ring"]["owners"].items()) {
    for (const auto& o : owners) out.insert(o.get<std::string>());
  }
  return out;
}

TEST(E2eAdmissionClosed, AClosedPeerRefusesEveryCallSignedOrNot) {
  const std::string dir = TempDir("closed");
  // A valid identity and grant from some issuer: the closed peer trusts none.
  ASSERT_EQ(Swarm({"admission", "issuer-keygen", "--out", dir + "/issuer"}).exit_code, 0);
  std::filesystem::create_directories(dir + "/admission");
  ASSERT_EQ(Swarm({"keygen", "--out", dir + "/admission/operator.key"}).exit_code, 0);
  RunResult issued = Swarm({"admission", "issue", "--issuer", dir + "/issuer/issuer.key", "--peer-key",
                            dir + "/admission/operator.key", "--swarm", "prod", "--roles", "observer,client",
                            "--operator", "alice", "--out", dir + "/admission/operator.grant"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  const std::string grpc = "127.0.0.1:" + std::to_string(FreePort());
  const std::string http = "127.0.0.1:" + std::to_string(FreePort());
  const pid_t node = Spawn({SwarmBinary(), "node", "--id", "closed", "--grpc-listen", grpc, "--http-listen", http,
                            "--data-dir", dir + "/closed", "--set", "membership.enabled=false"},
                           dir + "/closed.log");
  ASSERT_TRUE(Eventually(30, [&] { return HttpGet(http, "/healthz").first == 200; })) << ReadFile(dir + "/closed.log");
  EXPECT_TRUE(Has(ReadFile(dir + "/closed.log"), "every peer call will be refused")) << ReadFile(dir + "/closed.log");
  // Unsigned.
  ::unsetenv("SWARM_CREDENTIALS");
  RunResult unsigned_call = Swarm({"status", "--peer", grpc, "--json", "--retries", "0"}, 30);
  EXPECT_NE(unsigned_call.exit_code, 0) << unsigned_call.out;
  EXPECT_TRUE(Has(unsigned_call.err + unsigned_call.out, "unauthenticated")) << unsigned_call.err;
  // Signed, with a grant of an issuer the peer does not know.
  UseRunCredentials(dir);
  RunResult signed_call = Swarm({"status", "--peer", grpc, "--json", "--retries", "0"}, 30);
  EXPECT_NE(signed_call.exit_code, 0) << signed_call.out;
  EXPECT_TRUE(Has(signed_call.err + signed_call.out, "admission is closed")) << signed_call.err;
  EXPECT_GE(Sum(http, "swarm_rejected_calls_total", {"reason=\"not_admitted\"", "service=\"Node\""}), 1);
  EXPECT_GE(Sum(http, "swarm_rejected_calls_total", {"reason=\"unauthenticated\"", "service=\"Node\""}), 1);
  // The read-only HTTP endpoints stay: /api/status says closed.
  const json s = Status(http);
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["admission"]["mode"], "closed") << s["admission"].dump();
  kill(node, SIGTERM);
  EXPECT_NE(WaitFor(node, 30), -1);
}

TEST(E2eAdmissionExpiry, AnExpiredMemberLeavesEveryViewAndPlacementAndARenewedGrantBringsItBack) {
  const std::string root = TempDir("expiry");
  Up up;
  up.Start(root + "/run", 3, {"--set", "experts.host=true", "--set", "ring.experts=8"});
  const std::string dir = up.dir;
  ASSERT_TRUE(Eventually(60, [&] {
    for (int i = 0; i < 3; ++i) {
      if (MemberIds(Status(up.http(i))).size() != 3) return false;
    }
    return true;
  })) << Status(up.http(0)).dump();
  const json s2 = Status(up.http(2));
  const std::string victim = FullPeerId(Status(up.http(0)), up.id(2));
  ASSERT_EQ(victim.size(), 64u) << Status(up.http(0)).dump();
  ASSERT_EQ(RingPeers(Status(up.http(0))).count(up.id(2)), 1u) << Status(up.http(0))["ring"].dump();
  // Replace n2's grant file with one that lives 30 s (same issuer, roles, address).
  const std::string swarm_id = s2["admission"]["swarm_id"];
  const std::string roles = s2["admission"]["grant"]["roles"];
  auto issue = [&](const std::string& ttl) {
    return Swarm({"admission", "issue", "--issuer", dir + "/admission/issuer.key", "--peer-key",
                  dir + "/n2/node.key", "--swarm", swarm_id, "--roles", roles, "--operator", "local-n2", "--address",
                  up.grpc(2), "--ttl", ttl, "--out", dir + "/n2/admission.grant"});
  };
  RunResult short_grant = issue("30s");
  ASSERT_EQ(short_grant.exit_code, 0) << short_grant.err;
  // n2 reloads it (no restart) and gossips it; then it expires everywhere.
  ASSERT_TRUE(Eventually(20, [&] { return Has(up.log(2), "renewed grant loaded"); })) << up.log(2);
  ASSERT_TRUE(Eventually(75, [&] {
    for (int i = 0; i < 2; ++i) {
      const json s = Status(up.http(i));
      if (!s.is_object() || MemberIds(s).count(victim) || RingPeers(s).count(up.id(2))) return false;
      if (Refused(s)[victim] != "expired") return false;
    }
    return true;
  })) << Status(up.http(0)).dump();
  for (int i = 0; i < 2; ++i) {
    const json s = Status(up.http(i));
    EXPECT_EQ(Refused(s)[victim], "expired") << s["refused"].dump();
    EXPECT_EQ(RingPeers(s).count(up.id(2)), 0u) << s["ring"].dump();
  }
  // Its calls are refused as expired by the guard (membership messages at least).
  EXPECT_TRUE(Eventually(20, [&] {
    return Sum(up.http(0), "swarm_rejected_calls_total", {"reason=\"expired\""}) +
               Sum(up.http(1), "swarm_rejected_calls_total", {"reason=\"expired\""}) >= 1;
  }));
  // A renewed grant brings it back into views and placement, still without a restart.
  RunResult renewed = issue("1h");
  ASSERT_EQ(renewed.exit_code, 0) << renewed.err;
  EXPECT_TRUE(Eventually(60, [&] {
    for (int i = 0; i < 2; ++i) {
      const json s = Status(up.http(i));
      if (!MemberIds(s).count(victim) || !RingPeers(s).count(up.id(2))) return false;
    }
    return true;
  })) << Status(up.http(0)).dump() << up.log(2);
  EXPECT_TRUE(ProcessExists(up.nodes[2]["pid"].get<pid_t>()));  // never restarted
}

TEST(E2eAdmissionOperators, SwarmUpGivesEachPeerItsOwnOperatorAndNodeOperatorGroupsThem) {
  const std::string root = TempDir("operators");
  Up up;
  // Four expert hosts; n0 and n1 are one operator ("acme"), n2 and n3 their own.
  // With 4 operator keys... no: 3 operators, 12 experts: the operator cap is
  // max(ceil(12/3), ceil(12/3)) = 4 primaries, so acme's two hosts together
  // own at most 4, although each could own up to ceil(12/4)+1 = 4 alone.
  up.Start(root + "/run", 4,
           {"--set", "experts.host=true", "--set", "ring.experts=12", "--node-set", "0:node.operator=acme",
            "--node-set", "1:node.operator=acme", "--node-set", "0:node.capacity=60", "--node-set",
            "1:node.capacity=60"});
  for (int i = 0; i < 4; ++i) {
    const json s = Status(up.http(i));
    ASSERT_TRUE(s.is_object());
    EXPECT_EQ(s["admission"]["grant"]["operator"], i < 2 ? std::string("acme") : "local-n" + std::to_string(i))
        << s["admission"].dump();
  }
  json s;
  ASSERT_TRUE(Eventually(60, [&] {
    s = Status(up.http(3));
    return s.is_object() && s["ring"].value("peers", 0) == 4 && s["ring"]["owners"].size() == 12u;
  })) << s.dump();
  std::map<std::string, int> primaries;
  for (const auto& [e, owners] : s["ring"]["owners"].items()) primaries[owners[0].get<std::string>()]++;
  // Capacity 60 each would give acme nearly every expert without the caps.
  EXPECT_LE(primaries["n0"] + primaries["n1"], 4) << s["ring"].dump();
  for (const auto& [peer, n] : primaries) EXPECT_LE(n, 4) << peer << " " << s["ring"].dump();
  EXPECT_EQ(primaries["n0"] + primaries["n1"] + primaries["n2"] + primaries["n3"], 12) << s["ring"].dump();
}

json ConsensusOf(const std::string& http) {
  const json s = Status(http);
  return s.is_object() && s.contains("consensus") ? s["consensus"] : json();
}

// epoch.admission: only the issuer can commit grants; once committed, a peer
// whose grant is not in the set leaves the committee members' views and is
// refused by their guards; committing its grant brings it back.
TEST(E2eAdmissionCommitted, CommittedGrantsRuleTheCommitteeAndOnlyTheIssuerCommitsThem) {
  const std::string root = TempDir("committed");
  Up up;
  up.Start(root + "/run", 5,
           {"--set", "consensus.enabled=true", "--set", "consensus.epoch_settle_ms=1500", "--set",
            "membership.probe_interval_ms=500", "--set", "membership.probe_timeout_ms=300"},
           4);
  const std::string dir = up.dir;
  ASSERT_TRUE(Eventually(90, [&] {
    for (int i = 0; i < 4; ++i) {
      const json c = ConsensusOf(up.http(i));
      if (c.value("state", "") != "running") return false;
      if (MemberIds(Status(up.http(i))).size() != 5) return false;
    }
    return true;
  })) << ConsensusOf(up.http(0)).dump() << up.log(0);
  const std::string outsider = FullPeerId(Status(up.http(0)), up.id(4));
  ASSERT_EQ(outsider.size(), 64u) << Status(up.http(0)).dump();
  auto commit = [&](const std::string& key, const std::vector<std::string>& grants,
                    const std::vector<std::string>& revoke = {}) {
    std::vector<std::string> args = {"admission", "commit", "--issuer", key, "--peer", up.grpc(0), "--peer",
                                     up.grpc(1), "--timeout-ms", "30000"};
    for (const auto& r : revoke) {
      args.push_back("--revoke");
      args.push_back(r);
    }
    for (const auto& g : grants) {
      args.push_back("--grant");
      args.push_back(g);
    }
    return Swarm(args, 60);
  };
  std::vector<std::string> grants = {dir + "/admission/operator.grant"};
  for (int i = 0; i < 4; ++i) grants.push_back(dir + "/n" + std::to_string(i) + "/admission.grant");
  // A committee member's key is not an issuer: the tool will not put the
  // issuer's grants under it, and a record it signs anyway (a revocation) is
  // refused by every replica.
  RunResult mixed = commit(dir + "/n0/node.key", grants);
  EXPECT_NE(mixed.exit_code, 0) << mixed.out;
  EXPECT_TRUE(Has(mixed.err, "is not --issuer")) << mixed.err;
  RunResult forged = commit(dir + "/n0/node.key", {}, {FullPeerId(Status(up.http(0)), up.id(1))});
  EXPECT_NE(forged.exit_code, 0) << forged.out;
  EXPECT_TRUE(Has(forged.err, "not a trusted issuer")) << forged.err;
  EXPECT_EQ(ConsensusOf(up.http(0))["epochs"]["admission"].value("version", 0), 0);
  // The issuer commits every grant but n4's.
  RunResult v1 = commit(dir + "/admission/issuer.key", grants);
  ASSERT_EQ(v1.exit_code, 0) << v1.out << v1.err;
  EXPECT_TRUE(Has(v1.out, "committed epoch.admission version 1")) << v1.out;
  ASSERT_TRUE(Eventually(30, [&] {
    for (int i = 0; i < 4; ++i) {
      const json s = Status(up.http(i));
      if (MemberIds(s).count(outsider) || Refused(s)[outsider] != "not_committed") return false;
    }
    return true;
  })) << Status(up.http(0)).dump();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(ConsensusOf(up.http(i))["epochs"]["admission"].value("grants", 0), 5) << i;
    EXPECT_TRUE(Has(up.log(i), "acting on epoch.admission version 1")) << up.log(i);
  }
  // n4 keeps calling (membership): refused not_admitted at the members' guards.
  EXPECT_TRUE(Eventually(20, [&] {
    double n = 0;
    for (int i = 0; i < 4; ++i) n += Sum(up.http(i), "swarm_rejected_calls_total", {"reason=\"not_admitted\""});
    return n >= 1;
  }));
  // Committing its grant (version 2) brings it back.
  RunResult v2 = commit(dir + "/admission/issuer.key", {dir + "/n4/admission.grant"});
  ASSERT_EQ(v2.exit_code, 0) << v2.out << v2.err;
  EXPECT_TRUE(Has(v2.out, "committed epoch.admission version 2 at ledger index")) << v2.out;
  EXPECT_TRUE(Has(v2.out, ": 6 grant(s), 0 revoked")) << v2.out;
  EXPECT_TRUE(Eventually(60, [&] {
    for (int i = 0; i < 4; ++i) {
      if (!MemberIds(Status(up.http(i))).count(outsider)) return false;
    }
    return true;
  })) << Status(up.http(0)).dump();
}

}  // namespace
}  // namespace swarm::e2e
