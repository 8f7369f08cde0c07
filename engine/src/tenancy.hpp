#pragma once
// Attribute multitenancy (ashlar/model/resource.hpp, MultitenancyDecl): the tenant a call
// gives, as the value the resource's tenant attribute holds, and what it scopes.

#include <ashlar/model/resource.hpp>
#include <ashlar/record.hpp>

#include <optional>
#include <string>

namespace ashlar::runtime {

// Context multitenancy: a tenant is at most this long (it is part of database names).
inline constexpr std::size_t kMaxContextTenant = 128;

// The value r's tenant attribute holds for `tenant`: nullopt when r is not multitenant,
// or is global and no tenant is given (every tenant), or keeps its tenants apart (context
// strategy: there is no attribute to hold). Invalid (code tenant_required) naming r and
// action when r needs a tenant and none is given; Invalid (invalid_type) when the tenant
// does not cast to the attribute's type; Invalid (too_long) when a context tenant is
// longer than kMaxContextTenant.
Result<std::optional<Value>> tenant_value(const Resource& r, std::string_view action, const std::string& tenant);

// The filter that scopes a read of r to `tenant` (nullopt: nothing to scope), or
// tenant_value's error.
Result<std::optional<Expr>> tenant_filter(const Resource& r, std::string_view action, const std::string& tenant);

// Whether `record` of r belongs to the tenant `value` (tenant_value's result): always
// when value is nullopt.
bool in_tenant(const Resource& r, const Record& record, const std::optional<Value>& value);

// Whether `attribute` is in `identity` only because r is multitenant (unique per tenant:
// the tenant attribute is added to it). An error about the identity names the values
// the caller gave, not the tenant the call was made in.
bool tenant_part(const Resource& r, const Identity& identity, std::string_view attribute);

// The tenant's field error for a changeset: a create gets the tenant attribute from the
// tenant; an input that gives it another value, or an update that moves a record to
// another tenant, is refused. Nullopt when the changeset may go on.
std::optional<FieldError> tenant_input_problem(const Resource& r, const std::optional<Value>& value,
                                               const Value& given);

}  // namespace ashlar::runtime
