// Unit tests of the SWIM state machine: message rules, incarnation
// precedence, suspicion timeouts, rejections, join/leave, and small
// deterministic simulated clusters.
#include <gtest/gtest.h>

#include "membership/sim_cluster.h"
#include "membership/swim.h"

namespace swarm::membership {
namespace {

MetadataPtr Meta(const std::string& region = "r0") {
  auto m = std::make_shared<Metadata>();
  m->region = region;
  return m;
}

std::unique_ptr<Swim> Peer(MemberId self, uint32_t n, Config cfg = {}) {
  auto s = std::make_unique<Swim>(self, Metadata{}, cfg, 100 + self);
  for (MemberId j = 0; j < n; ++j)
    if (j != self) s->AddKnownMember(j, Meta());
  return s;
}

const Outgoing* Find(const std::vector<Outgoing>& out, MessageType t) {
  for (const auto& o : out)
    if (o.msg.type == t) return &o;
  return nullptr;
}

TEST(Swim, PingIsAnsweredWithAck) {
  auto s = Peer(0, 5);
  Message ping;
  ping.type = MessageType::kPing;
  ping.seq = 42;
  ping.target = 0;
  s->OnMessage(3, ping, Seconds(1));
  auto out = s->TakeOutbox();
  const Outgoing* ack = Find(out, MessageType::kAck);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->to, 3u);
  EXPECT_EQ(ack->msg.seq, 42u);
}

TEST(Swim, SuspicionAboutSelfIsRefutedWithHigherIncarnation) {
  auto s = Peer(0, 5);
  Message g;
  g.type = MessageType::kGossip;
  g.updates.push_back(Update{MemberState::kSuspect, 0, 0, 2, nullptr});
  s->OnMessage(2, g, Seconds(1));
  EXPECT_EQ(s->incarnation(), 1u);
  EXPECT_EQ(s->counters().refutations, 1u);
  s->OnTick(Seconds(1));  // gossip round carries the refutation
  bool refuted = false;
  for (const auto& o : s->TakeOutbox())
    for (const auto& u : o.msg.updates)
      if (u.member == 0 && u.state == MemberState::kAlive && u.incarnation == 1) refuted = true;
  EXPECT_TRUE(refuted);
  // A dead claim at a higher incarnation is refuted above it.
  g.updates[0] = Update{MemberState::kDead, 0, 7, 2, nullptr};
  s->OnMessage(2, g, Seconds(2));
  EXPECT_EQ(s->incarnation(), 8u);
}

TEST(Swim, ForgedIncarnationJumpsAreIgnored) {
  auto s = Peer(0, 5);
  Message g;
  g.type = MessageType::kGossip;
  g.updates = {Update{MemberState::kDead, 0, 4294967295u, 2, nullptr}};
  s->OnMessage(2, g, Seconds(1));
  g.updates = {Update{MemberState::kAlive, 3, 3000000000u, 3, Meta()}};
  s->OnMessage(2, g, Seconds(1));
  EXPECT_EQ(s->incarnation(), 0u);
  EXPECT_EQ(s->Get(3)->incarnation, 0u);
  EXPECT_EQ(s->counters().rejected.at("incarnation_jump"), 2u);
  // A restarted peer's old incarnation (a small jump) is still refuted above.
  g.updates = {Update{MemberState::kDead, 0, 40, 2, nullptr}};
  s->OnMessage(2, g, Seconds(2));
  EXPECT_EQ(s->incarnation(), 41u);
}

TEST(Swim, IncarnationPrecedence) {
  auto s = Peer(0, 5);
  Message g;
  g.type = MessageType::kGossip;
  auto send = [&](Update u) {
    g.updates = {u};
    s->OnMessage(4, g, Seconds(1));
  };
  send(Update{MemberState::kSuspect, 1, 0, 4, nullptr});
  EXPECT_EQ(s->StateOf(1), MemberState::kSuspect);
  send(Update{MemberState::kAlive, 1, 0, 1, Meta()});  // same incarnation: ignored
  EXPECT_EQ(s->StateOf(1), MemberState::kSuspect);
  send(Update{MemberState::kAlive, 1, 1, 1, Meta()});  // refutation
  EXPECT_EQ(s->StateOf(1), MemberState::kAlive);
  send(Update{MemberState::kSuspect, 1, 0, 4, nullptr});  // stale suspicion
  EXPECT_EQ(s->StateOf(1), MemberState::kAlive);
  send(Update{MemberState::kDead, 1, 1, 4, nullptr});
  EXPECT_EQ(s->StateOf(1), MemberState::kDead);
  send(Update{MemberState::kSuspect, 1, 5, 4, nullptr});  // dead is not undone by suspect
  EXPECT_EQ(s->StateOf(1), MemberState::kDead);
  send(Update{MemberState::kAlive, 1, 2, 1, Meta("r9")});  // rejoin with higher incarnation
  EXPECT_EQ(s->StateOf(1), MemberState::kAlive);
  EXPECT_EQ(s->Get(1)->meta->region, "r9");
  send(Update{MemberState::kLeft, 1, 2, 1, nullptr});
  EXPECT_EQ(s->StateOf(1), MemberState::kLeft);
  send(Update{MemberState::kAlive, 9, 0, 9, Meta()});  // unknown member learned
  EXPECT_EQ(s->StateOf(9), MemberState::kAlive);
  send(Update{MemberState::kDead, 12, 0, 9, nullptr});  // unknown + dead: ignored
  EXPECT_FALSE(s->StateOf(12).has_value());
}

Nanos TimeToDeath(uint32_t confirmations, bool lifeguard) {
  Config cfg;
  cfg.lifeguard = lifeguard;
  cfg.rate_limit = false;
  auto s = Peer(0, 100, cfg);
  Message g;
  g.type = MessageType::kGossip;
  g.updates = {Update{MemberState::kSuspect, 5, 0, 1, nullptr}};
  s->OnMessage(1, g, 0);
  for (uint32_t c = 0; c < confirmations; ++c) {
    g.updates = {Update{MemberState::kSuspect, 5, 0, 10 + c, nullptr}};
    s->OnMessage(10 + c, g, 0);
  }
  for (Nanos t = 0; t < Seconds(600); t += Millis(100)) {
    s->OnTick(t);
    s->TakeOutbox();
    if (s->StateOf(5) == MemberState::kDead) return t;
  }
  return -1;
}

TEST(Swim, SuspicionTimeoutScalesAndShrinksWithConfirmations) {
  // n = 100: min = 4·log10(100)·1 s = 8 s; max = 6·min = 48 s; K = 3.
  const Nanos none = TimeToDeath(0, true);
  const Nanos one = TimeToDeath(1, true);
  const Nanos all = TimeToDeath(3, true);
  const Nanos fixed = TimeToDeath(0, false);
  EXPECT_NEAR(ToSeconds(none), 48.0, 0.2);
  EXPECT_NEAR(ToSeconds(all), 8.0, 0.2);
  EXPECT_LT(one, none);
  EXPECT_GT(one, all);
  EXPECT_NEAR(ToSeconds(fixed), 8.0, 0.2);
}

TEST(Swim, RejectsBadMessagesAndCountsReasons) {
  Config cfg;
  cfg.peer_messages_burst = 5;
  cfg.peer_messages_per_second_max = 1;
  auto s = Peer(0, 5, cfg);
  Message ping;
  ping.type = MessageType::kPing;
  ping.target = 3;  // not us
  s->OnMessage(1, ping, 0);
  s->OnMessage(0, Message{}, 0);
  Message g;
  g.type = MessageType::kGossip;
  g.updates.resize(cfg.piggyback_updates_max + 1, Update{MemberState::kDead, 1, 0, 1, nullptr});
  s->OnMessage(1, g, 0);
  g.updates = {Update{MemberState::kAlive, 2, 5, 2, nullptr}};
  s->OnMessage(1, g, 0);
  g.updates = {Update{MemberState::kAlive, cfg.members_max, 5, 2, Meta()}};
  s->OnMessage(1, g, 0);
  Message bad;
  bad.type = static_cast<MessageType>(50);
  s->OnMessage(1, bad, 0);
  for (int i = 0; i < 10; ++i) s->OnMessage(2, Message{}, 0);
  const auto& r = s->counters().rejected;
  EXPECT_EQ(r.at("ping_target_mismatch"), 1u);
  EXPECT_EQ(r.at("from_self"), 1u);
  EXPECT_EQ(r.at("too_many_updates"), 1u);
  EXPECT_EQ(r.at("alive_without_metadata"), 1u);
  EXPECT_EQ(r.at("member_out_of_range"), 1u);
  EXPECT_EQ(r.at("bad_type"), 1u);
  EXPECT_EQ(r.at("rate_limited"), 5u);
  EXPECT_EQ(s->StateOf(1), MemberState::kAlive) << "rejected updates must not apply";
  // Tokens come back with time.
  s->OnMessage(2, Message{}, Seconds(3));
  EXPECT_EQ(r.at("rate_limited"), 5u);
}

TEST(Swim, JoinErrors) {
  Swim s(0, Metadata{}, Config{}, 1);
  std::vector<MemberId> none;
  Status st = s.Join(none, 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  std::vector<MemberId> only_self = {0};
  EXPECT_EQ(s.Join(only_self, 0).code(), absl::StatusCode::kInvalidArgument);
  std::vector<MemberId> seeds = {4, 7};
  ASSERT_TRUE(s.Join(seeds, 0).ok());
  EXPECT_EQ(s.JoinStatus().code(), absl::StatusCode::kUnavailable);
  int syncs = 0;
  for (Nanos t = 0; t <= Seconds(11); t = std::max(t + Millis(1), s.NextDeadline())) {
    s.OnTick(t);
    for (auto& o : s.TakeOutbox()) syncs += o.msg.type == MessageType::kSync;
  }
  EXPECT_EQ(s.JoinStatus().code(), absl::StatusCode::kDeadlineExceeded) << s.JoinStatus();
  EXPECT_NE(s.JoinStatus().message().find("join_timeout=10s"), std::string::npos) << s.JoinStatus();
  EXPECT_GE(syncs, 2 * 10);  // retried to both seeds every second
}

TEST(Swim, ConfigValidateNamesField) {
  Config c;
  c.fanout_min = 9;
  c.fanout_max = 3;
  Status st = c.Validate();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("fanout_min=9"), std::string::npos) << st;
  c = Config{};
  c.probe_timeout = Seconds(2);
  EXPECT_NE(c.Validate().message().find("probe_timeout_ns"), std::string::npos);
  EXPECT_TRUE(Config{}.Validate().ok());
}

TEST(SimCluster, JoinThroughSeedAndLeave) {
  ClusterOptions o;
  o.nodes = 20;
  o.seed = 7;
  o.bootstrap_full = false;
  SimCluster c(o);
  for (uint32_t i = 1; i < o.nodes; ++i) {
    std::vector<MemberId> seeds = {0};
    ASSERT_TRUE(c.StartJoin(i, seeds).ok());
  }
  c.RunUntil(Seconds(20));
  for (uint32_t i = 0; i < o.nodes; ++i) {
    EXPECT_TRUE(c.node(i)->JoinStatus().ok()) << i;
    EXPECT_EQ(c.node(i)->Count(MemberState::kAlive), o.nodes) << "peer " << i << " seed " << o.seed;
  }
  c.node(5)->Leave(c.now());
  c.RunUntil(Seconds(30));
  EXPECT_TRUE(c.node(5)->LeaveDone(c.now()));
  for (uint32_t i = 0; i < o.nodes; ++i)
    if (i != 5) {
      EXPECT_EQ(c.node(i)->StateOf(5), MemberState::kLeft) << i;
    }
}

TEST(SimCluster, CrashedPeerDeclaredDeadThenRejoinsWithHigherIncarnation) {
  ClusterOptions o;
  o.nodes = 30;
  o.seed = 11;
  SimCluster c(o);
  c.sim().Crash(3, Seconds(2));
  c.RunUntil(Seconds(70));
  for (uint32_t i = 0; i < o.nodes; ++i)
    if (i != 3) {
      EXPECT_EQ(c.node(i)->StateOf(3), MemberState::kDead) << i;
    }
  c.sim().Restart(3, Seconds(71));
  c.RunUntil(Seconds(90));
  ASSERT_TRUE(c.up(3));
  EXPECT_GT(c.node(3)->incarnation(), 0u);
  for (uint32_t i = 0; i < o.nodes; ++i) {
    auto v = c.node(i)->Get(3);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->state, MemberState::kAlive) << i;
    EXPECT_EQ(v->incarnation, c.node(3)->incarnation()) << i;
  }
}

TEST(SimCluster, SameSeedReplaysExactly) {
  auto run = [](uint64_t seed) {
    ClusterOptions o;
    o.nodes = 50;
    o.seed = seed;
    o.link.loss = 0.05;
    o.link.duplicate = 0.01;
    o.link.reorder = 0.05;
    SimCluster c(o);
    c.sim().Crash(9, Seconds(3));
    c.RunUntil(Seconds(40));
    const auto t = c.TotalCounters();
    return std::vector<uint64_t>{c.sim().stats().events, c.sim().stats().dropped_loss, t.messages_sent,
                                 t.suspicions, t.refutations, t.deaths, t.updates_sent};
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(SimCluster, ByzantineForgedDeathsAreRefuted) {
  // Peer 0 rewrites every message it sends to claim some random peer is dead.
  ClusterOptions o;
  o.nodes = 40;
  o.seed = 3;
  SimCluster c(o);
  uint64_t forged = 0;
  c.sim().SetByzantine(0, [&](sim::NodeId, sim::NodeId&, Message& m) {
    const MemberId victim = 1 + static_cast<MemberId>(forged++ % 39);
    m.updates.push_back(Update{MemberState::kDead, victim, 0, 0, nullptr});
    return sim::Simulator<Message>::HookAction::kDeliver;
  });
  c.RunUntil(Seconds(30));
  c.sim().SetByzantine(0, nullptr);
  c.RunUntil(Seconds(60));
  EXPECT_GT(forged, 0u);
  EXPECT_GT(c.TotalCounters().refutations, 0u);
  for (uint32_t i = 0; i < o.nodes; ++i)
    EXPECT_EQ(c.node(i)->Count(MemberState::kAlive), o.nodes) << "peer " << i;
}

TEST(SimCluster, FloodingPeerIsRateLimited) {
  // Peer 0 is forged to send 2,000 gossip messages per second to peer 1.
  ClusterOptions o;
  o.nodes = 20;
  o.seed = 13;
  SimCluster c(o);
  for (int i = 0; i < 20000; ++i) {
    c.sim().At(Seconds(1) + i * Millis(1) / 2, [&c] {
      Message m;
      m.type = MessageType::kGossip;
      c.sim().Inject(0, 1, std::move(m));
    });
  }
  c.RunUntil(Seconds(30));
  const auto& r = c.node(1)->counters().rejected;
  ASSERT_TRUE(r.count("rate_limited"));
  // 10 s of flood at 2,000/s against 50/s + burst 100: almost all rejected.
  EXPECT_GT(r.at("rate_limited"), 19000u);
  for (uint32_t i = 0; i < o.nodes; ++i)
    EXPECT_EQ(c.node(i)->Count(MemberState::kAlive), o.nodes) << "peer " << i << " seed " << o.seed;
}

}  // namespace
}  // namespace swarm::membership
