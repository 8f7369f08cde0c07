// What a stored model must hold before any reader trusts it: the checks of
// DomainBuilder::build that concern names and references, applied to a decoded model.
#include "access.hpp"

#include <fmt/format.h>

#include <set>

namespace ashlar {
namespace {

using Problems = std::vector<FieldError>;

void check_names(const std::string& where, const std::vector<std::string>& names, const Resource& r,
                 Problems& out) {
  for (const auto& name : names)
    if (!r.attribute(name))
      out.push_back({where, "unknown_attribute", fmt::format("{} is not an attribute of {}", name, r.name())});
}

void check_actions(const Resource& r, Problems& out) {
  std::set<std::string> names;
  std::set<ActionType> primaries;
  for (const auto& a : r.actions()) {
    std::string where = r.name() + ".actions." + a.name;
    if (a.name.empty() || !names.insert(a.name).second)
      out.push_back({where, "duplicate_action", "is declared more than once"});
    if (a.primary && !primaries.insert(a.type).second)
      out.push_back({where, "multiple_primary_actions", "is a second primary action of its type"});
    check_names(where, a.accept, r, out);
    check_names(where, a.upsert_fields, r, out);
    std::set<std::string> arguments;
    for (const auto& arg : a.arguments)
      if (arg.name.empty() || !arguments.insert(arg.name).second)
        out.push_back({where + "." + arg.name, "duplicate_argument", "is declared more than once"});
    if (a.upsert && !a.upsert_identity.empty()) {
      bool known = false;
      for (const auto& id : r.identities()) known = known || id.name == a.upsert_identity;
      if (!known)
        out.push_back({where, "unknown_identity", fmt::format("{} has no identity {}", r.name(), a.upsert_identity)});
    }
  }
}

}  // namespace

std::vector<FieldError> stored_model_problems(const DomainData& data) {
  Problems out;
  if (data.name.empty()) out.push_back({"domain", "invalid_name", "has no name"});
  std::set<std::string> resources;
  for (const auto& r : data.resources) {
    if (r.name().empty() || !resources.insert(r.name()).second)
      out.push_back({r.name(), "duplicate_resource", "is declared more than once"});
    std::set<std::string> attributes;
    for (const auto& a : r.attributes())
      if (a.name.empty() || !attributes.insert(a.name).second)
        out.push_back({r.name() + "." + a.name, "duplicate_attribute", "is declared more than once"});
    if (r.primary_key().empty()) out.push_back({r.name(), "no_primary_key", "has no primary key"});
    check_actions(r, out);
    check_identities(r, r.identities(), out);
    check_names(r.name() + ".indexed", r.indexed_attributes(), r, out);
    std::set<std::string> aggregates;
    for (const auto& [name, aggregate] : r.aggregates())
      if (name.empty() || !aggregates.insert(name).second)
        out.push_back({r.name() + "." + name, "duplicate_aggregate", "is declared more than once"});
  }
  return out;
}

}  // namespace ashlar
