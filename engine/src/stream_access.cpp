#include "stream_access.hpp"

#include "audit.hpp"
#include "authorize.hpp"
#include "impl.hpp"

#include <memory>

namespace ashlar::runtime {
namespace {

// The actor a client's key stands for, as policies see it: {"id": ..., "role": ...}
// (no role when the allow-list gives none), or nil for a client without one.
Value actor_value(const ClientActor& client) {
  if (client.id.empty()) return Value();
  Map actor{{"id", Value(client.id)}};
  if (!client.role.empty()) actor.emplace_back("role", Value(client.role));
  return Value(std::move(actor));
}

}  // namespace

StreamAccess stream_access(const EngineImpl& impl) {
  auto upcast = std::make_shared<const Upcast>(impl.replay.upcast());
  return [&impl, upcast](const ClientActor& client, const StoredEvent& s) -> Result<EventAccess> {
    const Resource* r = impl.domain.resource(s.event.resource);
    if (!r) return EventAccess{.visible = false};  // not in this model: nothing known to allow it
    EventAccess access;
    for (const auto& a : r->attributes())
      if (a.sensitive) access.redacted.push_back(a.name);
    if (!authorizing(*r, std::nullopt)) return access;
    bool gone = s.event.type == ActionType::destroy && s.event.position > 1;
    Query query{.actor = actor_value(client), .as_of = AsOf{.position = s.event.position - (gone ? 1 : 0)},
                .tenant = s.event.tenant};
    std::vector<Value> key;
    for (const auto& [name, value] : s.event.key) key.push_back(value);
    ASHLAR_TRY(found, read_records(impl.domain, *impl.log, impl.state, *upcast, *r, pinned_query(*r, key, query)));
    access.visible = !found->empty();
    return access;
  };
}

}  // namespace ashlar::runtime
