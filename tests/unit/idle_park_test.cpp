// IdlePark and EventSlab with a real event base and socket pairs, no worker: a parked socket
// wakes its owner once when readable or hung up, and not before.
#include "worker/idle_park.hpp"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace shoal {
namespace {

std::vector<void*> woken;
void record(void* owner) { woken.push_back(owner); }

struct Pair {
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0); }
  ~Pair() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  int fds[2] = {-1, -1};
};

TEST(IdlePark, AParkedSocketWakesItsOwnerWhenReadableOrHungUp) {
  woken.clear();
  EventBasePtr base(event_base_new());
  IdlePark park(base.get(), record);
  Pair quiet, talker, leaver;
  int owners[3];
  ASSERT_TRUE(park.park(quiet.fds[0], &owners[0]));
  ASSERT_TRUE(park.park(talker.fds[0], &owners[1]));
  ASSERT_TRUE(park.park(leaver.fds[0], &owners[2]));
  EXPECT_EQ(park.parked(), 3u);
  event_base_loop(base.get(), EVLOOP_NONBLOCK);
  EXPECT_TRUE(woken.empty());  // nothing arrived
  ASSERT_EQ(::write(talker.fds[1], "G", 1), 1);
  ::close(leaver.fds[1]);
  leaver.fds[1] = -1;
  event_base_loop(base.get(), EVLOOP_ONCE);
  ASSERT_EQ(woken.size(), 2u);
  EXPECT_NE(std::find(woken.begin(), woken.end(), &owners[1]), woken.end());
  EXPECT_NE(std::find(woken.begin(), woken.end(), &owners[2]), woken.end());
  // Owners take their sockets out when woken (the session does), and a closing one too.
  park.leave(talker.fds[0]);
  park.leave(leaver.fds[0]);
  park.leave(quiet.fds[0]);
  EXPECT_EQ(park.parked(), 0u);
  EXPECT_FALSE(park.park(-1, &owners[0]));  // a bad fd is not parked
}

// A page of events is resident while one of its events is in use, and given back to the
// kernel when the last one comes back: what makes a parked connection cost no event.
TEST(EventSlab, APageIsGivenBackWhenItsLastEventIs) {
  EventBasePtr base(event_base_new());
  EventSlab slab(100);
  std::vector<event*> taken;
  for (int i = 0; i < 40; ++i) {
    taken.push_back(slab.take());
    ASSERT_NE(taken.back(), nullptr);
    // Each one is usable storage for an event.
    ASSERT_EQ(event_assign(taken.back(), base.get(), -1, 0, nullptr, nullptr), 0);
  }
  const size_t full = slab.pages_resident();
  EXPECT_GE(full, 2u);
  for (size_t i = 0; i < taken.size(); ++i) {
    for (size_t j = i + 1; j < taken.size(); ++j) ASSERT_NE(taken[i], taken[j]);
  }
  // Give back all but the first: every page but the first one's goes.
  for (size_t i = 1; i < taken.size(); ++i) slab.give(taken[i]);
  EXPECT_EQ(slab.pages_resident(), 1u);
  slab.give(taken[0]);
  EXPECT_EQ(slab.pages_resident(), 0u);
  // Taken again, from a released page first; capacity is honoured.
  std::vector<event*> again;
  for (event* ev = slab.take(); ev; ev = slab.take()) again.push_back(ev);
  EXPECT_GE(again.size(), 100u);
  for (event* ev : again) slab.give(ev);
  EXPECT_EQ(slab.pages_resident(), 0u);
}

// With pages kept empty, a connection per request takes and gives back the same event and
// its page stays resident: no madvise and page fault for each connection.
TEST(EventSlab, KeptEmptyPagesServeTheNextConnections) {
  EventSlab slab(100, 1);
  event* first = slab.take();
  slab.give(first);
  EXPECT_EQ(slab.pages_resident(), 1u);  // kept
  EXPECT_EQ(slab.take(), first);         // the same storage again
  slab.give(first);
  std::vector<event*> many;
  for (int i = 0; i < 64; ++i) many.push_back(slab.take());
  EXPECT_GE(slab.pages_resident(), 2u);
  for (event* ev : many) slab.give(ev);
  EXPECT_EQ(slab.pages_resident(), 1u);  // one kept, the others given back
}

}  // namespace
}  // namespace shoal
