// The Engine's replay and audit calls: history, rebuilds, verify, custom projections.
#include "audit.hpp"
#include "authorize.hpp"
#include "changeset.hpp"
#include "impl.hpp"
#include "reader.hpp"
#include "tenancy.hpp"

#include <ashlar/model/key.hpp>
#include <ashlar/projections/time_travel.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {

namespace {

Error never_existed(const Resource& r, const Value& id) {
  auto key = runtime::cast_id(r, "history", id);
  if (!key) return std::move(key).error();
  return Error::not_found(r.name(), fmt::format("no {} with primary key {} has ever existed", r.name(), describe_key(*key)));
}

// Whether the actor may read the record as `last` left it (a destroy: as it found it),
// and the attributes of it the field policies hide from the actor.
struct Visible {
  bool readable = false;
  std::vector<std::string> hidden{};
};

Result<Visible> visible_after(const runtime::EngineImpl& impl, const Resource& r, const Event& last, const CallOptions& call) {
  ASHLAR_TRY(txn, impl.log->read());
  std::vector<Value> key;
  for (const auto& [name, value] : last.key) key.push_back(value);
  std::uint64_t as_of = last.type == ActionType::destroy ? last.position - 1 : last.position;
  PastState past(*impl.log, *txn, impl.state, as_of, impl.replay.upcast());
  ASHLAR_TRY(source, runtime::past_source(past, impl.domain, r, call.tenant));
  ASHLAR_TRY(stored, (*source)->get(r.name(), encode_key(key)));
  if (!*stored) return Visible{};
  std::vector<Record> one{impl.to_record(r, **stored)};
  ASHLAR_TRY(readable, runtime::readable(impl, *txn, r, one.front(), call));
  if (!*readable) return Visible{};
  Visible out{true};
  if (r.field_policies().empty() || !call.authorize.value_or(true)) return out;
  EvalContext base;
  base.actor = call.actor;
  base.tenant = call.tenant;
  runtime::Reader reader(impl.domain, **source, base);
  ASHLAR_TRY_VOID(reader.hide_fields(r, nullptr, one));
  for (const auto& attribute : r.attributes())
    if (one.front().is_forbidden(attribute.name)) out.hidden.push_back(attribute.name);
  return out;
}

// Each event's changes and inputs of the hidden attributes as Value::forbidden(); an event
// so changed no longer carries its stored bytes, which hold the values.
void hide_in_events(std::vector<StoredEvent>& events, const std::vector<std::string>& hidden) {
  for (auto& stored : events) {
    bool changed = false;
    for (auto* fields : {&stored.event.changes, &stored.event.inputs})
      for (auto& [name, value] : *fields)
        if (std::find(hidden.begin(), hidden.end(), name) != hidden.end()) {
          value = Value::forbidden();
          changed = true;
        }
    if (changed) stored.bytes.clear();
  }
}

}  // namespace

Result<std::vector<StoredEvent>> Engine::history(std::string_view resource, const Value& id,
                                                 const CallOptions& call) const {
  ASHLAR_TRY(r, impl_->resource(resource));
  ASHLAR_TRY(scoped, runtime::tenant_value(**r, "history", call.tenant));
  ASHLAR_TRY(events, runtime::record_events(*impl_->log, impl_->replay.upcast(), **r, id));
  if (*scoped || (*r)->multitenancy().strategy == Multitenancy::context)
    std::erase_if(*events, [&](const StoredEvent& e) { return e.event.tenant != call.tenant; });
  // Another tenant's record, or one the actor may not read, as a key that never had one.
  if (events->empty()) return fail(never_existed(**r, id));
  if (runtime::authorizing(**r, call.authorize) || !(*r)->field_policies().empty()) {
    ASHLAR_TRY(visible, visible_after(*impl_, **r, events->back().event, call));
    if (!visible->readable) return fail(never_existed(**r, id));
    hide_in_events(*events, visible->hidden);
  }
  return events;
}

Result<std::vector<StoredEvent>> Engine::history(std::string_view resource, const Value& id,
                                                 const std::string& tenant) const {
  return history(resource, id, CallOptions{.tenant = tenant});
}

Result<RebuildReport> Engine::rebuild(RebuildOptions options) {
  ASHLAR_TRY(tenants, tenant_targets(*impl_->log, impl_->domain, impl_->tenants.get()));
  auto report = impl_->replay.rebuild(*impl_->log, impl_->state, std::move(options), {}, std::move(tenants->targets));
  ASHLAR_TRY_VOID(impl_->tenants->refresh());  // the tenants the rebuild gave tables
  return report;
}

Result<RebuildReport> Engine::rebuild_projection(std::string_view name, RebuildOptions options) {
  return impl_->replay.rebuild(*impl_->log, impl_->state, std::move(options), name);
}

Result<VerifyReport> Engine::verify(VerifyOptions options) const {
  ASHLAR_TRY_VOID(catch_up());
  if (options.chain_key.empty()) options.chain_key = impl_->options.chain_key;
  options.upcast = impl_->replay.upcast();
  ASHLAR_TRY(tenants, tenant_targets(*impl_->log, impl_->domain, impl_->tenants.get()));
  auto targets = impl_->replay.targets(impl_->state);
  for (auto& t : tenants->targets) targets.push_back(std::move(t));
  return ashlar::verify(*impl_->log, targets, options, &impl_->domain);
}

Result<void> Engine::catch_up() const {
  ProjectionSet* set = impl_->replay.projections();
  return set ? set->catch_up() : Result<void>{};
}

Result<void> Engine::read_projection(std::string_view name,
                                     const std::function<Result<void>(const StateStore&)>& fn) const {
  ProjectionSet* set = impl_->replay.projections();
  if (!set) return fail(Error::framework(fmt::format("no projection is named {}", name)));
  return set->read(name, fn);
}

std::uint64_t Engine::model_version() const { return impl_->replay.model_version(); }

}  // namespace ashlar
