// FairQueue and SourceRateLimiter (consensus/fair_queue.h): a flooding source
// gets its share, never the whole queue or the consumer's time.
#include "consensus/fair_queue.h"

#include <gtest/gtest.h>

namespace swarm::consensus {
namespace {

TEST(FairQueue, PopTakesOneItemPerSourceInTurn) {
  FairQueue<int> q(FairQueueLimits{1e9, 1e9, 1000, 10000, 8});
  std::vector<int> flood(500);
  for (int i = 0; i < 500; ++i) flood[i] = 1000 + i;
  ASSERT_TRUE(q.Push("flooder", flood, 0).ok());
  ASSERT_TRUE(q.Push("honest", {1, 2}, 0).ok());
  // The honest items come out within the first two rounds, not after 500.
  const auto out = q.Pop(4);
  ASSERT_EQ(out.size(), 4u);
  int honest = 0;
  for (int x : out) honest += x < 1000;
  EXPECT_EQ(honest, 2);
  EXPECT_EQ(q.size(), 498u);
}

TEST(FairQueue, AFloodFillsOnlyItsOwnQueueAndBucket) {
  FairQueueLimits l;
  l.items_per_second = 100;
  l.burst_items = 200;
  l.source_items_max = 150;
  l.items_max = 1000;
  FairQueue<int> q(l);
  Status s = q.Push("flooder", std::vector<int>(151, 0), 0);
  EXPECT_TRUE(absl::IsResourceExhausted(s));
  EXPECT_EQ(std::string(s.message()).rfind("overloaded: source flooder has 0 items queued", 0), 0u) << s;
  ASSERT_TRUE(q.Push("flooder", std::vector<int>(150, 0), 0).ok());
  q.Pop(1000);
  // 50 tokens left: a push of 60 is refused as rate_limited, nothing queued.
  s = q.Push("flooder", std::vector<int>(60, 0), 0);
  EXPECT_EQ(std::string(s.message()).rfind("rate_limited: source flooder sent 60 items with 50 tokens left", 0), 0u)
      << s;
  EXPECT_EQ(q.size(), 0u);
  // Another source is untouched by the flooder's state.
  EXPECT_TRUE(q.Push("honest", std::vector<int>(100, 1), 0).ok());
  // Tokens refill with time: one second later the flooder has 150.
  EXPECT_TRUE(q.Push("flooder", std::vector<int>(60, 0), Seconds(1)).ok());
}

TEST(FairQueue, SourcesAreBoundedAndOnlyIdleOnesAreReplaced) {
  FairQueue<int> q(FairQueueLimits{1e9, 1e9, 100, 1000, 2});
  ASSERT_TRUE(q.Push("a", {1}, 0).ok());
  ASSERT_TRUE(q.Push("b", {1}, 1).ok());
  Status s = q.Push("c", {1}, 2);
  EXPECT_EQ(std::string(s.message()).rfind("overloaded: 2 sources", 0), 0u) << s;
  q.Pop(1);  // a's item (a is now idle with an empty queue)
  EXPECT_TRUE(q.Push("c", {1}, 3).ok());
  EXPECT_EQ(q.sources(), 2u);
}

TEST(SourceRateLimiter, RefusesPastTheBucketAndRefills) {
  SourceRateLimiter r(10, 20);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(r.Admit("x", 1, 0).ok());
  Status s = r.Admit("x", 1, 0);
  EXPECT_EQ(std::string(s.message()).rfind("rate_limited: source x is over 10 per second", 0), 0u) << s;
  EXPECT_TRUE(r.Admit("y", 1, 0).ok());
  EXPECT_TRUE(r.Admit("x", 1, Millis(100)).ok());
}

}  // namespace
}  // namespace swarm::consensus
