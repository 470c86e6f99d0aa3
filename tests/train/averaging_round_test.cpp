// Unit tests of the sans-I/O averaging round (train/averaging_round.h).
#include "train/averaging_round.h"

#include <cmath>

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace swarm::train {
namespace {

std::unique_ptr<Averager> Make(std::vector<std::string> trainers, size_t dim, std::string agg = "mean",
                               size_t quorum = 1, int f = 0) {
  AveragerConfig c;
  c.trainers = std::move(trainers);
  c.dim = dim;
  c.round_deadline = Millis(100);
  c.give_up_after = Millis(1000);
  c.quorum = quorum;
  AggregatorSpec spec;
  spec.name = agg;
  spec.byzantine = f;
  auto a = MakeAggregator(spec);
  EXPECT_TRUE(a.ok());
  auto av = Averager::Create(c, std::move(*a));
  EXPECT_TRUE(av.ok()) << av.status();
  return std::move(*av);
}

TEST(Averager, ClosesWhenAllArrivedWithTheMean) {
  auto av = Make({"a", "b", "c"}, 2);
  ASSERT_TRUE(av->Open(1, 0).ok());
  ASSERT_TRUE(av->OnContribution("a", 1, {1, 2}, 1).ok());
  ASSERT_TRUE(av->OnContribution("b", 1, {3, 4}, 2).ok());
  EXPECT_FALSE(av->TakeOutbox().has_value());
  ASSERT_TRUE(av->OnContribution("c", 1, {5, 6}, 3).ok());
  auto out = av->TakeOutbox();
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(out->status.ok()) << out->status;
  EXPECT_FLOAT_EQ(out->aggregate[0], 3);
  EXPECT_FLOAT_EQ(out->aggregate[1], 4);
  EXPECT_EQ(out->used.size(), 3u);
  EXPECT_FALSE(out->closed_by_deadline);
  EXPECT_EQ(out->duration, 3);
}

TEST(Averager, CountsEveryExclusionReason) {
  auto av = Make({"a", "b", "c"}, 2);
  ASSERT_TRUE(av->Open(5, 0).ok());
  auto s = av->OnContribution("mallory", 5, {1, 1}, 0);
  EXPECT_TRUE(absl::StartsWith(s.message(), "not_a_trainer")) << s;
  s = av->OnContribution("a", 5, {1, 1, 1}, 0);
  EXPECT_TRUE(absl::StartsWith(s.message(), "wrong_size")) << s;
  s = av->OnContribution("a", 5, {1, NAN}, 0);
  EXPECT_TRUE(absl::StartsWith(s.message(), "non_finite")) << s;
  s = av->OnContribution("a", 5, {1, INFINITY}, 0);
  EXPECT_TRUE(absl::StartsWith(s.message(), "non_finite")) << s;
  EXPECT_TRUE(av->OnContribution("a", 5, {1, 1}, 0).ok());
  s = av->OnContribution("a", 5, {2, 2}, 0);
  EXPECT_TRUE(absl::StartsWith(s.message(), "duplicate")) << s;
  s = av->OnContribution("b", 100, {2, 2}, 0);
  EXPECT_TRUE(absl::StartsWith(s.message(), "wrong_round")) << s;
  // Deadline closes with a and the quorum of 1.
  av->OnTick(Millis(100));
  auto out = av->TakeOutbox();
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->closed_by_deadline);
  EXPECT_EQ(out->missing, (std::vector<std::string>{"b", "c"}));
  s = av->OnContribution("b", 5, {2, 2}, Millis(101));
  EXPECT_TRUE(absl::StartsWith(s.message(), "late")) << s;
  EXPECT_EQ(av->excluded(Exclusion::kNotATrainer), 1);
  EXPECT_EQ(av->excluded(Exclusion::kWrongSize), 1);
  EXPECT_EQ(av->excluded(Exclusion::kNonFinite), 2);
  EXPECT_EQ(av->excluded(Exclusion::kDuplicate), 1);
  EXPECT_EQ(av->excluded(Exclusion::kWrongRound), 1);
  EXPECT_EQ(av->excluded(Exclusion::kLate), 1);
}

TEST(Averager, KeepsContributionsOfTheNextRound) {
  auto av = Make({"a", "b"}, 1);
  ASSERT_TRUE(av->Open(1, 0).ok());
  ASSERT_TRUE(av->OnContribution("b", 2, {7}, 0).ok());  // b is ahead
  ASSERT_TRUE(av->OnContribution("a", 1, {1}, 0).ok());
  ASSERT_TRUE(av->OnContribution("b", 1, {3}, 0).ok());
  auto r1 = av->TakeOutbox();
  ASSERT_TRUE(r1 && r1->status.ok());
  EXPECT_FLOAT_EQ(r1->aggregate[0], 2);
  ASSERT_TRUE(av->Open(2, 10).ok());
  ASSERT_TRUE(av->OnContribution("a", 2, {9}, 11).ok());
  auto r2 = av->TakeOutbox();
  ASSERT_TRUE(r2 && r2->status.ok());
  EXPECT_FLOAT_EQ(r2->aggregate[0], 8);
}

TEST(Averager, BelowQuorumFailsAfterGiveUp) {
  auto av = Make({"a", "b", "c"}, 1, "mean", 2);
  ASSERT_TRUE(av->Open(1, 0).ok());
  ASSERT_TRUE(av->OnContribution("a", 1, {1}, 0).ok());
  av->OnTick(Millis(500));  // past the deadline, below quorum: keeps waiting
  EXPECT_FALSE(av->TakeOutbox().has_value());
  av->OnTick(Millis(1000));
  auto out = av->TakeOutbox();
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(absl::IsUnavailable(out->status)) << out->status;
  EXPECT_EQ(av->rounds_failed(), 1);
}

TEST(Averager, StopsWaitingForADeadPeerAndTakesItBack) {
  auto av = Make({"a", "b", "c"}, 1);
  for (uint64_t r = 1; r <= 2; ++r) {  // c misses two rounds: closed by deadline
    const Nanos t0 = Millis(1000) * static_cast<Nanos>(r);
    ASSERT_TRUE(av->Open(r, t0).ok());
    ASSERT_TRUE(av->OnContribution("a", r, {1}, t0).ok());
    ASSERT_TRUE(av->OnContribution("b", r, {1}, t0).ok());
    EXPECT_FALSE(av->TakeOutbox().has_value());
    av->OnTick(t0 + Millis(100));
    auto out = av->TakeOutbox();
    ASSERT_TRUE(out && out->closed_by_deadline);
  }
  EXPECT_EQ(av->expected_alive(), 2u);
  // Round 3 closes as soon as a and b are in.
  ASSERT_TRUE(av->Open(3, Millis(3000)).ok());
  ASSERT_TRUE(av->OnContribution("a", 3, {1}, Millis(3000)).ok());
  ASSERT_TRUE(av->OnContribution("b", 3, {1}, Millis(3001)).ok());
  auto out = av->TakeOutbox();
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->closed_by_deadline);
  // c comes back with round 4: waited for again.
  ASSERT_TRUE(av->OnContribution("c", 4, {4}, Millis(3002)).ok());
  EXPECT_EQ(av->expected_alive(), 3u);
  ASSERT_TRUE(av->Open(4, Millis(4000)).ok());
  ASSERT_TRUE(av->OnContribution("a", 4, {1}, Millis(4000)).ok());
  ASSERT_TRUE(av->OnContribution("b", 4, {1}, Millis(4000)).ok());
  out = av->TakeOutbox();
  ASSERT_TRUE(out.has_value());
  EXPECT_FLOAT_EQ(out->aggregate[0], 2);
}

TEST(Averager, RejectsBadConfigNamingTheField) {
  AveragerConfig c;
  c.trainers = {"a", "a"};
  c.dim = 1;
  EXPECT_NE(c.Validate().message().find("listed twice"), std::string::npos);
  c.trainers = {"a"};
  c.quorum = 2;
  EXPECT_NE(c.Validate().message().find("quorum = 2"), std::string::npos);
  c.quorum = 1;
  c.dim = 0;
  EXPECT_NE(c.Validate().message().find("dim = 0"), std::string::npos);
  auto av = Make({"a"}, 1);
  ASSERT_TRUE(av->Open(3, 0).ok());
  EXPECT_FALSE(av->Open(2, 0).ok());
}

}  // namespace
}  // namespace swarm::train
