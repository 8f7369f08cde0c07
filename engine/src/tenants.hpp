#pragma once
// Context multitenancy in rebuilds and verification: each tenant's tables are a target of
// their own, folded from that tenant's events of the resource.

#include <ashlar/projections/rebuild.hpp>
#include <ashlar/projections/tenants.hpp>

#include <memory>
#include <vector>

namespace ashlar::runtime {

struct TenantTargets {
  std::vector<std::unique_ptr<StateProjection>> layouts;  // the targets refer to these
  std::vector<RebuildTarget> targets;
};

// A target per (resource, tenant) of the context-multitenant resources of `domain`: every
// tenant the log has events of, and every one whose tables the store holds (`known`, may
// be null), so a rebuild empties tables no event fills and verify compares them.
Result<TenantTargets> tenant_targets(const Log& log, const Domain& domain, const TenantTables* known);

}  // namespace ashlar::runtime
