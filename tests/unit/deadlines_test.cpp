// DeadlineLists: FIFO per timeout kind, O(1) re-arming, only heads can be due.
#include "worker/deadlines.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace shoal {
namespace {

std::array<Millis, kTimerKinds> durations() {
  return {Millis(0), Millis(10'000), Millis(75'000), Millis(60'000), Millis(1'000), Millis(2'000)};
}

TEST(DeadlinesTest, NodesAreDueInOrderAcrossKinds) {
  DeadlineLists lists(durations());
  DeadlineNode a, b, c, d;
  lists.arm(a, TimerKind::kKeepAlive, 0);     // due 75000
  lists.arm(b, TimerKind::kHeader, 100);      // due 10100
  lists.arm(c, TimerKind::kDrainGrace, 200);  // due 1200
  lists.arm(d, TimerKind::kNone, 300);        // never
  EXPECT_EQ(lists.size(), 4u);
  EXPECT_EQ(lists.earliest(), 1200);
  EXPECT_EQ(lists.pop_due(1199), nullptr);
  EXPECT_EQ(lists.pop_due(1200), &c);
  EXPECT_FALSE(c.linked);
  EXPECT_EQ(lists.earliest(), 10100);
  EXPECT_EQ(lists.pop_due(1'000'000), &b);
  EXPECT_EQ(lists.pop_due(1'000'000), &a);
  EXPECT_EQ(lists.pop_due(1'000'000), nullptr);  // kNone is never due
  EXPECT_FALSE(lists.earliest());
  EXPECT_EQ(lists.size(), 1u);
}

TEST(DeadlinesTest, RearmingMovesANodeToTheTail) {
  DeadlineLists lists(durations());
  DeadlineNode a, b;
  lists.arm(a, TimerKind::kHeader, 0);
  lists.arm(b, TimerKind::kHeader, 5);
  lists.arm(a, TimerKind::kHeader, 10);  // a request arrived on a: its deadline moves
  EXPECT_EQ(lists.pop_due(10'005), &b);
  EXPECT_EQ(lists.pop_due(10'005), nullptr);
  EXPECT_EQ(lists.pop_due(10'010), &a);
}

TEST(DeadlinesTest, UnlinkingFromAnywhereKeepsTheListWhole) {
  DeadlineLists lists(durations());
  std::vector<DeadlineNode> nodes(5);
  for (int i = 0; i < 5; ++i) lists.arm(nodes[i], TimerKind::kSend, i);
  lists.unlink(nodes[2]);  // middle
  lists.unlink(nodes[0]);  // head
  lists.unlink(nodes[4]);  // tail
  lists.unlink(nodes[4]);  // twice: nothing
  std::vector<DeadlineNode*> seen;
  lists.for_each([&](DeadlineNode* n) { seen.push_back(n); });
  EXPECT_EQ(seen, (std::vector<DeadlineNode*>{&nodes[1], &nodes[3]}));
  EXPECT_EQ(lists.size(), 2u);
  lists.arm(nodes[0], TimerKind::kSend, 10);
  EXPECT_EQ(lists.pop_due(100'000), &nodes[1]);
  EXPECT_EQ(lists.pop_due(100'000), &nodes[3]);
  EXPECT_EQ(lists.pop_due(100'000), &nodes[0]);
}

TEST(DeadlinesTest, ChangingKindMovesBetweenLists) {
  DeadlineLists lists(durations());
  DeadlineNode a;
  lists.arm(a, TimerKind::kKeepAlive, 0);
  lists.arm(a, TimerKind::kDrainGrace, 0);  // a drain shortens an idle connection's wait
  EXPECT_EQ(lists.earliest(), 1000);
  lists.arm(a, TimerKind::kNone, 0);
  EXPECT_FALSE(lists.earliest());
  EXPECT_EQ(lists.size(), 1u);
}

}  // namespace
}  // namespace shoal
