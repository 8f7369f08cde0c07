// Build-time resolution of relationships: defaults after Ash, checks that every
// attribute they name exists, and the secondary indexes their loads need.
#include <ashlar/model/dsl.hpp>

#include "access.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace ashlar {
namespace {

using Problems = std::vector<FieldError>;

// The name of a resource's only primary key attribute, or "" for a composite key.
std::string single_key(const Resource& r) {
  return r.primary_key().size() == 1 ? r.attributes()[r.primary_key()[0]].name : "";
}

void add_index(Resource& r, const std::string& attribute) {
  if (attribute.empty() || attribute == single_key(r) || !r.attribute(attribute)) return;
  if (!r.indexed(attribute)) ModelAccess::indexed(r).push_back(attribute);
}

struct Checker {
  const Resource& source;
  const Relationship& rel;
  Problems& problems;

  std::string where() const { return source.name() + "." + rel.name; }
  void require(const Resource& on, const std::string& attribute, const char* role) {
    if (on.attribute(attribute)) return;
    problems.push_back({where(), "unknown_attribute",
                        attribute.empty()
                            ? fmt::format("{} has a composite primary key; name the {} attribute", on.name(), role)
                            : fmt::format("{} attribute {} does not exist on {}", role, attribute, on.name())});
  }
};

// Fills in Ash's defaults for the attributes the relationship joins on.
void apply_defaults(const Resource& source, const Resource& dest, Relationship& rel) {
  switch (rel.kind) {
    case RelationshipKind::belongs_to:
      if (rel.source_attribute.empty()) rel.source_attribute = rel.name + "_id";
      if (rel.destination_attribute.empty()) rel.destination_attribute = single_key(dest);
      break;
    case RelationshipKind::has_one:
    case RelationshipKind::has_many:
      if (rel.source_attribute.empty()) rel.source_attribute = single_key(source);
      if (rel.destination_attribute.empty()) rel.destination_attribute = snake_case(source.name()) + "_id";
      break;
    case RelationshipKind::many_to_many:
      if (rel.source_attribute.empty()) rel.source_attribute = single_key(source);
      if (rel.destination_attribute.empty()) rel.destination_attribute = single_key(dest);
      if (rel.source_attribute_on_join_resource.empty())
        rel.source_attribute_on_join_resource = snake_case(source.name()) + "_id";
      if (rel.destination_attribute_on_join_resource.empty())
        rel.destination_attribute_on_join_resource = snake_case(dest.name()) + "_id";
      break;
  }
}

const Resource* find(const std::vector<Resource>& all, std::string_view name) {
  for (const auto& r : all)
    if (r.name() == name) return &r;
  return nullptr;
}

// Where `path` (to-one relationships, then an attribute) does not resolve from `r`.
std::optional<std::string> path_problem(const std::vector<Resource>& all, const Resource& r,
                                        const std::vector<std::string>& path) {
  const Resource* at = &r;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    const Relationship* rel = at->relationship(path[i]);
    if (!rel) return fmt::format("{} has no relationship {}", at->name(), path[i]);
    if (!rel->to_one())
      return fmt::format("{}.{} is a {} relationship; only to-one relationships can be followed in a path",
                         at->name(), path[i], to_string(rel->kind));
    at = find(all, rel->destination);
    if (!at) return fmt::format("{}.{} relates to {}, which does not exist", r.name(), path[i], rel->destination);
  }
  if (path.empty() || (!at->attribute(path.back()) && !at->aggregate(path.back()) && !at->calculation(path.back())))
    return fmt::format("{} has no attribute {}", at->name(), path.empty() ? "" : path.back());
  return std::nullopt;
}

// Every ref of a relationship's filter resolves: plain refs on the destination, refs
// under parent(...) on the source.
void check_filter(const std::vector<Resource>& all, const Resource& source, const Relationship& rel,
                  Problems& problems) {
  const Resource* dest = find(all, rel.destination);
  if (!rel.filter || !dest) return;
  visit_refs(*rel.filter, [&](const std::vector<std::string>& path, bool under_parent) {
    if (auto p = path_problem(all, under_parent ? source : *dest, path))
      problems.push_back({source.name() + "." + rel.name, "unknown_attribute", "filter: " + *p});
  });
  for (const auto& key : rel.sort) {
    if (auto p = path_problem(all, *dest, key.path()))
      problems.push_back({source.name() + "." + rel.name, "unknown_attribute", "sort: " + *p});
  }
}

}  // namespace

std::optional<std::string> path_problem_in(const std::vector<Resource>& all, const Resource& r,
                                           const std::vector<std::string>& path) {
  return path_problem(all, r, path);
}

std::optional<std::string> ref_problem(const Domain& domain, const Resource& r, const std::vector<std::string>& path) {
  return path_problem(domain.resources(), r, path);
}

std::optional<PathEnd> resolve_path(const Domain& domain, const Resource& r, const std::vector<std::string>& path) {
  if (path_problem(domain.resources(), r, path)) return std::nullopt;
  const Resource* at = &r;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) at = domain.resource(at->relationship(path[i])->destination);
  return PathEnd{at, at->attribute(path.back())};
}

void check_identities(const Resource& r, const std::vector<Identity>& identities, std::vector<FieldError>& problems) {
  std::set<std::string> names;
  for (const auto& id : identities) {
    std::string where = r.name() + ".identities." + id.name;
    if (!names.insert(id.name).second) problems.push_back({where, "duplicate_identity", "is declared more than once"});
    if (id.attributes.empty()) problems.push_back({where, "invalid_identity", "names no attributes"});
    for (const auto& a : id.attributes) {
      const Attribute* attr = r.attribute(a);
      if (!attr)
        problems.push_back({where, "unknown_attribute", fmt::format("{} is not an attribute of {}", a, r.name())});
      else if (attr->type.kind == TypeKind::map || attr->type.kind == TypeKind::array)
        problems.push_back({where, "invalid_identity", fmt::format("{} is a {}, which cannot be unique", a, attr->type.name())});
    }
  }
}

void check_multitenancy(Resource& r, const MultitenancyDecl& decl, std::vector<Identity>& identities,
                        std::vector<FieldError>& problems) {
  if (decl.strategy == Multitenancy::none) return;
  std::string where = r.name() + ".multitenancy";
  if (decl.strategy == Multitenancy::context) {
    if (!decl.attribute.empty())
      problems.push_back({where, "invalid_multitenancy",
                          "the context strategy names no attribute: each tenant's records live in databases of their own"});
    if (decl.global)
      problems.push_back({where, "invalid_multitenancy",
                          "the context strategy cannot be global: every record lives in a tenant's databases"});
    return;
  }
  const Attribute* attr = r.attribute(decl.attribute);
  if (!attr) {
    problems.push_back({where, "unknown_attribute",
                        decl.attribute.empty() ? std::string("names no tenant attribute")
                                               : fmt::format("{} is not an attribute of {}", decl.attribute, r.name())});
    return;
  }
  TypeKind k = attr->type.kind;
  if (k != TypeKind::string && k != TypeKind::integer && k != TypeKind::uuid && k != TypeKind::atom) {
    problems.push_back({where, "invalid_tenant_attribute",
                        fmt::format("{} is a {}; a tenant attribute is a string, integer, uuid or atom",
                                    decl.attribute, attr->type.name())});
    return;
  }
  for (auto& id : identities)
    if (!id.all_tenants && std::find(id.attributes.begin(), id.attributes.end(), decl.attribute) == id.attributes.end())
      id.attributes.insert(id.attributes.begin(), decl.attribute);
  add_index(r, decl.attribute);
}

void resolve_relationships(DomainData& data, const std::vector<std::vector<Relationship>>& declared,
                           std::vector<FieldError>& problems) {
  for (std::size_t i = 0; i < data.resources.size() && i < declared.size(); ++i) {
    Resource& source = data.resources[i];
    std::set<std::string> names;
    for (Relationship rel : declared[i]) {
      Checker check{source, rel, problems};
      if (!names.insert(rel.name).second)
        problems.push_back({check.where(), "duplicate_relationship", "is declared more than once"});
      if (source.attribute(rel.name))
        problems.push_back({check.where(), "duplicate_name", "has the name of an attribute of " + source.name()});
      Resource* dest = nullptr;
      for (auto& r : data.resources)
        if (r.name() == rel.destination) dest = &r;
      if (!dest) {
        problems.push_back({check.where(), "unknown_resource",
                            fmt::format("relates to {}, which is not a resource of domain {}", rel.destination, data.name)});
        ModelAccess::relationships(source).push_back(std::move(rel));
        continue;
      }
      apply_defaults(source, *dest, rel);
      if (!rel.read_action.empty()) {
        const Action* read = dest->action(rel.read_action);
        if (!read || read->type != ActionType::read)
          problems.push_back({check.where(), "unknown_action",
                              fmt::format("read_action: {} has no read action named {}", dest->name(), rel.read_action)});
      }
      if (!rel.no_attributes && !rel.manual) {
        check.require(source, rel.source_attribute, "source");
        check.require(*dest, rel.destination_attribute, "destination");
        if (rel.kind == RelationshipKind::many_to_many) {
          Resource* join = nullptr;
          for (auto& r : data.resources)
            if (r.name() == rel.through) join = &r;
          if (!join) {
            problems.push_back({check.where(), "unknown_resource",
                                rel.through.empty() ? std::string("a many_to_many relationship needs `through`")
                                                    : fmt::format("goes through {}, which is not a resource of domain {}",
                                                                  rel.through, data.name)});
          } else {
            check.require(*join, rel.source_attribute_on_join_resource, "join source");
            check.require(*join, rel.destination_attribute_on_join_resource, "join destination");
            add_index(*join, rel.source_attribute_on_join_resource);
            add_index(*join, rel.destination_attribute_on_join_resource);
          }
        }
        add_index(*dest, rel.destination_attribute);
      }
      ModelAccess::relationships(source).push_back(std::move(rel));
    }
  }
}

// The resource an aggregate's relationship path ends at, or why it does not resolve.
Result<const Resource*> aggregate_destination(const std::vector<Resource>& all, const Resource& r,
                                              const Aggregate& a) {
  const Resource* at = &r;
  for (const auto& segment : a.path) {
    const Relationship* rel = at->relationship(segment);
    if (!rel) return fail(Error::framework(fmt::format("{} has no relationship {}", at->name(), segment)));
    at = find(all, rel->destination);
    if (!at) return fail(Error::framework(fmt::format("{} does not exist", rel->destination)));
  }
  bool needs_field = a.kind != AggregateKind::count && a.kind != AggregateKind::exists;
  if (needs_field && !at->attribute(a.field))
    return fail(Error::framework(fmt::format("{} has no attribute {}", at->name(), a.field)));
  return at;
}

void check_relationship_filters(const DomainData& data, std::vector<FieldError>& problems) {
  for (const auto& source : data.resources) {
    for (const auto& rel : source.relationships()) check_filter(data.resources, source, rel, problems);
    for (const auto& [name, aggregate] : source.aggregates()) {
      std::string where = source.name() + "." + name;
      if (source.attribute(name) || source.relationship(name))
        problems.push_back({where, "duplicate_name", "an aggregate has the name of an attribute or relationship"});
      auto dest = aggregate_destination(data.resources, source, aggregate);
      if (!dest) problems.push_back({where, "unknown_attribute", dest.error().message});
    }
  }
}

}  // namespace ashlar
