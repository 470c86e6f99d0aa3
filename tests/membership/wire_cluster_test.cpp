// Three Swim peers that only talk through the wire codec, each with its own
// PeerDirectory (different local indices for the same peer ids), as node/
// will run them: join through a seed, see each other alive, see a silent
// peer dead, and reject garbage with a reason.
#include <gtest/gtest.h>

#include <deque>

#include "membership/codec.h"
#include "membership/swim.h"

namespace swarm::membership {
namespace {

// Signs the canonical RecordBytes with a keyed hash of the author's name, as
// the node signs them with its identity: indices differ per peer, names not.
class NamedAuthority : public Authority {
 public:
  explicit NamedAuthority(const PeerDirectory* dir) : dir_(dir) {}
  SharedBytes Sign(const Update& r) override { return Tag(r); }
  StatusOr<AdmissionPtr> Admit(MemberId m, const SharedBytes& c) override {
    const std::string want = "grant:" + dir_->Name(m);
    if (!c || std::string(c->begin(), c->end()) != want) return absl::PermissionDeniedError("not_admitted: no grant");
    return std::make_shared<const Admission>(Admission{1, "r", "op-" + dir_->Name(m), "", kRoleExpertHost});
  }
  bool Verify(const Update& r) override { return r.signature && Tag(r) && *Tag(r) == *r.signature; }
  static SharedBytes Grant(const std::string& name) {
    const std::string g = "grant:" + name;
    return std::make_shared<const Bytes>(g.begin(), g.end());
  }

 private:
  SharedBytes Tag(const Update& r) const {
    auto bytes = RecordBytes(r, *dir_, "wire-test");
    if (!bytes.ok()) return nullptr;
    uint64_t h = 1469598103934665603ULL;
    for (char c : dir_->Name(r.origin)) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ULL;
    for (uint8_t b : *bytes) h = (h ^ b) * 1099511628211ULL;
    Bytes out(8);
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(h >> (8 * i));
    return std::make_shared<const Bytes>(std::move(out));
  }
  const PeerDirectory* dir_;
};

struct Peer {
  std::string name;
  PeerDirectory dir;
  std::unique_ptr<NamedAuthority> auth;
  std::unique_ptr<Swim> swim;
  bool up = true;
  std::map<std::string, uint64_t> rejected;
};

struct Wire {
  std::string from, to;
  Bytes bytes;
};

TEST(WireCluster, JoinDetectAndRejectOverTheCodec) {
  std::vector<std::unique_ptr<Peer>> peers;
  const char* names[] = {"node-a", "node-b", "node-c"};
  for (int i = 0; i < 3; ++i) {
    auto p = std::make_unique<Peer>();
    p->name = names[i];
    // Intern in a different order per peer so local indices differ.
    for (int j = 0; j < 3; ++j) (void)p->dir.Intern(names[(i + j) % 3]);
    Metadata m;
    m.region = "r" + std::to_string(i);
    m.address = "127.0.0.1:700" + std::to_string(i);
    p->auth = std::make_unique<NamedAuthority>(&p->dir);
    p->swim = std::make_unique<Swim>(p->dir.Find(p->name).value(), m, NamedAuthority::Grant(p->name), Config{},
                                     50 + i, p->auth.get());
    peers.push_back(std::move(p));
  }
  auto by_name = [&](const std::string& n) -> Peer& {
    for (auto& p : peers)
      if (p->name == n) return *p;
    abort();
  };
  std::deque<Wire> wire;
  auto flush = [&](Peer& p) {
    for (auto& out : p.swim->TakeOutbox()) {
      auto bytes = Encode(out.msg, p.dir);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      wire.push_back(Wire{p.name, p.dir.Name(out.to), std::move(*bytes)});
    }
  };
  // b and c join through a.
  for (int i = 1; i < 3; ++i) {
    std::vector<MemberId> seeds = {peers[i]->dir.Find("node-a").value()};
    ASSERT_TRUE(peers[i]->swim->Join(seeds, 0).ok());
    flush(*peers[i]);
  }
  Nanos now = 0;
  auto run_until = [&](Nanos end) {
    while (now < end) {
      now += Millis(10);
      while (!wire.empty()) {
        Wire w = std::move(wire.front());
        wire.pop_front();
        Peer& to = by_name(w.to);
        if (!to.up || !by_name(w.from).up) continue;
        std::string reason;
        auto msg = Decode(w.bytes, to.dir, &reason);
        ASSERT_TRUE(msg.ok()) << msg.status();
        to.swim->OnMessage(to.dir.Intern(w.from).value(), *msg, now);
        flush(to);
      }
      for (auto& p : peers) {
        if (!p->up) continue;
        if (p->swim->NextDeadline() <= now) p->swim->OnTick(now);
        flush(*p);
      }
    }
  };
  run_until(Seconds(5));
  for (auto& p : peers) {
    EXPECT_TRUE(p->swim->JoinStatus().ok()) << p->name;
    EXPECT_EQ(p->swim->Count(MemberState::kAlive), 3u) << p->name;
    auto c = p->swim->Get(p->dir.Find("node-c").value());
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->meta->address, "127.0.0.1:7002");
  }
  by_name("node-b").up = false;  // SIGKILL
  run_until(Seconds(60));
  for (const char* n : {"node-a", "node-c"}) {
    Peer& p = by_name(n);
    EXPECT_EQ(p.swim->StateOf(p.dir.Find("node-b").value()), MemberState::kDead) << n;
  }
  // Garbage from the wire: rejected with a reason, state untouched.
  Peer& a = by_name("node-a");
  std::string reason;
  Bytes junk = {0x0a, 0xff, 0x01};
  EXPECT_FALSE(Decode(junk, a.dir, &reason).ok());
  EXPECT_EQ(reason, "malformed");
  EXPECT_EQ(a.swim->Count(MemberState::kAlive), 2u);
}

}  // namespace
}  // namespace swarm::membership
