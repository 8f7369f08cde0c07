#pragma once
// The model's insides, for the model library's own builders and decoders.

#include <ashlar/model/resource.hpp>

namespace ashlar {

struct DomainData {
  std::string name;
  std::vector<Resource> resources;
};

struct ModelAccess {
  static std::vector<Relationship>& relationships(Resource& r) { return r.relationships_; }
  static std::vector<Identity>& identities(Resource& r) { return r.identities_; }
  static std::vector<std::string>& indexed(Resource& r) { return r.indexed_; }
  static std::vector<std::pair<std::string, Aggregate>>& aggregates(Resource& r) { return r.aggregates_; }
  static std::vector<ActionStep>& global_steps(Resource& r) { return r.global_steps_; }
  static std::vector<CalculationDef>& calculations(Resource& r) { return r.calculations_; }
  static std::vector<CodeInterface>& interfaces(Resource& r) { return r.interfaces_; }
  static std::vector<Policy>& policies(Resource& r) { return r.policies_; }
  static std::vector<FieldPolicy>& field_policies(Resource& r) { return r.field_policies_; }
  static MultitenancyDecl& multitenancy(Resource& r) { return r.multitenancy_; }
  static Domain make(std::shared_ptr<const DomainData> data) {
    Domain d;
    d.data_ = std::move(data);
    return d;
  }
};

// action_kinds.cpp: soft destroys, upserts and generic actions (resolving upsert_fields
// into the action), and code interfaces against the resource's actions.
class AcceptList;
void check_action_kind(const Resource& r, const AcceptList& upsert_fields, Action& action,
                       std::vector<FieldError>& problems);
std::vector<CodeInterface> check_interfaces(const Resource& r, const std::vector<CodeInterface>& declared,
                                            std::vector<FieldError>& problems);

// relationships.cpp
void check_identities(const Resource& r, const std::vector<Identity>& identities, std::vector<FieldError>& problems);
// The declared multitenancy checked against r's attributes; on success the identities
// that are not all_tenants get the tenant attribute first, and the tenant attribute is
// indexed (a tenant's reads look its records up, never scan every tenant's).
void check_multitenancy(Resource& r, const MultitenancyDecl& decl, std::vector<Identity>& identities,
                        std::vector<FieldError>& problems);
// Resolves each resource's declared relationships (declared[i] belongs to resources[i]).
void resolve_relationships(DomainData& data, const std::vector<std::vector<Relationship>>& declared,
                           std::vector<FieldError>& problems);
// Checks relationship filters and sorts once every relationship is resolved.
void check_relationship_filters(const DomainData& data, std::vector<FieldError>& problems);

// Why `path` does not resolve from `r` (ref_problem before there is a Domain), and the
// resource an aggregate's path ends at.
std::optional<std::string> path_problem_in(const std::vector<Resource>& all, const Resource& r,
                                           const std::vector<std::string>& path);
Result<const Resource*> aggregate_destination(const std::vector<Resource>& all, const Resource& r, const Aggregate& a);

// stored_model.cpp: names that repeat and references that lead nowhere in a decoded
// stored model (relationships, filters and calculations are checked by the functions above).
std::vector<FieldError> stored_model_problems(const DomainData& data);

// calculations.cpp: names, the refs and arguments of calculations' expressions, once
// every relationship is resolved. A stored model's code calculations are listed without
// their code (`stored`).
void check_calculations(const DomainData& data, std::vector<FieldError>& problems, bool stored = false);

// policies.cpp: conditions simple, actions and attributes named known, filter checks'
// refs and aggregates resolved, relates_to_actor_via's expression made, once every
// relationship is resolved.
void check_policies(DomainData& data, std::vector<FieldError>& problems);

}  // namespace ashlar
