// End-to-end red team (issue 14): an outsider with valid keys — a fresh
// ML-DSA identity that signs every envelope it sends, but holds no place in
// the swarm — attacks the membership of a `swarm up` cluster with the
// project's own wire format (signed envelope, membership codec):
//   1. eviction with two envelopes: "you are suspect at incarnation 65536" to
//      the victim, "victim dead at incarnation 0" to another peer;
//   2. ghost announcement: alive records of three members that never signed;
//   3. cross-peer replay: a message naming the victim as recipient, sent to
//      another peer;
//   4. name hijack: the victim's name in the payload of the outsider's envelope;
//   5. an oversized membership message (1.1 MiB).
// Each must be refused and counted in swarm_rejected_messages_total{reason}
// on the peer that got it, and every view must stay as it was: the same four
// members, all alive, the victim at the same incarnation (no refutation was
// even needed), no ghost.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "crypto/identity.h"
#include "e2e/process.h"
#include "membership/codec.h"
#include "net/dial.h"
#include "net/envelope.h"
#include "swarm/v1/transport.grpc.pb.h"

namespace swarm::e2e {
namespace {

using nlohmann::json;
using membership::MemberState;

json StatusOf(const std::string& grpc) {
  RunResult r = RunSwarm({SwarmBinary(), "status", "--peer", grpc, "--json", "--retries", "0"}, 10);
  if (r.exit_code != 0) return json();
  return json::parse(r.out, nullptr, false);
}

// peer_id -> (state, incarnation) in one peer's view.
std::map<std::string, std::pair<std::string, uint64_t>> View(const json& s) {
  std::map<std::string, std::pair<std::string, uint64_t>> v;
  if (!s.is_object() || !s.contains("members")) return v;
  for (const auto& m : s["members"]) v[m.value("peer_id", "")] = {m.value("state", ""), m.value("incarnation", 0)};
  return v;
}

double Sum(const std::string& http, const std::string& metric, const std::string& label_part) {
  auto [code, body] = HttpGet(http, "/metrics");
  if (code != 200) return -1;
  double total = 0;
  size_t at = 0;
  while ((at = body.find(metric + "{", at)) != std::string::npos) {
    const size_t end = body.find('\n', at);
    const std::string line = body.substr(at, end - at);
    at = end;
    if (line.find(label_part) == std::string::npos) continue;
    total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}
// Membership-level refusals by reason.
double Rejected(const std::string& http, const std::string& reason) {
  return Sum(http, "swarm_rejected_messages_total", "reason=\"" + reason + "\"");
}
// Refusals of Transport.Deliver by the RPC guard (when the swarm enforces
// admission the outsider never gets past it).
double GuardRefused(const std::string& http) {
  return Sum(http, "swarm_rejected_calls_total", "service=\"Transport\"");
}

class Outsider {
 public:
  Outsider()
      : identity_(std::make_shared<const crypto::Identity>(crypto::Identity::Generate().value())),
        sealer_(*identity_) {
    name_ = ToHex(ByteSpan(identity_->peer_id()));
  }
  const std::string& name() const { return name_; }
  membership::PeerDirectory& dir() { return dir_; }
  membership::MemberId Id(const std::string& name) { return dir_.Intern(name).value(); }
  // A claim or record "signed" by the outsider (it can sign only as itself).
  membership::Update Signed(membership::Update u) {
    auto bytes = membership::RecordBytes(u, dir_, "");
    u.signature = std::make_shared<const Bytes>(identity_->Sign(*bytes).value());
    return u;
  }
  // Sends one membership payload in an envelope the outsider signs.
  bool Send(const std::string& address, const std::string& payload_name, const Bytes& codec_bytes) {
    Bytes payload;
    payload.push_back(static_cast<uint8_t>(payload_name.size()));
    payload.insert(payload.end(), payload_name.begin(), payload_name.end());
    payload.insert(payload.end(), codec_bytes.begin(), codec_bytes.end());
    auto sealed = sealer_.Seal("membership", payload);
    if (!sealed.ok()) return false;
    // Dialed like any peer: every call signed with the outsider's own key
    // (it holds no grant).
    net::DialOptions options;
    options.identity = identity_;
    options.net.message_size_bytes_max = 8 << 20;
    auto channel = net::Dial(address, options);
    if (!channel.ok()) return false;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    swarm::v1::DeliverRequest req;
    swarm::v1::DeliverReply reply;
    req.set_envelope(sealed->data(), sealed->size());
    const grpc::Status st = swarm::v1::Transport::NewStub(*channel)->Deliver(&ctx, req, &reply);
    // OK (the envelope was taken and the membership driver refuses it) or the
    // RPC guard's refusal when the swarm enforces admission; never a transport error.
    return st.ok() || st.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
           st.error_code() == grpc::StatusCode::UNAUTHENTICATED;
  }
  Bytes Encode(const membership::Message& m) { return membership::Encode(m, dir_).value(); }

 private:
  std::shared_ptr<const crypto::Identity> identity_;
  net::EnvelopeSealer sealer_;
  std::string name_;
  membership::PeerDirectory dir_;
};

TEST(E2eMembershipAttack, OutsiderEvictionGhostsReplaysAndHijacksAreRefusedCountedAndChangeNoView) {
  const std::string dir = TempDir("member-attack");
  json nodes;
  pid_t up = -1;
  for (int attempt = 0; attempt < 5 && nodes.empty(); ++attempt) {
    UseRunCredentials(dir);  // the tools below sign with this run's operator grant
    up = Spawn({SwarmBinary(), "up", "--nodes", "4", "--base-port", std::to_string(FreePort()), "--dir", dir,
                "--log-level", "warn", "--set", "membership.probe_interval_ms=500", "--set",
                "membership.probe_timeout_ms=200"},
               dir + "/up.log");
    Eventually(60, [&] {
      std::ifstream in(dir + "/cluster.json");
      if (in) nodes = json::parse(in)["nodes"];
      return !nodes.empty() || WaitFor(up, 0.05) != -1;
    });
  }
  ASSERT_EQ(nodes.size(), 4u) << ReadFile(dir + "/up.log");
  struct StopUp {
    pid_t pid;
    ~StopUp() {
      if (pid > 0) {
        kill(pid, SIGTERM);
        WaitFor(pid, 20);
      }
    }
  } stop{up};

  std::vector<json> status(4);
  ASSERT_TRUE(Eventually(30, [&] {
    for (int i = 0; i < 4; ++i) {
      status[i] = StatusOf(nodes[i]["grpc"]);
      auto v = View(status[i]);
      if (v.size() != 4) return false;
      for (const auto& [id, st] : v)
        if (st.first != "alive") return false;
    }
    return true;
  })) << "4 peers did not all see each other alive";
  // Peer ids and addresses from peer 0's view; victim = peer 1, other = peer 2.
  std::map<std::string, std::string> id_of;  // address -> full peer id
  for (const auto& m : status[0]["members"]) id_of[m["address"]] = m["peer_id"];
  const std::string victim_addr = nodes[1]["grpc"], other_addr = nodes[2]["grpc"];
  const std::string victim = id_of[victim_addr], other = id_of[other_addr];
  ASSERT_EQ(victim.size(), 64u);
  ASSERT_EQ(other.size(), 64u);
  std::vector<std::map<std::string, std::pair<std::string, uint64_t>>> before;
  for (int i = 0; i < 4; ++i) before.push_back(View(StatusOf(nodes[i]["grpc"])));

  const std::string victim_http = nodes[1]["http"], other_http = nodes[2]["http"];
  const double victim_unadmitted0 = Rejected(victim_http, "unadmitted");
  std::map<std::string, double> other0;
  for (const char* r : {"unadmitted", "wrong_recipient", "name_hijack", "oversized"})
    other0[r] = Rejected(other_http, r);
  const double victim_guard0 = GuardRefused(victim_http), other_guard0 = GuardRefused(other_http);

  Outsider o;
  const auto self = o.Id(o.name()), v = o.Id(victim), w = o.Id(other);
  auto gossip = [&](membership::MemberId to, std::vector<membership::Update> ups) {
    membership::Message m;
    m.type = membership::MessageType::kGossip;
    m.recipient = to;
    m.target = to;
    m.updates = std::move(ups);
    return o.Encode(m);
  };
  // 1. Two envelopes.
  EXPECT_TRUE(o.Send(victim_addr, o.name(),
                     gossip(v, {o.Signed({MemberState::kSuspect, v, 65536, self, nullptr, nullptr, nullptr})})));
  EXPECT_TRUE(o.Send(other_addr, o.name(),
                     gossip(w, {o.Signed({MemberState::kDead, v, 0, self, nullptr, nullptr, nullptr})})));
  // 2. Ghosts: alive records of members that never signed anything.
  std::vector<membership::Update> ghosts;
  for (int g = 0; g < 3; ++g) {
    const auto gid = o.Id(std::string(63, 'a') + std::to_string(g));
    auto meta = std::make_shared<membership::Metadata>();
    meta->address = "127.0.0.1:1";
    ghosts.push_back(o.Signed({MemberState::kAlive, gid, 0, gid, meta,
                               std::make_shared<const Bytes>(Bytes{1, 2, 3}), nullptr}));
  }
  EXPECT_TRUE(o.Send(other_addr, o.name(), gossip(w, ghosts)));
  // 3. A message for the victim, delivered to another peer.
  EXPECT_TRUE(o.Send(other_addr, o.name(), gossip(v, {})));
  // 4. The victim's name in the outsider's envelope.
  EXPECT_TRUE(o.Send(other_addr, victim, gossip(w, {})));
  // 5. Oversized.
  EXPECT_TRUE(o.Send(other_addr, o.name(), Bytes(1100 * 1024, 0x0a)));

  // Refused and counted where they arrived: by the membership rules, or (when
  // the swarm enforces admission) all of them by the RPC guard.
  EXPECT_TRUE(Eventually(10, [&] {
    if (GuardRefused(victim_http) >= victim_guard0 + 1 && GuardRefused(other_http) >= other_guard0 + 5) return true;
    return Rejected(victim_http, "unadmitted") >= victim_unadmitted0 + 1 &&
           Rejected(other_http, "unadmitted") >= other0["unadmitted"] + 2 &&
           Rejected(other_http, "wrong_recipient") >= other0["wrong_recipient"] + 1 &&
           Rejected(other_http, "name_hijack") >= other0["name_hijack"] + 1 &&
           Rejected(other_http, "oversized") >= other0["oversized"] + 1;
  })) << "victim unadmitted " << Rejected(victim_http, "unadmitted") << " (was " << victim_unadmitted0
      << "); other: unadmitted " << Rejected(other_http, "unadmitted") << " wrong_recipient "
      << Rejected(other_http, "wrong_recipient") << " name_hijack " << Rejected(other_http, "name_hijack")
      << " oversized " << Rejected(other_http, "oversized");

  // Views unchanged, past the longest suspicion (6·4·log10(10)·0.5 s = 12 s):
  // the same four members, all alive, at the same incarnations; no ghost, no outsider.
  // (An honest probe on a loaded machine may still cost a refutation or two,
  // so incarnations are held far below the pushed 65536, not equal.)
  std::this_thread::sleep_for(std::chrono::seconds(13));
  for (int i = 0; i < 4; ++i) {
    const auto after = View(StatusOf(nodes[i]["grpc"]));
    ASSERT_EQ(after.size(), before[i].size()) << "view of peer " << i << " changed";
    for (const auto& [id, st] : before[i]) {
      ASSERT_TRUE(after.count(id)) << "peer " << i << " lost member " << id;
      EXPECT_EQ(after.at(id).first, "alive") << "peer " << i << " member " << id;
      EXPECT_LT(after.at(id).second, st.second + 100) << "peer " << i << " member " << id;
    }
    EXPECT_FALSE(after.count(o.name())) << "outsider in the view of peer " << i;
  }
}

}  // namespace
}  // namespace swarm::e2e
