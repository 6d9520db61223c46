// The HTTP/1.1 connection phases: where a connection starts and every transition, legal or not.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "http1/phase.hpp"

namespace shoal::http1 {
namespace {

constexpr Phase kAll[] = {Phase::kProxyHeader, Phase::kHandshake, Phase::kRequests,
                          Phase::kPlainOnTls,  Phase::kTunnel,    Phase::kHttp2,
                          Phase::kClosing,     Phase::kLingering};
constexpr PhaseEvent kEvents[] = {PhaseEvent::kProxyHeaderRead, PhaseEvent::kProxyHeaderReadTls,
                                  PhaseEvent::kHandshakeDone,   PhaseEvent::kPlainHttp,
                                  PhaseEvent::kUpgraded,        PhaseEvent::kHttp2,
                                  PhaseEvent::kLastResponse,    PhaseEvent::kLinger};

TEST(Http1Phase, APrefaceComesFirstThenTheHandshake) {
  EXPECT_EQ(initial_phase(false, false), Phase::kRequests);
  EXPECT_EQ(initial_phase(false, true), Phase::kHandshake);
  EXPECT_EQ(initial_phase(true, false), Phase::kProxyHeader);
  EXPECT_EQ(initial_phase(true, true), Phase::kProxyHeader);
  EXPECT_EQ(next_phase(Phase::kProxyHeader, PhaseEvent::kProxyHeaderRead), Phase::kRequests);
  EXPECT_EQ(next_phase(Phase::kProxyHeader, PhaseEvent::kProxyHeaderReadTls), Phase::kHandshake);
  EXPECT_EQ(next_phase(Phase::kHandshake, PhaseEvent::kHandshakeDone), Phase::kRequests);
  EXPECT_EQ(next_phase(Phase::kHandshake, PhaseEvent::kPlainHttp), Phase::kPlainOnTls);
}

TEST(Http1Phase, EveryWayToTheEndGoesThroughClosing) {
  for (Phase from : {Phase::kRequests, Phase::kPlainOnTls, Phase::kTunnel, Phase::kClosing}) {
    EXPECT_EQ(next_phase(from, PhaseEvent::kLastResponse), Phase::kClosing) << name(from);
  }
  EXPECT_EQ(next_phase(Phase::kRequests, PhaseEvent::kUpgraded), Phase::kTunnel);
  EXPECT_EQ(next_phase(Phase::kClosing, PhaseEvent::kLinger), Phase::kLingering);
  EXPECT_TRUE(closing(Phase::kClosing));
  EXPECT_TRUE(closing(Phase::kLingering));
  EXPECT_FALSE(closing(Phase::kRequests));
  EXPECT_FALSE(closing(Phase::kTunnel));
}

// Exactly the transitions drawn in phase.hpp exist; every other pair is refused.
TEST(Http1Phase, NothingElseMoves) {
  int legal = 0;
  for (Phase from : kAll) {
    for (PhaseEvent event : kEvents) {
      if (next_phase(from, event)) ++legal;
    }
  }
  EXPECT_EQ(legal, 12);
  // Nothing leaves lingering, nothing goes back to a prelude, a tunnel is not upgraded twice.
  for (PhaseEvent event : kEvents) EXPECT_EQ(next_phase(Phase::kLingering, event), std::nullopt);
  EXPECT_EQ(next_phase(Phase::kRequests, PhaseEvent::kHandshakeDone), std::nullopt);
  EXPECT_EQ(next_phase(Phase::kTunnel, PhaseEvent::kUpgraded), std::nullopt);
  EXPECT_EQ(next_phase(Phase::kRequests, PhaseEvent::kLinger), std::nullopt);
  EXPECT_EQ(next_phase(Phase::kClosing, PhaseEvent::kUpgraded), std::nullopt);
  // HTTP/2 is chosen before any request; its session ends the connection itself, lingering
  // only after a connection error (the client may still be sending).
  EXPECT_EQ(next_phase(Phase::kRequests, PhaseEvent::kHttp2), Phase::kHttp2);
  EXPECT_EQ(next_phase(Phase::kTunnel, PhaseEvent::kHttp2), std::nullopt);
  for (PhaseEvent event : kEvents) {
    const auto after = next_phase(Phase::kHttp2, event);
    EXPECT_EQ(after,
              event == PhaseEvent::kLastResponse ? std::optional(Phase::kClosing) : std::nullopt);
  }
  EXPECT_FALSE(closing(Phase::kHttp2));
  for (Phase from : kAll) EXPECT_NE(name(from), "?");
  for (PhaseEvent event : kEvents) EXPECT_NE(name(event), "?");
}

}  // namespace
}  // namespace shoal::http1
