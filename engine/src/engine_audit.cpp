// The Engine's replay and audit calls: history, rebuilds, verify, custom projections.
#include "audit.hpp"
#include "changeset.hpp"
#include "impl.hpp"
#include "tenancy.hpp"

#include <ashlar/model/key.hpp>

#include <fmt/format.h>

namespace ashlar {

Result<std::vector<StoredEvent>> Engine::history(std::string_view resource, const Value& id,
                                                 const std::string& tenant) const {
  ASHLAR_TRY(r, impl_->resource(resource));
  ASHLAR_TRY(scoped, runtime::tenant_value(**r, "history", tenant));
  ASHLAR_TRY(events, runtime::record_events(*impl_->log, impl_->replay.upcast(), **r, id));
  if (!*scoped) return events;
  std::erase_if(*events, [&](const StoredEvent& e) { return e.event.tenant != tenant; });
  if (events->empty()) {  // as a key that never had a record: another tenant's is not revealed
    ASHLAR_TRY(key, runtime::cast_id(**r, "history", id));
    return fail(Error::not_found((*r)->name(), fmt::format("no {} with primary key {} has ever existed", (*r)->name(),
                                                           describe_key(*key))));
  }
  return events;
}

Result<RebuildReport> Engine::rebuild(RebuildOptions options) {
  return impl_->replay.rebuild(*impl_->log, impl_->state, std::move(options));
}

Result<RebuildReport> Engine::rebuild_projection(std::string_view name, RebuildOptions options) {
  return impl_->replay.rebuild(*impl_->log, impl_->state, std::move(options), name);
}

Result<VerifyReport> Engine::verify(VerifyOptions options) const {
  ASHLAR_TRY_VOID(catch_up());
  if (options.chain_key.empty()) options.chain_key = impl_->options.chain_key;
  options.upcast = impl_->replay.upcast();
  return ashlar::verify(*impl_->log, impl_->replay.targets(impl_->state), options, &impl_->domain);
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
