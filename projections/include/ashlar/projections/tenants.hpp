#pragma once
// Context multitenancy in the store: each tenant's records of such a resource live in
// databases of their own (StateProjection::tenant_layout), created in the write
// transaction that first writes that tenant's records. LMDB hands a database opened in a
// write transaction to other transactions only once it commits, so a tenant created by a
// transaction serves readers from the commit on (committed()); until then only that
// transaction sees it.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/projections/rebuild.hpp>
#include <ashlar/projections/state.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace ashlar {

class ASHLAR_API TenantTables {
 public:
  // The tenants' databases of every context-multitenant resource of `domain` that the
  // store holds, opened. log must outlive this.
  static Result<std::shared_ptr<TenantTables>> open(Log& log, const Domain& domain);

  // `tenant`'s tables of `resource` as txn sees them: those committed, and in a write
  // transaction also those it created. nullptr when the tenant has none.
  Result<std::shared_ptr<const StateProjection>> find(const Txn& txn, std::string_view resource,
                                                      const std::string& tenant) const;
  // The same for a write: created in txn when missing. store_full naming the resource and
  // the tenant when the store may open no more databases.
  Result<std::shared_ptr<const StateProjection>> create(Txn& txn, std::string_view resource,
                                                        const std::string& tenant);
  // After a write transaction commits: the tables it created serve every transaction.
  Result<void> committed();
  // Opens the tables the store holds that are not open yet (after a rebuild made some).
  Result<void> refresh();

  // The tenants whose tables of `resource` hold records in txn, sorted.
  Result<std::vector<std::string>> tenants(const Txn& txn, std::string_view resource) const;
  // The tenants whose tables of `resource` the store holds (those with records or not).
  std::vector<std::string> known(std::string_view resource) const;

 private:
  TenantTables(Log& log, Domain domain) : log_(log), domain_(std::move(domain)) {}
  using Key = std::pair<std::string, std::string>;  // resource, tenant
  Result<void> open_stored(const Txn& txn);

  Log& log_;
  Domain domain_;
  mutable std::shared_mutex mutex_;  // guards open_
  std::map<Key, std::shared_ptr<const StateProjection>> open_;
  std::mutex created_mutex_;  // guards created_
  std::set<Key> created_;     // by write transactions not yet known to have committed
};

// Folds an event just appended in txn into the state: `state`'s tables, or for a
// context-multitenant resource its tenant's (created in txn when new). The write path of
// the engine and of a replica; the record as it now stands (nullopt after a destroy).
ASHLAR_API Result<std::optional<StoredRecord>> fold_appended(Txn& txn, const StateProjection& state,
                                                             TenantTables& tenants, const Event& event);

// The tenants' tables as targets of a rebuild or verification: one per (resource, tenant)
// of the context-multitenant resources of `domain`, folded from that tenant's events of
// the resource alone. Every tenant the log has events of, and every one whose tables
// `known` holds (may be null), so a rebuild empties tables no event fills.
struct ASHLAR_API TenantTargets {
  std::vector<std::unique_ptr<StateProjection>> layouts{};  // the targets refer to these
  std::vector<RebuildTarget> targets{};
};
ASHLAR_API Result<TenantTargets> tenant_targets(const Log& log, const Domain& domain, const TenantTables* known);

}  // namespace ashlar
