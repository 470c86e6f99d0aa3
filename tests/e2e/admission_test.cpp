// End-to-end: `swarm admission` (issuer keys, issuing, showing/verifying grants),
// `swarm node` refusing to start on a bad own grant (field named, exit 2), and
// `swarm up` issuing a grant to every peer it starts.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/process.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class E2eAdmission : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("admission");
    Ok({"admission", "issuer-keygen", "--out", dir_ + "/issuer"});
    Ok({"admission", "issuer-keygen", "--out", dir_ + "/other"});
    Ok({"keygen", "--out", dir_ + "/peer.key"});
    Ok({"keygen", "--out", dir_ + "/stranger.key"});
    Ok({"admission", "pubkey", "--key", dir_ + "/peer.key", "--out", dir_ + "/peer.pub"});
  }
  RunResult Run(std::vector<std::string> args, double timeout_s = 60) {
    args.insert(args.begin(), SwarmBinary());
    return RunSwarm(args, timeout_s);
  }
  RunResult Ok(std::vector<std::string> args) {
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.out << r.err;
    return r;
  }
  // `swarm admission issue` for peer.pub; `extra` flag/value pairs replace or add to the defaults.
  RunResult Issue(const std::string& out, std::vector<std::string> extra = {}) {
    std::map<std::string, std::string> flags = {{"--issuer", dir_ + "/issuer/issuer.key"},
                                                {"--peer-pub", dir_ + "/peer.pub"},
                                                {"--swarm", "prod"},
                                                {"--roles", "expert_host,observer"},
                                                {"--operator", "alice"},
                                                {"--out", dir_ + "/" + out}};
    for (size_t i = 0; i + 1 < extra.size(); i += 2) flags[extra[i]] = extra[i + 1];
    std::vector<std::string> a = {"admission", "issue"};
    for (const auto& [k, v] : flags) {
      a.push_back(k);
      a.push_back(v);
    }
    return Run(a);
  }
  std::string dir_;
};

TEST_F(E2eAdmission, IssueShowAndVerify) {
  RunResult issued = Issue("peer.grant", {"--capacity", "2", "--region", "eu", "--address", "127.0.0.1:7001"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  EXPECT_TRUE(Has(issued.out, "roles:      expert_host,observer")) << issued.out;

  RunResult show = Run({"admission", "show", dir_ + "/peer.grant", "--issuer-pub", dir_ + "/issuer/issuer.pub"});
  EXPECT_EQ(show.exit_code, 0) << show.out << show.err;
  for (const char* s : {"swarm:      prod", "capacity:   2", "operator:   alice", "region:     eu",
                        "address:    127.0.0.1:7001", "verified:   yes"}) {
    EXPECT_TRUE(Has(show.out, s)) << s << "\n" << show.out;
  }
  // Without --issuer-pub nothing is claimed about the signature.
  RunResult unchecked = Run({"admission", "show", dir_ + "/peer.grant"});
  EXPECT_EQ(unchecked.exit_code, 0);
  EXPECT_TRUE(Has(unchecked.out, "not checked")) << unchecked.out;

  RunResult wrong_issuer =
      Run({"admission", "show", dir_ + "/peer.grant", "--issuer-pub", dir_ + "/other/issuer.pub"});
  EXPECT_EQ(wrong_issuer.exit_code, 1);
  EXPECT_TRUE(Has(wrong_issuer.out, "verified:   NO — not_admitted: grant field 'issuer'")) << wrong_issuer.out;
  RunResult wrong_swarm = Run({"admission", "show", dir_ + "/peer.grant", "--issuer-pub",
                               dir_ + "/issuer/issuer.pub", "--swarm", "staging"});
  EXPECT_EQ(wrong_swarm.exit_code, 1);
  EXPECT_TRUE(Has(wrong_swarm.out, "'prod' is not this swarm ('staging')")) << wrong_swarm.out;

  // A file that is not a grant.
  std::ofstream(dir_ + "/junk.grant") << "junk";
  RunResult junk = Run({"admission", "show", dir_ + "/junk.grant"});
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_TRUE(Has(junk.err, "junk.grant")) << junk.err;
  EXPECT_TRUE(Has(junk.err, "'magic'")) << junk.err;
}

TEST_F(E2eAdmission, BadIssueFlagsAreNamed) {
  struct Case {
    std::vector<std::string> extra;
    const char* named;
  };
  const std::vector<Case> cases = {
      {{"--roles", "trainer,wizard"}, "'wizard'"},
      {{"--capacity", "100"}, "grant field 'capacity': 100"},
      {{"--address", "no-port"}, "grant field 'address': 'no-port'"},
      {{"--ttl", "3 weeks"}, "--ttl '3 weeks'"},
      {{"--swarm", "has space"}, "grant field 'swarm_id': 'has space'"},
  };
  for (const Case& c : cases) {
    RunResult r = Issue("bad.grant", c.extra);
    EXPECT_EQ(r.exit_code, 2) << c.named << ": " << r.out << r.err;
    EXPECT_TRUE(Has(r.err, c.named)) << c.named << "\n" << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/bad.grant")) << c.named;
  }
  RunResult both = Issue("bad.grant", {"--peer-key", dir_ + "/peer.key"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_TRUE(Has(both.err, "exactly one of --peer-key and --peer-pub")) << both.err;
}

TEST_F(E2eAdmission, NodeRefusesToStartWithABadGrant) {
  auto node = [&](const std::string& key, const std::string& grant, const std::string& swarm) {
    const int port = FreePort();
    return Run({"node", "--grpc-listen", "127.0.0.1:" + std::to_string(port), "--http-listen", "127.0.0.1:0",
                "--set", "membership.enabled=false", "--set", "node.key_file=" + key, "--set",
                "admission.swarm_id=" + swarm, "--set",
                "admission.issuer_key_files=[\"" + dir_ + "/issuer/issuer.pub\"]", "--set",
                "admission.grant_file=" + grant},
               30);
  };
  ASSERT_EQ(Issue("peer.grant").exit_code, 0);
  RunResult other_key = node(dir_ + "/stranger.key", dir_ + "/peer.grant", "prod");
  EXPECT_EQ(other_key.exit_code, 2) << other_key.err;
  EXPECT_TRUE(Has(other_key.err, "admission.grant_file")) << other_key.err;
  EXPECT_TRUE(Has(other_key.err, "grant field 'subject'")) << other_key.err;

  RunResult other_swarm = node(dir_ + "/peer.key", dir_ + "/peer.grant", "staging");
  EXPECT_EQ(other_swarm.exit_code, 2) << other_swarm.err;
  EXPECT_TRUE(Has(other_swarm.err, "grant field 'swarm_id'")) << other_swarm.err;

  // Signed by an issuer this peer does not trust.
  RunResult foreign = Run({"admission", "issue", "--issuer", dir_ + "/other/issuer.key", "--peer-key",
                           dir_ + "/peer.key", "--swarm", "prod", "--roles", "trainer", "--operator", "bob",
                           "--out", dir_ + "/foreign.grant"});
  ASSERT_EQ(foreign.exit_code, 0) << foreign.err;
  RunResult unknown = node(dir_ + "/peer.key", dir_ + "/foreign.grant", "prod");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_TRUE(Has(unknown.err, "grant field 'issuer'")) << unknown.err;

  ASSERT_EQ(Issue("short.grant", {"--ttl", "1s"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  RunResult expired = node(dir_ + "/peer.key", dir_ + "/short.grant", "prod");
  EXPECT_EQ(expired.exit_code, 2) << expired.err;
  EXPECT_TRUE(Has(expired.err, "expired: grant of")) << expired.err;

  std::ofstream(dir_ + "/junk.grant") << "junk";
  RunResult junk = node(dir_ + "/peer.key", dir_ + "/junk.grant", "prod");
  EXPECT_EQ(junk.exit_code, 2) << junk.err;
  EXPECT_TRUE(Has(junk.err, "'magic'")) << junk.err;
}

TEST(E2eAdmissionUp, SwarmUpIssuesAGrantToEveryPeer) {
  const std::string dir = TempDir("admission_up");
  pid_t up = -1;
  json nodes;
  for (int attempt = 0; attempt < 5 && nodes.empty(); ++attempt) {
    const int base = FreePort();
    UseRunCredentials(dir);  // the tools below sign with this run's operator grant
    up = Spawn({SwarmBinary(), "up", "--nodes", "2", "--base-port", std::to_string(base), "--dir", dir,
                "--log-level", "warn", "--node-set", "1:evo.evaluator=true"},
               dir + "/up.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(dir + "/cluster.json");
      if (in) {
        nodes = json::parse(in)["nodes"];
        break;
      }
      if (WaitFor(up, 0.1) != -1) break;  // up exited: port clash; retry
    }
  }
  ASSERT_EQ(nodes.size(), 2u) << ReadFile(dir + "/up.log");
  const std::string log = ReadFile(dir + "/up.log");
  EXPECT_TRUE(Has(log, "admission: issued 2 peer grant(s) for swarm local-")) << log;
  std::string swarm_id;
  for (int i = 0; i < 2; ++i) {
    auto [code, body] = HttpGet(nodes[i]["http"], "/api/status");
    ASSERT_EQ(code, 200);
    const json s = json::parse(body);
    ASSERT_TRUE(s.contains("admission")) << body;
    const json& a = s["admission"];
    EXPECT_EQ(a["mode"], "granted") << a.dump();
    EXPECT_EQ(a["grant"]["operator"], "local-n" + std::to_string(i)) << a.dump();  // one operator per peer
    EXPECT_EQ(a["grant"]["address"], nodes[i]["grpc"]) << a.dump();
    EXPECT_EQ(a["grant"]["roles"], i == 1 ? "evaluator,observer" : "observer") << a.dump();
    if (i == 0) swarm_id = a["swarm_id"];
    EXPECT_EQ(a["swarm_id"], swarm_id);
    EXPECT_TRUE(std::filesystem::exists(dir + "/n" + std::to_string(i) + "/admission.grant"));
  }
  // The grants verify against the run's issuer with `swarm admission show`.
  RunResult show = RunSwarm({SwarmBinary(), "admission", "show", dir + "/n1/admission.grant", "--issuer-pub",
                             dir + "/admission/issuer.pub"});
  EXPECT_EQ(show.exit_code, 0) << show.out << show.err;
  EXPECT_TRUE(Has(show.out, "verified:   yes")) << show.out;
  ASSERT_EQ(kill(up, SIGTERM), 0);
  const int status = WaitFor(up, 30);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace swarm::e2e
