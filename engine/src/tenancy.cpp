// Attribute multitenancy: the call's tenant as a value of the tenant attribute, the
// filter that scopes reads to it, and the checks writes make against it.
#include "tenancy.hpp"

#include <fmt/format.h>

namespace ashlar::runtime {

namespace {

// Context multitenancy: a tenant is required, and short enough to name databases.
Result<std::optional<Value>> context_tenant(const Resource& r, std::string_view action, const std::string& tenant) {
  if (tenant.empty()) {
    Error e = Error::invalid(r.name(), std::string(action),
                             {{"tenant", codes::kTenantRequired,
                               fmt::format("{} keeps each tenant's records apart; every call on it gives a tenant",
                                           r.name())}})
                  .with_code(codes::kTenantRequired);
    e.message = "tenant is required";
    return fail(std::move(e));
  }
  if (tenant.size() > kMaxContextTenant)
    return fail(Error::invalid(r.name(), std::string(action),
                               {{"tenant", "too_long",
                                 fmt::format("is {} bytes; a tenant of {} is at most {}", tenant.size(), r.name(),
                                             kMaxContextTenant)}}));
  return std::optional<Value>{};
}

}  // namespace

Result<std::optional<Value>> tenant_value(const Resource& r, std::string_view action, const std::string& tenant) {
  if (r.multitenancy().strategy == Multitenancy::context) return context_tenant(r, action, tenant);
  const Attribute* attr = r.tenant_attribute();
  if (!attr) return std::optional<Value>{};
  if (tenant.empty()) {
    if (r.multitenancy().global) return std::optional<Value>{};
    Error e = Error::invalid(r.name(), std::string(action),
                             {{"tenant", codes::kTenantRequired,
                               fmt::format("{} is multitenant by {}; every call on it gives a tenant", r.name(), attr->name)}})
                  .with_code(codes::kTenantRequired);
    e.message = "tenant is required";
    return fail(std::move(e));
  }
  auto cast = cast_value(attr->type, Value(tenant));
  if (!cast.value || cast.value->is_null())
    return fail(Error::invalid(r.name(), std::string(action),
                               {{"tenant", "invalid_type",
                                 fmt::format("is not a tenant of {}: {}", r.name(),
                                             cast.value ? "it is empty" : cast.error)}}));
  return std::optional<Value>{std::move(*cast.value)};
}

Result<std::optional<Expr>> tenant_filter(const Resource& r, std::string_view action, const std::string& tenant) {
  ASHLAR_TRY(value, tenant_value(r, action, tenant));
  if (!*value) return std::optional<Expr>{};
  return std::optional<Expr>{dsl::ref(r.tenant_attribute()->name) == Expr(**value)};
}

bool tenant_part(const Resource& r, const Identity& identity, std::string_view attribute) {
  const Attribute* tenant = r.tenant_attribute();
  return tenant && !identity.all_tenants && tenant->name == attribute;
}

bool in_tenant(const Resource& r, const Record& record, const std::optional<Value>& value) {
  return !value || record[r.tenant_attribute()->name] == *value;
}

std::optional<FieldError> tenant_input_problem(const Resource& r, const std::optional<Value>& value,
                                               const Value& given) {
  if (!value || given.is_null() || given == *value) return std::nullopt;
  return FieldError{r.tenant_attribute()->name, "tenant_mismatch",
                    "is the record's tenant: it is set from the call's tenant, and may not name another"};
}

}  // namespace ashlar::runtime
