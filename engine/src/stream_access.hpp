#pragma once
// The engine's decision for per-client streams (ashlar/notifiers/stream_access.hpp):
// which events a client's actor may see under the resources' read policies, and which
// values it gets withheld.

#include <ashlar/notifiers/stream_access.hpp>

namespace ashlar::runtime {

struct EngineImpl;

// A client sees an event when its actor may read, through the resource's primary read
// action, the record as the event left it (for a destroy, as it was just before), in the
// event's tenant: a read as of the event's position, so every filter check, relationship
// paths included, sees the domain as it stood then. A resource without policies: every
// event. Values of `sensitive` attributes are withheld from every client, unless a field
// policy names the attribute and grants it to the client's actor; under field policies,
// whatever else the actor may not read of the record is withheld too. `impl` must
// outlive the function (its domain, log and state; the upcast is copied).
StreamAccess stream_access(const EngineImpl& impl);

}  // namespace ashlar::runtime
