// Unit tests of the per-round robust expert update (train/expert_round.h).
#include "train/expert_round.h"

#include <cmath>

#include <gtest/gtest.h>

namespace swarm::train {
namespace {

ExpertRoundConfig Config(const std::string& agg = "centered_clip", int f = 1, size_t quorum = 3) {
  ExpertRoundConfig c;
  c.aggregator.name = agg;
  c.aggregator.byzantine = f;
  c.clip_norm = 1.0;
  c.round_deadline = Millis(100);
  c.quorum = quorum;
  return c;
}

std::vector<float> V(std::initializer_list<float> v) { return v; }

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

TEST(ExpertRounds, FirstRoundClosesByDeadlineThenEveryKnownCallerClosesEarly) {
  auto r = *ExpertRounds::Create(Config("mean", 0, 2));
  ASSERT_TRUE(r->AddExpert(3, 2).ok());
  for (const char* c : {"a", "b", "c"}) ASSERT_TRUE(r->OnContribution(c, 3, 1, V({0.1f, 0.2f}), 0).ok());
  EXPECT_TRUE(r->TakeOutbox().empty());  // nobody known yet: waits for the deadline
  r->OnTick(Millis(99));
  EXPECT_TRUE(r->TakeOutbox().empty());
  r->OnTick(Millis(100));
  auto out = r->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].round, 1u);
  EXPECT_EQ(out[0].used, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(out[0].closed_by_deadline);
  EXPECT_NEAR(out[0].gradient[1], 0.2f, 1e-6);
  // Round 2: once a, b and c are in, the round closes without waiting.
  ASSERT_TRUE(r->OnContribution("a", 3, 2, V({1, 0}), Millis(200)).ok());
  ASSERT_TRUE(r->OnContribution("b", 3, 2, V({1, 0}), Millis(200)).ok());
  EXPECT_TRUE(r->TakeOutbox().empty());
  ASSERT_TRUE(r->OnContribution("c", 3, 2, V({1, 0}), Millis(201)).ok());
  out = r->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].closed_by_deadline);
  EXPECT_EQ(r->last_applied(3), 2u);
}

TEST(ExpertRounds, ACrashedTrainerIsNotWaitedForPastTheDeadline) {
  auto r = *ExpertRounds::Create(Config("mean", 0, 2));
  ASSERT_TRUE(r->AddExpert(0, 1).ok());
  for (const char* c : {"a", "b", "c"}) ASSERT_TRUE(r->OnContribution(c, 0, 1, V({0.5f}), 0).ok());
  r->OnTick(Millis(100));
  ASSERT_EQ(r->TakeOutbox().size(), 1u);
  // c crashed: round 2 closes at its deadline with a and b.
  ASSERT_TRUE(r->OnContribution("a", 0, 2, V({0.5f}), Millis(150)).ok());
  ASSERT_TRUE(r->OnContribution("b", 0, 2, V({0.5f}), Millis(160)).ok());
  r->OnTick(Millis(249));
  EXPECT_TRUE(r->TakeOutbox().empty());
  r->OnTick(Millis(250));
  auto out = r->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].used.size(), 2u);
  EXPECT_EQ(r->NextDeadline(), 0);
}

TEST(ExpertRounds, RefusalsAreNamedAndCounted) {
  auto r = *ExpertRounds::Create(Config("mean", 0, 1));
  ASSERT_TRUE(r->AddExpert(1, 2).ok());
  auto reason = [](const Status& s) { return std::string(s.message().substr(0, s.message().find(':'))); };
  EXPECT_EQ(reason(r->OnContribution("a", 9, 1, V({0, 0}), 0)), "unknown_expert");
  EXPECT_EQ(reason(r->OnContribution("a", 1, 0, V({0, 0}), 0)), "wrong_round");
  EXPECT_EQ(reason(r->OnContribution("a", 1, 1, V({0}), 0)), "wrong_size");
  EXPECT_EQ(reason(r->OnContribution("a", 1, 1, V({0, NAN}), 0)), "non_finite");
  EXPECT_EQ(reason(r->OnContribution("a", 1, 1, V({0, INFINITY}), 0)), "non_finite");
  ASSERT_TRUE(r->OnContribution("a", 1, 1, V({0, 1}), 0).ok());
  EXPECT_EQ(reason(r->OnContribution("a", 1, 1, V({0, 1}), 0)), "duplicate");  // a replayed call
  r->OnTick(Millis(100));
  ASSERT_EQ(r->TakeOutbox().size(), 1u);
  EXPECT_EQ(reason(r->OnContribution("b", 1, 1, V({0, 1}), Millis(101))), "late");
  EXPECT_EQ(reason(r->OnContribution("b", 1, 1 + 65, V({0, 1}), Millis(101))), "wrong_round");
  EXPECT_EQ(r->refused(ExpertRefusal::kDuplicate), 1);
  EXPECT_EQ(r->refused(ExpertRefusal::kNonFinite), 2);
  EXPECT_EQ(r->refused(ExpertRefusal::kWrongRound), 2);
  EXPECT_EQ(r->refused(ExpertRefusal::kLate), 1);
  EXPECT_EQ(r->counters().accepted, 1);
  // One caller may keep at most 8 contributions waiting in open rounds.
  auto q = *ExpertRounds::Create(Config("mean", 0, 2));
  ASSERT_TRUE(q->AddExpert(1, 2).ok());
  for (uint64_t k = 1; k < 9; ++k) ASSERT_TRUE(q->OnContribution("b", 1, k, V({0, 1}), 0).ok());
  EXPECT_EQ(reason(q->OnContribution("b", 1, 9, V({0, 1}), 0)), "too_many_rounds");
  EXPECT_EQ(q->refused(ExpertRefusal::kTooManyRounds), 1);
}

TEST(ExpertRounds, RoundsOpenedDuringTheFirstDeadlineCloseOnceTheCallersAreKnown) {
  auto r = *ExpertRounds::Create(Config("mean", 0, 2));
  ASSERT_TRUE(r->AddExpert(0, 1).ok());
  for (uint64_t k = 1; k <= 3; ++k) {
    for (const char* c : {"a", "b"}) ASSERT_TRUE(r->OnContribution(c, 0, k, V({0.1f}), Millis(10 * k)).ok());
  }
  r->OnTick(Millis(111));  // round 1 by its deadline; then 2 and 3 are complete
  auto out = r->TakeOutbox();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].closed_by_deadline);
  EXPECT_EQ(out[2].round, 3u);
  EXPECT_FALSE(out[2].closed_by_deadline);
}

TEST(ExpertRounds, ACallerThatCameLateIsWaitedForNextRound) {
  auto r = *ExpertRounds::Create(Config("mean", 0, 2));
  ASSERT_TRUE(r->AddExpert(0, 1).ok());
  for (const char* c : {"a", "b"}) ASSERT_TRUE(r->OnContribution(c, 0, 1, V({0.1f}), 0).ok());
  r->OnTick(Millis(100));
  ASSERT_EQ(r->TakeOutbox().size(), 1u);
  EXPECT_FALSE(r->OnContribution("slow", 0, 1, V({0.1f}), Millis(101)).ok());  // late
  for (const char* c : {"a", "b"}) ASSERT_TRUE(r->OnContribution(c, 0, 2, V({0.1f}), Millis(110)).ok());
  EXPECT_TRUE(r->TakeOutbox().empty());  // waits for "slow" now
  ASSERT_TRUE(r->OnContribution("slow", 0, 2, V({0.1f}), Millis(120)).ok());
  auto out = r->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].used.size(), 3u);
}

TEST(ExpertRounds, AWithholdingCallerDoesNotHoldOlderRoundsOnceAQuorumMovedOn) {
  auto r = *ExpertRounds::Create(Config("mean", 0, 2));
  ASSERT_TRUE(r->AddExpert(0, 1).ok());
  for (const char* c : {"a", "b", "byz"}) ASSERT_TRUE(r->OnContribution(c, 0, 1, V({0.1f}), 0).ok());
  r->OnTick(Millis(100));
  ASSERT_EQ(r->TakeOutbox().size(), 1u);
  // byz withholds round 2; a and b go on to round 3: round 2 closes without it.
  for (const char* c : {"a", "b"}) ASSERT_TRUE(r->OnContribution(c, 0, 2, V({0.1f}), Millis(110)).ok());
  EXPECT_TRUE(r->TakeOutbox().empty());
  ASSERT_TRUE(r->OnContribution("a", 0, 3, V({0.1f}), Millis(120)).ok());
  EXPECT_TRUE(r->TakeOutbox().empty());  // one caller is not a quorum
  ASSERT_TRUE(r->OnContribution("b", 0, 3, V({0.1f}), Millis(121)).ok());
  auto out = r->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].round, 2u);
  EXPECT_EQ(out[0].used, (std::vector<std::string>{"a", "b"}));
}

TEST(ExpertRounds, ALoneCallerNeverMovesAnExpertBelowQuorum) {
  auto r = *ExpertRounds::Create(Config("centered_clip", 1, 3));
  ASSERT_TRUE(r->AddExpert(0, 2).ok());
  ASSERT_TRUE(r->OnContribution("byz", 0, 1, V({100, 100}), 0).ok());
  ASSERT_TRUE(r->OnContribution("x", 0, 1, V({1, 1}), 0).ok());
  r->OnTick(Millis(100));
  EXPECT_TRUE(r->TakeOutbox().empty());
  EXPECT_EQ(r->counters().rounds_dropped, 1);
  EXPECT_EQ(r->last_applied(0), 0u);
}

TEST(ExpertRounds, SignFlipTimes100AndNoiseAreClippedAndOutvoted) {
  for (const std::string agg : {"centered_clip", "median", "trimmed_mean", "multi_krum"}) {
    auto r = *ExpertRounds::Create(Config(agg, 1, 3));
    ASSERT_TRUE(r->AddExpert(0, 3).ok());
    const std::vector<float> honest = {0.3f, -0.2f, 0.1f};
    for (int i = 0; i < 4; ++i) {
      auto h = honest;
      h[0] += 0.01f * i;
      ASSERT_TRUE(r->OnContribution("h" + std::to_string(i), 0, 1, h, 0).ok());
    }
    ASSERT_TRUE(r->OnContribution("byz", 0, 1, V({-30, 20, -10}), 0).ok());  // sign flip x100
    r->OnTick(Millis(100));
    auto out = r->TakeOutbox();
    ASSERT_EQ(out.size(), 1u) << agg;
    EXPECT_EQ(out[0].clipped, 1) << agg;
    std::vector<float> d(3);
    for (int k = 0; k < 3; ++k) d[k] = out[0].gradient[k] - honest[k];
    EXPECT_LT(Norm(d), 0.1) << agg;
    EXPECT_LE(Norm(out[0].gradient), 1.0 + 1e-6) << agg;
  }
}

TEST(ExpertRounds, ABogusRoundFarAheadDoesNotCloseHonestRoundsEarly) {
  auto r = *ExpertRounds::Create(Config("mean", 0, 2));
  ASSERT_TRUE(r->AddExpert(0, 1).ok());
  ASSERT_TRUE(r->OnContribution("byz", 0, 1'000'000'000, V({1}), 0).ok());
  ASSERT_TRUE(r->OnContribution("a", 0, 1, V({0.5f}), Millis(50)).ok());
  ASSERT_TRUE(r->OnContribution("b", 0, 1, V({0.5f}), Millis(60)).ok());
  r->OnTick(Millis(100));  // the bogus round times out (below quorum: dropped)
  EXPECT_TRUE(r->TakeOutbox().empty());
  EXPECT_EQ(r->counters().rounds_dropped, 1);
  ASSERT_TRUE(r->OnContribution("c", 0, 1, V({0.5f}), Millis(120)).ok());
  r->OnTick(Millis(150));
  auto out = r->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].used.size(), 3u);
  EXPECT_EQ(r->last_applied(0), 1u);
}

TEST(ExpertRounds, MultiKrumBelowItsMinimumFallsBackToTheMedian) {
  auto r = *ExpertRounds::Create(Config("multi_krum", 1, 2));
  ASSERT_TRUE(r->AddExpert(0, 1).ok());
  ASSERT_TRUE(r->OnContribution("a", 0, 1, V({0.1f}), 0).ok());
  ASSERT_TRUE(r->OnContribution("b", 0, 1, V({0.3f}), 0).ok());
  r->OnTick(Millis(100));
  auto out = r->TakeOutbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].fallback_median);
  EXPECT_NEAR(out[0].gradient[0], 0.2f, 1e-6);
}

TEST(ExpertRounds, ConfigErrorsNameTheField) {
  ExpertRoundConfig c = Config();
  c.clip_norm = -1;
  EXPECT_NE(ExpertRounds::Create(c).status().message().find("clip_norm"), std::string::npos);
  c = Config();
  c.aggregator.name = "nope";
  EXPECT_FALSE(ExpertRounds::Create(c).ok());
  c = Config();
  c.quorum = 0;
  EXPECT_NE(ExpertRounds::Create(c).status().message().find("quorum"), std::string::npos);
  auto r = *ExpertRounds::Create(Config());
  EXPECT_FALSE(r->AddExpert(0, 0).ok());
  ASSERT_TRUE(r->AddExpert(0, 4).ok());
  EXPECT_TRUE(r->AddExpert(0, 4).ok());
  EXPECT_NE(r->AddExpert(0, 5).message().find("declared before"), std::string::npos);
}

}  // namespace
}  // namespace swarm::train
