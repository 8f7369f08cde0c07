#pragma once
// Per-client streams: what each client may receive of the events, decided by whoever
// knows the read policies (the engine hands its decision to the notifiers). With one,
// the PUB socket carries heartbeats only, and every event reaches a client through the
// replay service, filtered and redacted for the actor its key stands for
// (notifiers/PROTOCOL.md, "Per-client streams").

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/result.hpp>
#include <ashlar/notifiers/curve.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ashlar {

// What one client gets of one event.
struct ASHLAR_API EventAccess {
  bool visible = true;  // false: the client gets nothing of it
  // Attributes whose values the client gets withheld: null, and named in the event's
  // `redacted` list (eventlog/schema/event.capnp).
  std::vector<std::string> redacted{};
};

// Decides an event for the actor a client authenticated as (an empty id: a client with
// no actor, on a server without an allow-list). Called on the replay service's thread,
// with the event as stored; an error fails the request with its code and message, which
// must not carry the event's values.
using StreamAccess = std::function<Result<EventAccess>(const ClientActor& actor, const StoredEvent& event)>;

}  // namespace ashlar
