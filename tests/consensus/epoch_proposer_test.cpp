// The epoch proposer (consensus/epoch_proposer.h) in virtual time: the
// debounce, the retry spacing, the "behind" rule, and a seeded simulation
// of four members whose views change and flap, proposing through a model of
// the committee (the real LedgerStateMachine applied in one order) — every
// stable change ends in exactly one record, flapping shorter than the
// settle time never reaches the ledger.
#include <gtest/gtest.h>

#include <random>

#include "consensus/epoch_proposer.h"
#include "consensus/ledger_machine.h"
#include "consensus/ml_dsa_record_signer.h"
#include "store/signers.h"
#include "support/sim_seeds.h"

namespace swarm::node {
namespace {

Bytes Members(const std::vector<std::string>& addrs) {
  std::vector<EpochMember> m;
  for (const auto& a : addrs) m.push_back({a, "n" + a});
  return EncodeMembershipEpoch(m).value();
}

EpochProposerOptions Opts() {
  EpochProposerOptions o;
  o.settle = Millis(2000);
  o.retry = Millis(1000);
  return o;
}

TEST(EpochProposer, ProposesOnlyAfterTheViewHeldForTheSettleTime) {
  EpochProposer p(EpochKind::kMembership, Opts());
  const Bytes a = Members({"1", "2", "3"});
  const Bytes b = Members({"1", "2"});
  EpochState none;
  EXPECT_FALSE(p.OnTick(0, a, none));
  EXPECT_FALSE(p.OnTick(Millis(1999), a, none));
  auto got = p.OnTick(Millis(2000), a, none);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->version, 1u);
  EXPECT_EQ(got->root, EpochRoot(a));
  EXPECT_EQ(got->body, a);
  // In flight: nothing more until done.
  EXPECT_FALSE(p.OnTick(Millis(5000), a, none));
  p.OnProposalDone();
  // Committed: nothing to do while the view equals it.
  EpochState c1{1, EpochRoot(a), 0};
  EXPECT_FALSE(p.OnTick(Millis(5100), a, c1));
  // The view changes; a flap back within the settle time restarts the clock.
  EXPECT_FALSE(p.OnTick(Millis(8000), b, c1));
  EXPECT_FALSE(p.OnTick(Millis(9000), a, c1));
  EXPECT_FALSE(p.OnTick(Millis(9500), b, c1));
  EXPECT_FALSE(p.OnTick(Millis(11400), b, c1));
  auto got2 = p.OnTick(Millis(11500), b, c1);
  ASSERT_TRUE(got2);
  EXPECT_EQ(got2->version, 2u);
  // nullopt view (membership off): never proposes.
  EpochProposer q(EpochKind::kPlacement, Opts());
  EXPECT_FALSE(q.OnTick(0, std::nullopt, none));
  EXPECT_FALSE(q.OnTick(Seconds(100), std::nullopt, none));
}

TEST(EpochProposer, RetriesNoSoonerThanTheRetryInterval) {
  EpochProposer p(EpochKind::kMembership, Opts());
  const Bytes a = Members({"1"});
  EpochState none;
  ASSERT_FALSE(p.OnTick(0, a, none));
  ASSERT_TRUE(p.OnTick(Millis(2000), a, none));
  p.OnProposalDone();  // refused (e.g. stale head): not committed
  EXPECT_FALSE(p.OnTick(Millis(2500), a, none));
  EXPECT_TRUE(p.OnTick(Millis(3000), a, none));
  EXPECT_EQ(p.proposals(), 2u);
}

TEST(EpochProposer, AMemberBehindAFreshCommitDoesNotReproposeItsOldSetAtOnce) {
  EpochProposer p(EpochKind::kMembership, Opts());
  const Bytes old_set = Members({"1", "2", "3"});
  const Bytes new_set = Members({"1", "2"});
  EpochState c1{1, EpochRoot(old_set), 0};
  // Stable on old_set == committed for a long time.
  EXPECT_FALSE(p.OnTick(0, old_set, c1));
  EXPECT_FALSE(p.OnTick(Seconds(10), old_set, c1));
  // Others commit new_set; this member still sees old_set (its view is behind).
  EpochState c2{2, EpochRoot(new_set), 1};
  EXPECT_FALSE(p.OnTick(Seconds(11), old_set, c2));
  EXPECT_FALSE(p.OnTick(Millis(12900), old_set, c2));
  // Its view catches up within the settle time: nothing proposed, ever.
  EXPECT_FALSE(p.OnTick(Seconds(13), new_set, c2));
  EXPECT_FALSE(p.OnTick(Seconds(30), new_set, c2));
  EXPECT_EQ(p.proposals(), 0u);
  // But a view that stays different for a whole settle time after the commit
  // is proposed (e.g. the peer really came back).
  EXPECT_FALSE(p.OnTick(Seconds(31), old_set, c2));
  auto got = p.OnTick(Seconds(33), old_set, c2);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->version, 3u);
}

// Four members, one committee modelled by the real state machine: each
// proposal is signed on the head its member read, and applied after a random
// delay in arrival order (as PBFT would order them).
class Committee {
 public:
  Committee() : sm_(LedgerStateMachine::Open("").value()) {
    for (int i = 0; i < 4; ++i) signers_.push_back(std::move(testing::MlDsaRecordSigner::Generate()).value());
  }
  void Submit(int member, const EpochProposal& p, Nanos at) {
    store::LedgerRecord r;
    const store::LedgerHead head = sm_->Head();
    r.index = head.size;
    r.prev_hash = head.hash;
    r.signature_scheme = signers_[member]->Scheme();
    r.public_key = signers_[member]->PublicKey();
    r.author_id = store::LedgerAuthorId(r.signature_scheme, r.public_key);
    r.kind = EpochKindName(p.kind);
    r.epoch = p.version;
    r.payload_root = p.root;
    r.signature = signers_[member]->Sign(store::LedgerSigningBytes(r)).value();
    queue_.push_back({at, member, consensus::Request{LedgerStateMachine::ClientOf(r), ++seq_,
                                                     EncodeLedgerRequest(store::EncodeLedgerRecord(r), p.body)}});
  }
  // Applies what is due; returns the members whose proposal finished.
  std::vector<int> Step(Nanos now) {
    std::vector<int> done;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->at <= now) {
        sm_->Apply(++applied_, it->req);
        done.push_back(it->member);
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    return done;
  }
  LedgerStateMachine& sm() { return *sm_; }

 private:
  struct Pending {
    Nanos at;
    int member;
    consensus::Request req;
  };
  std::unique_ptr<LedgerStateMachine> sm_;
  std::vector<std::unique_ptr<testing::MlDsaRecordSigner>> signers_;
  std::vector<Pending> queue_;
  uint64_t seq_ = 0, applied_ = 0;
};

TEST(EpochProposerSim, StableChangesYieldOneRecordEachAndFlappingNone) {
  for (uint64_t seed : ::swarm::testing::SimSeeds(40)) {
    SWARM_SIM_SEED_TRACE(seed);
    std::mt19937_64 rng(seed);
    Committee committee;
    std::vector<EpochProposer> proposers(4, EpochProposer(EpochKind::kMembership, Opts()));
    // The "true" set over time: stable phases of 6-12 s, each preceded by a
    // flap of < settle/2 to a random other set, members observe a change
    // with a random lag of up to 600 ms.
    const std::vector<Bytes> sets = {Members({"1", "2", "3", "4", "5"}), Members({"1", "2", "3", "4"}),
                                     Members({"1", "2", "4", "5"}), Members({"2", "3", "4", "5"})};
    struct Phase {
      Nanos start;
      size_t set;
    };
    std::vector<Phase> truth;
    Nanos t = 0;
    size_t current = 0;
    std::vector<size_t> stable_sets;
    for (int phase = 0; phase < 8; ++phase) {
      size_t next = (current + 1 + rng() % (sets.size() - 1)) % sets.size();
      size_t flap = (next + 1 + rng() % (sets.size() - 1)) % sets.size();
      truth.push_back({t, flap});
      t += Millis(100 + rng() % 800);  // flap shorter than settle/2
      truth.push_back({t, next});
      stable_sets.push_back(next);
      t += Millis(6000 + rng() % 6000);
      current = next;
    }
    const Nanos end = t;
    std::vector<Nanos> lag(4);
    for (auto& l : lag) l = Millis(rng() % 600);
    auto view_of = [&](int m, Nanos now) {
      size_t s = truth.front().set;
      for (const auto& p : truth) {
        if (p.start + lag[m] <= now) s = p.set;
      }
      return sets[s];
    };
    for (Nanos now = 0; now <= end; now += Millis(100)) {
      for (int m : committee.Step(now)) proposers[m].OnProposalDone();
      for (int m = 0; m < 4; ++m) {
        auto p = proposers[m].OnTick(now, view_of(m, now), committee.sm().Epoch(EpochKind::kMembership));
        if (p) committee.Submit(m, *p, now + Millis(50 + rng() % 400));
      }
    }
    committee.Step(end + Seconds(10));
    // One record per stable phase (a phase whose set equals the previous
    // committed one adds none), each carrying that phase's set; no flap set.
    auto recs = committee.sm().Records(0, 1000);
    std::vector<Digest256> expected;
    for (size_t s : stable_sets) {
      if (expected.empty() || expected.back() != EpochRoot(sets[s])) expected.push_back(EpochRoot(sets[s]));
    }
    ASSERT_EQ(recs.size(), expected.size()) << "seed " << seed;
    for (size_t i = 0; i < recs.size(); ++i) {
      auto r = store::ParseLedgerRecord(recs[i].first).value();
      EXPECT_EQ(r.epoch, i + 1) << "seed " << seed;
      EXPECT_EQ(r.payload_root, expected[i]) << "seed " << seed << " record " << i;
      EXPECT_EQ(EpochRoot(recs[i].second), r.payload_root);
    }
  }
}

}  // namespace
}  // namespace swarm::node
