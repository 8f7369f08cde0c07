// Context multitenancy: the Engine's calls on tenants' tables, and those tables as
// targets of rebuilds and verification.
#include "tenants.hpp"

#include "impl.hpp"

#include <fmt/format.h>

#include <set>

namespace ashlar {

namespace runtime {

Result<TenantTargets> tenant_targets(const Log& log, const Domain& domain, const TenantTables* known) {
  TenantTargets out;
  ASHLAR_TRY(txn, log.read());
  for (const auto& r : domain.resources()) {
    if (r.multitenancy().strategy != Multitenancy::context) continue;
    std::set<std::string> tenants;
    if (known)
      for (auto& t : known->known(r.name())) tenants.insert(std::move(t));
    ASHLAR_TRY_VOID(log.scan_resource(*txn, r.name(), 1, [&](const StoredEvent& e) {
      tenants.insert(e.event.tenant);
      return true;
    }));
    for (const auto& tenant : tenants) {
      auto layout = std::make_unique<StateProjection>(StateProjection::tenant_layout(r, tenant));
      RebuildTarget target = layout->target();
      target.name = fmt::format("state of {} in tenant {}", r.name(), tenant);
      target.apply = [p = layout.get(), name = r.name(), tenant](StateStore& tables,
                                                                const StoredEvent& stored) -> Result<void> {
        if (stored.event.resource != name || stored.event.tenant != tenant) return {};
        ASHLAR_TRY(applied, p->apply(tables, stored.event));
        return {};
      };
      out.targets.push_back(std::move(target));
      out.layouts.push_back(std::move(layout));
    }
  }
  return out;
}

}  // namespace runtime

namespace {

Result<const Resource*> context_resource(const EngineImpl& impl, std::string_view name) {
  ASHLAR_TRY(r, impl.resource(name));
  if ((*r)->multitenancy().strategy != Multitenancy::context)
    return fail(Error::framework(fmt::format("{} is not multitenant by context: its records are not kept per tenant",
                                             name)));
  return *r;
}

}  // namespace

Result<std::vector<std::string>> Engine::tenants(std::string_view resource) const {
  ASHLAR_TRY(r, context_resource(*impl_, resource));
  ASHLAR_TRY(txn, impl_->log->read());
  return impl_->tenants->tenants(*txn, (*r)->name());
}

Result<bool> Engine::drop_tenant_projections(std::string_view resource, const std::string& tenant) {
  ASHLAR_TRY(r, context_resource(*impl_, resource));
  bool had = false;
  auto dropped = impl_->in_transaction(
      [&](Txn& txn) -> Result<void> {
        ASHLAR_TRY(tables, impl_->tenants->find(txn, (*r)->name(), tenant));
        if (!*tables) return {};
        ASHLAR_TRY(n, (*tables)->count(txn, (*r)->name()));
        had = *n > 0;
        // Emptied, not deleted: a handle other transactions hold stays valid.
        for (const auto& db : (*tables)->dbs()) ASHLAR_TRY_VOID(txn.clear(db));
        return {};
      },
      {}, false);
  if (!dropped) return fail(dropped.error());
  return had;
}

}  // namespace ashlar
