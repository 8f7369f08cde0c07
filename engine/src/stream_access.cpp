#include "stream_access.hpp"

#include "audit.hpp"
#include "authorize.hpp"
#include "impl.hpp"

#include <algorithm>
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

// Under field policies: what the actor may not read of the record as the event left it,
// and a sensitive attribute unless a field policy names it (and so grants it).
std::vector<std::string> withheld(const Resource& r, const Record& record) {
  std::vector<std::string> out;
  for (const auto& a : r.attributes()) {
    bool granted = std::any_of(r.field_policies().begin(), r.field_policies().end(),
                               [&](const FieldPolicy& p) { return p.covers(a.name); });
    if (record.is_forbidden(a.name) || (a.sensitive && !granted)) out.push_back(a.name);
  }
  return out;
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
    bool fields_guarded = !r->field_policies().empty();
    if (!authorizing(*r, std::nullopt) && !fields_guarded) return access;
    bool gone = s.event.type == ActionType::destroy && s.event.position > 1;
    Query query{.actor = actor_value(client), .as_of = AsOf{.position = s.event.position - (gone ? 1 : 0)},
                .tenant = s.event.tenant};
    std::vector<Value> key;
    for (const auto& [name, value] : s.event.key) key.push_back(value);
    ASHLAR_TRY(found, read_records(impl.domain, *impl.log, impl.state, impl.tenants.get(), *upcast, *r,
                                      pinned_query(*r, key, query)));
    access.visible = !found->empty();
    if (access.visible && fields_guarded) access.redacted = withheld(*r, found->front());
    return access;
  };
}

}  // namespace ashlar::runtime
