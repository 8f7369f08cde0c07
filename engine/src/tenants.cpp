// Context multitenancy: the Engine's calls on tenants' tables.
#include "impl.hpp"

#include <fmt/format.h>

namespace ashlar {

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
