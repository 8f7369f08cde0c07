// The Engine's replay and audit calls: history, rebuilds, verify, custom projections.
#include "audit.hpp"
#include "authorize.hpp"
#include "changeset.hpp"
#include "impl.hpp"
#include "tenancy.hpp"

#include <ashlar/model/key.hpp>
#include <ashlar/projections/time_travel.hpp>

#include <fmt/format.h>

namespace ashlar {

namespace {

Error never_existed(const Resource& r, const Value& id) {
  auto key = runtime::cast_id(r, "history", id);
  if (!key) return std::move(key).error();
  return Error::not_found(r.name(), fmt::format("no {} with primary key {} has ever existed", r.name(), describe_key(*key)));
}

// Whether the actor may read the record as `last` left it (a destroy: as it found it).
Result<bool> readable_after(const runtime::EngineImpl& impl, const Resource& r, const Event& last, const CallOptions& call) {
  ASHLAR_TRY(txn, impl.log->read());
  std::vector<Value> key;
  for (const auto& [name, value] : last.key) key.push_back(value);
  std::uint64_t as_of = last.type == ActionType::destroy ? last.position - 1 : last.position;
  PastState past(*impl.log, *txn, impl.state, as_of, impl.replay.upcast());
  ASHLAR_TRY(source, runtime::past_source(past, impl.domain, r, call.tenant));
  ASHLAR_TRY(stored, (*source)->get(r.name(), encode_key(key)));
  if (!*stored) return false;
  return runtime::readable(impl, *txn, r, impl.to_record(r, **stored), call);
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
  if (runtime::authorizing(**r, call.authorize)) {
    ASHLAR_TRY(visible, readable_after(*impl_, **r, events->back().event, call));
    if (!*visible) return fail(never_existed(**r, id));
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
