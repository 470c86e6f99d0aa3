#include "netrelay/delay_line.h"

#include <gtest/gtest.h>

namespace swarm::netrelay {
namespace {

TEST(DelayLine, ReleasesAfterTheDelayAndNotBefore) {
  DelayLine line(40'000, 0, 1024, 1);
  line.Push(1'000, "abc");
  EXPECT_TRUE(line.DueBytes(40'999).empty());
  EXPECT_EQ(line.DueBytes(41'000), "abc");
  EXPECT_EQ(line.NextDueUs(), 41'000);
}

TEST(DelayLine, JitterNeverReordersAndStaysInBounds) {
  DelayLine line(10'000, 8'000, 1 << 20, 7);
  int64_t prev = 0;
  for (int i = 0; i < 1000; ++i) {
    const int64_t now = i * 100;
    line.Push(now, std::string(1, static_cast<char>('a' + i % 26)));
  }
  std::string out;
  for (int i = 0; i < 1000; ++i) {
    const int64_t due = *line.NextDueUs();
    EXPECT_GE(due, prev);
    EXPECT_GE(due, i * 100 + 2'000);  // delay - jitter at least
    prev = due;
    const auto bytes = line.DueBytes(due);
    out += bytes;
    line.Consume(bytes.size());
  }
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(out[i], static_cast<char>('a' + i % 26)) << i;
}

TEST(DelayLine, RoomBoundsTheQueueAndPartialWritesKeepTheRest) {
  DelayLine line(0, 0, 8, 1);
  line.Push(0, "12345");
  EXPECT_EQ(line.room(), 3u);
  line.Push(0, "678");
  EXPECT_EQ(line.room(), 0u);
  EXPECT_EQ(line.DueBytes(0), "12345");
  line.Consume(2);
  EXPECT_EQ(line.DueBytes(0), "345");
  EXPECT_EQ(line.room(), 2u);
  line.Consume(3);
  EXPECT_EQ(line.DueBytes(0), "678");
}

TEST(DelayLine, EndComesAfterTheDataBeforeIt) {
  DelayLine line(5'000, 0, 64, 1);
  line.Push(0, "x");
  line.PushEnd(1'000);
  EXPECT_FALSE(line.TakeDueEnd(100'000));  // data first
  line.Consume(line.DueBytes(5'000).size());
  EXPECT_FALSE(line.TakeDueEnd(5'999));
  EXPECT_TRUE(line.TakeDueEnd(6'000));
  EXPECT_TRUE(line.empty());
}

}  // namespace
}  // namespace swarm::netrelay
