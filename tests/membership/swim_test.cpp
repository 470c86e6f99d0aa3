// Unit tests of the SWIM state machine: message rules, incarnation
// precedence, suspicion timeouts, rejections, join/leave, and small
// deterministic simulated clusters.
#include <gtest/gtest.h>

#include "membership/support/sim_cluster.h"
#include "membership/swim.h"

namespace swarm::membership {
namespace {

// Members 0..99 hold grants; 100+ do not (outsiders with valid keys).
constexpr MemberId kOutsider = 150;

struct World {
  SimAuthority auth{77};
  std::vector<SharedBytes> cred;
  World() {
    for (MemberId i = 0; i < 100; ++i)
      cred.push_back(auth.Issue(i, Admission{1.0f, "r0", "op" + std::to_string(i), "", kRoleExpertHost}));
  }
  // Member m's own signed record.
  Update Rec(MemberId m, uint32_t inc, MemberState st = MemberState::kAlive, MetadataPtr meta = nullptr) {
    if (!meta) meta = std::make_shared<Metadata>();
    Update u{st, m, inc, m, meta, m < 100 ? cred[m] : auth.Bogus(m, 1), nullptr};
    u.signature = auth.SignAs(m, u);
    return u;
  }
  // A claim by `by` about m.
  Update Claim(MemberState st, MemberId m, uint32_t inc, MemberId by) {
    Update u{st, m, inc, by, nullptr, nullptr, nullptr};
    u.signature = auth.SignAs(by, u);
    return u;
  }
  std::unique_ptr<Swim> Peer(MemberId self, uint32_t n, Config cfg = {}) {
    auto s = std::make_unique<Swim>(self, Metadata{}, cred[self], cfg, 100 + self, &auth);
    for (MemberId j = 0; j < n; ++j)
      if (j != self) {
        EXPECT_TRUE(s->AddKnownMember(Rec(j, 0)).ok());
      }
    return s;
  }
};

Message Gossip(MemberId to, std::vector<Update> updates) {
  Message g;
  g.type = MessageType::kGossip;
  g.recipient = to;
  g.updates = std::move(updates);
  return g;
}

const Outgoing* Find(const std::vector<Outgoing>& out, MessageType t) {
  for (const auto& o : out)
    if (o.msg.type == t) return &o;
  return nullptr;
}

uint64_t Rejected(const Swim& s, const std::string& reason) {
  auto it = s.counters().rejected.find(reason);
  return it == s.counters().rejected.end() ? 0 : it->second;
}

TEST(Swim, PingIsAnsweredWithAckNamingTheRecipient) {
  World w;
  auto s = w.Peer(0, 5);
  Message ping;
  ping.type = MessageType::kPing;
  ping.seq = 42;
  ping.target = 0;
  ping.recipient = 0;
  s->OnMessage(3, ping, Seconds(1));
  auto out = s->TakeOutbox();
  const Outgoing* ack = Find(out, MessageType::kAck);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->to, 3u);
  EXPECT_EQ(ack->msg.seq, 42u);
  EXPECT_EQ(ack->msg.recipient, 3u);
}

TEST(Swim, EnvelopeForAnotherPeerIsRefused) {
  World w;
  auto s = w.Peer(0, 5);
  Message ping;
  ping.type = MessageType::kPing;
  ping.target = 0;
  ping.recipient = 4;  // captured on its way to peer 4, replayed here
  s->OnMessage(3, ping, Seconds(1));
  EXPECT_EQ(Rejected(*s, "wrong_recipient"), 1u);
  EXPECT_EQ(Find(s->TakeOutbox(), MessageType::kAck), nullptr);
  // "Any recipient" is only for a join sync to a seed.
  ping.recipient = kAnyRecipient;
  s->OnMessage(3, ping, Seconds(1));
  EXPECT_EQ(Rejected(*s, "wrong_recipient"), 2u);
}

TEST(Swim, SuspicionAboutSelfIsRefutedAtOwnIncarnationPlusOne) {
  World w;
  auto s = w.Peer(0, 5);
  s->OnMessage(2, Gossip(0, {w.Claim(MemberState::kSuspect, 0, 0, 2)}), Seconds(1));
  EXPECT_EQ(s->incarnation(), 1u);
  EXPECT_EQ(s->counters().refutations, 1u);
  s->OnTick(Seconds(1));  // gossip round carries the refutation
  bool refuted = false;
  for (const auto& o : s->TakeOutbox())
    for (const auto& u : o.msg.updates)
      if (u.member == 0 && u.state == MemberState::kAlive && u.incarnation == 1 && w.auth.Verify(u)) refuted = true;
  EXPECT_TRUE(refuted) << "the refutation is signed by the member";
  // A claim far above is refuted at own + 1: a claim never moves an incarnation.
  s->OnMessage(2, Gossip(0, {w.Claim(MemberState::kDead, 0, 65536, 2)}), Seconds(2));
  EXPECT_EQ(s->incarnation(), 2u);
  // A stale claim is ignored.
  s->OnMessage(2, Gossip(0, {w.Claim(MemberState::kSuspect, 0, 1, 2)}), Seconds(3));
  EXPECT_EQ(s->incarnation(), 2u);
}

TEST(Swim, TwoEnvelopeEvictionFails) {
  // Issue 14: "you are suspect at incarnation 65536" to the victim, then
  // "victim dead at incarnation 0" to another peer.
  World w;
  auto victim = w.Peer(1, 5);
  auto other = w.Peer(3, 5);
  // (a) From an outsider with valid keys but no grant: refused at both.
  Update s1 = w.Claim(MemberState::kSuspect, 1, 65536, kOutsider);
  Update d1 = w.Claim(MemberState::kDead, 1, 0, kOutsider);
  victim->OnMessage(kOutsider, Gossip(1, {w.Rec(kOutsider, 0), s1}), Seconds(1));
  other->OnMessage(kOutsider, Gossip(3, {w.Rec(kOutsider, 0), d1}), Seconds(1));
  EXPECT_EQ(victim->incarnation(), 0u);
  EXPECT_EQ(other->StateOf(1), MemberState::kAlive);
  EXPECT_GE(Rejected(*victim, "not_admitted") + Rejected(*victim, "unadmitted"), 1u);
  EXPECT_GE(Rejected(*other, "not_admitted") + Rejected(*other, "unadmitted"), 1u);
  // Relayed by an admitted member (claims carry their accuser): still refused.
  other->OnMessage(2, Gossip(3, {d1}), Seconds(1));
  EXPECT_EQ(other->StateOf(1), MemberState::kAlive);
  EXPECT_GE(Rejected(*other, "unadmitted"), 2u);
  // A claim naming an admitted accuser who did not sign it: forged.
  Update forged = d1;
  forged.origin = 4;
  other->OnMessage(2, Gossip(3, {forged}), Seconds(1));
  EXPECT_EQ(Rejected(*other, "forged"), 1u);
  EXPECT_EQ(other->StateOf(1), MemberState::kAlive);

  // (b) From a Byzantine admitted member (peer 2): the victim refutes at 1,
  // the other peer holds only a suspicion, and the refutation wins.
  victim->OnMessage(2, Gossip(1, {w.Claim(MemberState::kSuspect, 1, 65536, 2)}), Seconds(2));
  EXPECT_EQ(victim->incarnation(), 1u);
  other->OnMessage(2, Gossip(3, {w.Claim(MemberState::kDead, 1, 0, 2)}), Seconds(2));
  EXPECT_EQ(other->StateOf(1), MemberState::kSuspect) << "one accuser's dead claim is only a suspicion";
  other->OnMessage(1, Gossip(3, {victim->SelfRecord()}), Seconds(3));
  EXPECT_EQ(other->StateOf(1), MemberState::kAlive);
  EXPECT_EQ(other->Get(1)->incarnation, 1u);
}

TEST(Swim, GhostsAreNeverBelieved) {
  World w;
  auto s = w.Peer(0, 5);
  auto meta = std::make_shared<Metadata>();
  Update no_cred{MemberState::kAlive, 60, 0, 60, meta, nullptr, nullptr};
  Update bogus = w.Rec(kOutsider + 1, 0);            // signed, but no grant
  Update unsigned_ghost = w.Rec(60, 0);
  unsigned_ghost.signature = nullptr;
  Update bad_sig = w.Rec(61, 0);
  bad_sig.signature = w.auth.SignAs(2, bad_sig);     // relayer 2 signs for 61
  Update other_origin = w.Rec(62, 0);
  other_origin.origin = 2;                           // 2 speaks for 62
  s->OnMessage(2, Gossip(0, {no_cred, bogus, unsigned_ghost, bad_sig, other_origin}), Seconds(1));
  for (MemberId g : {60u, 61u, 62u, kOutsider + 1}) EXPECT_FALSE(s->StateOf(g).has_value()) << g;
  EXPECT_EQ(Rejected(*s, "missing_credential"), 1u);
  EXPECT_EQ(Rejected(*s, "not_admitted"), 1u);
  EXPECT_EQ(Rejected(*s, "missing_signature"), 1u);
  EXPECT_EQ(Rejected(*s, "forged"), 1u);
  EXPECT_EQ(Rejected(*s, "bad_origin"), 1u);
  // Claims about unknown members create nothing.
  s->OnMessage(2, Gossip(0, {w.Claim(MemberState::kSuspect, 63, 0, 2)}), Seconds(1));
  EXPECT_FALSE(s->StateOf(63).has_value());
  // The member's own record, relayed by anyone, is believed.
  s->OnMessage(2, Gossip(0, {w.Rec(64, 0)}), Seconds(1));
  EXPECT_EQ(s->StateOf(64), MemberState::kAlive);
  EXPECT_EQ(s->Get(64)->admission->operator_name, "op64");
}

TEST(Swim, UnadmittedSenderMayOnlyPresentItself) {
  World w;
  auto s = w.Peer(0, 5);
  Message sync;
  sync.type = MessageType::kSync;
  sync.recipient = 0;
  sync.updates = {w.Rec(kOutsider, 0), w.Rec(70, 0), w.Claim(MemberState::kDead, 1, 0, kOutsider)};
  s->OnMessage(kOutsider, sync, Seconds(1));
  EXPECT_FALSE(s->StateOf(kOutsider).has_value());
  EXPECT_FALSE(s->StateOf(70).has_value()) << "nothing else an outsider says is read";
  EXPECT_EQ(Rejected(*s, "unadmitted"), 1u);
  EXPECT_EQ(Find(s->TakeOutbox(), MessageType::kSyncReply), nullptr);
  // An admitted joiner's sync is answered.
  sync.updates = {w.Rec(71, 0)};
  sync.join = true;
  sync.recipient = kAnyRecipient;
  s->OnMessage(71, sync, Seconds(1));
  EXPECT_EQ(s->StateOf(71), MemberState::kAlive);
  EXPECT_NE(Find(s->TakeOutbox(), MessageType::kSyncReply), nullptr);
}

TEST(Swim, RestartedPeerAdoptsItsOwnSignedIncarnation) {
  World w;
  auto s = w.Peer(0, 5);
  // Another member still holds our record from an earlier life at 5, dead.
  Message reply;
  reply.type = MessageType::kSyncReply;
  reply.recipient = 0;
  reply.updates = {w.Rec(0, 5), w.Claim(MemberState::kDead, 0, 5, 2)};
  s->OnMessage(2, reply, Seconds(1));
  EXPECT_EQ(s->incarnation(), 6u);
  // Our "own" record at a higher incarnation not signed by us: forged.
  Update fake = w.Rec(0, 1000);
  fake.signature = w.auth.SignAs(2, fake);
  s->OnMessage(2, Gossip(0, {fake}), Seconds(2));
  EXPECT_EQ(s->incarnation(), 6u);
  EXPECT_EQ(Rejected(*s, "forged"), 1u);
}

TEST(Swim, IncarnationPrecedence) {
  World w;
  auto s = w.Peer(0, 5);
  auto send = [&](Update u) { s->OnMessage(4, Gossip(0, {u}), Seconds(1)); };
  send(w.Claim(MemberState::kSuspect, 1, 0, 4));
  EXPECT_EQ(s->StateOf(1), MemberState::kSuspect);
  send(w.Rec(1, 0));  // same incarnation: ignored
  EXPECT_EQ(s->StateOf(1), MemberState::kSuspect);
  send(w.Rec(1, 1));  // refutation
  EXPECT_EQ(s->StateOf(1), MemberState::kAlive);
  send(w.Claim(MemberState::kSuspect, 1, 0, 4));  // stale suspicion
  EXPECT_EQ(s->StateOf(1), MemberState::kAlive);
  send(w.Claim(MemberState::kSuspect, 1, 9, 4));  // ahead of the record: a claim on 1
  EXPECT_EQ(s->StateOf(1), MemberState::kSuspect);
  EXPECT_EQ(s->Get(1)->incarnation, 1u);
  send(w.Rec(1, 2, MemberState::kAlive, std::make_shared<Metadata>(Metadata{1.0f, "r9", {}, 0, ""})));
  EXPECT_EQ(s->StateOf(1), MemberState::kAlive);
  EXPECT_EQ(s->Get(1)->meta->region, "r9");
  send(w.Rec(1, 2, MemberState::kLeft));  // left at the same incarnation wins
  EXPECT_EQ(s->StateOf(1), MemberState::kLeft);
  send(w.Claim(MemberState::kSuspect, 1, 5, 4));  // left is not undone by claims
  EXPECT_EQ(s->StateOf(1), MemberState::kLeft);
  send(w.Rec(1, 3));  // rejoin with a higher incarnation
  EXPECT_EQ(s->StateOf(1), MemberState::kAlive);
  send(w.Rec(9, 0));  // unknown member learned from its own record
  EXPECT_EQ(s->StateOf(9), MemberState::kAlive);
  send(w.Claim(MemberState::kDead, 12, 0, 9));  // unknown + dead: ignored
  EXPECT_FALSE(s->StateOf(12).has_value());
  send(w.Rec(9, 0u + (1u << 16) + 1));  // a jump above incarnation_jump_max
  EXPECT_EQ(s->Get(9)->incarnation, 0u);
  EXPECT_EQ(Rejected(*s, "incarnation_jump"), 1u);
}

Nanos TimeToDeath(uint32_t confirmations, bool lifeguard, bool dead_claims = false) {
  World w;
  Config cfg;
  cfg.lifeguard = lifeguard;
  cfg.rate_limit = false;
  auto s = w.Peer(0, 100, cfg);
  const MemberState st = dead_claims ? MemberState::kDead : MemberState::kSuspect;
  s->OnMessage(1, Gossip(0, {w.Claim(st, 5, 0, 1)}), 0);
  for (uint32_t c = 0; c < confirmations; ++c) s->OnMessage(10 + c, Gossip(0, {w.Claim(st, 5, 0, 10 + c)}), 0);
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
  // Dead claims of others are confirmations, never an immediate death.
  EXPECT_NEAR(ToSeconds(TimeToDeath(0, true, true)), 48.0, 0.2);
  EXPECT_NEAR(ToSeconds(TimeToDeath(3, true, true)), 8.0, 0.2);
}

TEST(Swim, RejectsBadMessagesAndCountsReasons) {
  World w;
  Config cfg;
  cfg.peer_messages_burst = 5;
  cfg.peer_messages_per_second_max = 1;
  auto s = w.Peer(0, 5, cfg);
  Message ping;
  ping.type = MessageType::kPing;
  ping.target = 3;  // not us
  ping.recipient = 0;
  s->OnMessage(1, ping, 0);
  s->OnMessage(0, Gossip(0, {}), 0);
  Message g = Gossip(0, {});
  g.updates.resize(cfg.piggyback_updates_max + 1, w.Claim(MemberState::kDead, 1, 0, 1));
  s->OnMessage(1, g, 0);
  Update no_meta = w.Rec(2, 5);
  no_meta.meta = nullptr;
  s->OnMessage(1, Gossip(0, {no_meta}), 0);
  s->OnMessage(1, Gossip(0, {w.Rec(2, 0)}), 0);
  g.updates = {Update{MemberState::kAlive, cfg.members_max, 5, 2, std::make_shared<Metadata>()}};
  s->OnMessage(1, g, 0);
  Message bad = Gossip(0, {});
  bad.type = static_cast<MessageType>(50);
  s->OnMessage(1, bad, 0);
  for (int i = 0; i < 10; ++i) s->OnMessage(2, Gossip(0, {}), 0);
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
  s->OnMessage(2, Gossip(0, {}), Seconds(3));
  EXPECT_EQ(r.at("rate_limited"), 5u);
}

TEST(Swim, JoinErrors) {
  World w;
  Swim s(0, Metadata{}, w.cred[0], Config{}, 1, &w.auth);
  EXPECT_TRUE(s.SelfAdmission().ok());
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
  Swim sybil(1, Metadata{}, w.auth.Bogus(1, 9), Config{}, 1, &w.auth);
  EXPECT_FALSE(sybil.SelfAdmission().ok());
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
    Update u{MemberState::kDead, victim, 0, 0, nullptr, nullptr, nullptr};
    u.signature = c.authority().SignAs(0, u);
    if (m.updates.size() < c.node(1)->config().piggyback_updates_max) m.updates.push_back(u);
    return sim::Simulator<Message>::HookAction::kDeliver;
  });
  c.RunUntil(Seconds(30));
  c.sim().SetByzantine(0, nullptr);
  c.RunUntil(Seconds(60));
  EXPECT_GT(forged, 0u);
  EXPECT_GT(c.TotalCounters().refutations, 0u);
  for (uint32_t i = 0; i < o.nodes; ++i) {
    EXPECT_EQ(c.node(i)->Count(MemberState::kAlive), o.nodes) << "peer " << i;
  }
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
      m.recipient = 1;
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
