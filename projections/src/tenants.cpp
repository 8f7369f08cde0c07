// Context multitenancy: the tenants' own tables, opened as the store holds them, created
// on a tenant's first write, and handed to readers once that write commits.
#include <ashlar/projections/tenants.hpp>

#include <fmt/format.h>

namespace ashlar {
namespace {

const Resource* context_resource(const Domain& domain, std::string_view name) {
  const Resource* r = domain.resource(name);
  return r && r->multitenancy().strategy == Multitenancy::context ? r : nullptr;
}

// Whether the store holds a database of exactly this name, in txn's snapshot.
Result<bool> holds(const Txn& txn, const std::string& name) {
  ASHLAR_TRY(names, txn.database_names(name));
  return !names->empty() && names->front() == name;
}

}  // namespace

Result<std::shared_ptr<TenantTables>> TenantTables::open(Log& log, const Domain& domain) {
  std::shared_ptr<TenantTables> tables(new TenantTables(log, domain));
  ASHLAR_TRY_VOID(tables->refresh());
  return tables;
}

Result<void> TenantTables::refresh() {
  ASHLAR_TRY(txn, log_.read());
  return open_stored(*txn);
}

Result<void> TenantTables::open_stored(const Txn& txn) {
  for (const auto& r : domain_.resources()) {
    if (r.multitenancy().strategy != Multitenancy::context) continue;
    std::string prefix = StateProjection::tenant_records_prefix(r.name());
    ASHLAR_TRY(names, txn.database_names(prefix));
    for (const auto& name : *names) {
      auto tenant = StateProjection::tenant_of_part(std::string_view(name).substr(prefix.size()));
      if (!tenant) continue;  // not a tenant's name (another resource's, or not ashlar's)
      Key key{r.name(), *tenant};
      {
        std::shared_lock lock(mutex_);
        if (open_.count(key)) continue;
      }
      ASHLAR_TRY(opened, StateProjection::open_tenant(log_, r, *tenant));
      std::unique_lock lock(mutex_);
      open_.emplace(std::move(key), std::make_shared<const StateProjection>(std::move(*opened)));
    }
  }
  return {};
}

namespace {

// A write that needs a tenant's databases when the store may open no more (whether it
// finds that looking for them or creating them).
Error no_room(std::string_view tenant, std::string_view resource) {
  return Error::unknown(fmt::format("tenant {} of {} needs databases of its own, and the store may open no more "
                                    "(raise Options::tenant_databases); nothing was written",
                                    tenant, resource))
      .with_code(codes::kStoreFull);
}

}  // namespace

Result<std::shared_ptr<const StateProjection>> TenantTables::find(const Txn& txn, std::string_view resource,
                                                                  const std::string& tenant) const {
  {
    std::shared_lock lock(mutex_);
    auto it = open_.find(Key{std::string(resource), tenant});
    if (it != open_.end()) return it->second;
  }
  const Resource* r = context_resource(domain_, resource);
  if (!r) return fail(Error::framework(fmt::format("{} keeps no records per tenant", resource)));
  if (!txn.writable()) return std::shared_ptr<const StateProjection>{};
  // Created earlier in this write transaction, perhaps: its handles serve it alone.
  auto opened = StateProjection::open_tenant(txn, *r, tenant, false);
  if (!opened && opened.error().code == codes::kStoreFull) return fail(no_room(tenant, resource));
  if (!opened) return fail(opened.error());
  if (!*opened) return std::shared_ptr<const StateProjection>{};
  return std::make_shared<const StateProjection>(std::move(**opened));
}

Result<std::shared_ptr<const StateProjection>> TenantTables::create(Txn& txn, std::string_view resource,
                                                                    const std::string& tenant) {
  {
    std::shared_lock lock(mutex_);
    auto it = open_.find(Key{std::string(resource), tenant});
    if (it != open_.end()) return it->second;
  }
  const Resource* r = context_resource(domain_, resource);
  if (!r) return fail(Error::framework(fmt::format("{} keeps no records per tenant", resource)));
  auto opened = StateProjection::open_tenant(txn, *r, tenant, true);
  if (!opened && opened.error().code == codes::kStoreFull) return fail(no_room(tenant, resource));
  if (!opened) return fail(opened.error());
  if (!*opened) return fail(Error::unknown(fmt::format("tenant {} of {}: its databases were not created", tenant, resource)));
  {
    std::lock_guard lock(created_mutex_);
    created_.insert(Key{std::string(resource), tenant});
  }
  return std::make_shared<const StateProjection>(std::move(**opened));
}

Result<void> TenantTables::committed() {
  std::set<Key> created;
  {
    std::lock_guard lock(created_mutex_);
    if (created_.empty()) return {};
    created.swap(created_);
  }
  // A tenant created by an action that rolled back has no databases: it stays unknown.
  ASHLAR_TRY(txn, log_.read());
  for (const auto& key : created) {
    const Resource* r = context_resource(domain_, key.first);
    if (!r) continue;
    ASHLAR_TRY(stored, holds(*txn, StateProjection::tenant_layout(*r, key.second).tables().front().name));
    if (!*stored) continue;
    ASHLAR_TRY(opened, StateProjection::open_tenant(log_, *r, key.second));
    std::unique_lock lock(mutex_);
    open_.emplace(key, std::make_shared<const StateProjection>(std::move(*opened)));
  }
  return {};
}

Result<std::vector<std::string>> TenantTables::tenants(const Txn& txn, std::string_view resource) const {
  std::vector<std::pair<std::string, std::shared_ptr<const StateProjection>>> candidates;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [key, projection] : open_)
      if (key.first == resource) candidates.emplace_back(key.second, projection);
  }
  std::vector<std::string> out;
  for (const auto& [tenant, projection] : candidates) {
    ASHLAR_TRY(n, projection->count(txn, resource));
    if (*n > 0) out.push_back(tenant);
  }
  return out;  // the map's order: sorted by tenant
}

std::vector<std::string> TenantTables::known(std::string_view resource) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [key, projection] : open_)
    if (key.first == resource) out.push_back(key.second);
  return out;
}

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

Result<std::optional<StoredRecord>> fold_appended(Txn& txn, const StateProjection& state, TenantTables& tenants,
                                                  const Event& event) {
  if (!state.tenanted(event.resource)) return state.apply(txn, event);
  ASHLAR_TRY(own, tenants.create(txn, event.resource, event.tenant));
  return (*own)->apply(txn, event);
}

}  // namespace ashlar
