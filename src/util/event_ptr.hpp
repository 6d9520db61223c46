// Owners for libevent objects: every event and event base sits in a unique_ptr with its
// *_free deleter (STYLE.md: no leak by forgetting).
#pragma once

#include <event2/event.h>

#include <memory>

namespace shoal {

struct EventDeleter {
  void operator()(event* ev) const { event_free(ev); }
};
struct EventBaseDeleter {
  void operator()(event_base* base) const { event_base_free(base); }
};

using EventPtr = std::unique_ptr<event, EventDeleter>;
using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;

}  // namespace shoal
