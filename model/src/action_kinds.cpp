// Checks of the kinds of action beyond plain create/read/update/destroy — soft destroys,
// upserts, generic actions — and of code interfaces, when the domain is built.
#include <ashlar/model/dsl.hpp>

#include "access.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace ashlar {
namespace {

using Problems = std::vector<FieldError>;

void check_upsert(const Resource& r, const AcceptList& fields, Action& a, const std::string& where, Problems& out) {
  if (a.type != ActionType::create) {
    out.push_back({where, "upsert_not_allowed", "only create actions can upsert"});
    return;
  }
  const Identity* identity = nullptr;
  if (!a.upsert_identity.empty()) {
    identity = r.identity(a.upsert_identity);
    if (!identity)
      out.push_back({where, "unknown_identity",
                     fmt::format("upserts on \"{}\", which is not an identity of {}", a.upsert_identity, r.name())});
  }
  // The attributes that find the record cannot change: the identity's and the key's.
  auto finds = [&](const std::string& name) {
    const Attribute* attr = r.attribute(name);
    if (attr && attr->primary_key) return true;
    return identity && std::find(identity->attributes.begin(), identity->attributes.end(), name) !=
                           identity->attributes.end();
  };
  if (!fields.given()) {
    for (const auto& name : a.accept)
      if (!finds(name)) a.upsert_fields.push_back(name);
    return;
  }
  for (const auto& name : fields.names()) {
    const Attribute* attr = r.attribute(name);
    if (!attr) {
      out.push_back({where, "unknown_attribute",
                     fmt::format("upsert_fields names \"{}\", which is not an attribute of {}", name, r.name())});
    } else if (finds(name)) {
      out.push_back({where, "invalid_upsert_field",
                     fmt::format("upsert_fields names \"{}\", which identifies the record and cannot change", name)});
    } else {
      a.upsert_fields.push_back(name);
    }
  }
}

}  // namespace

void check_action_kind(const Resource& r, const AcceptList& upsert_fields, Action& a, Problems& out) {
  std::string where = r.name() + ".actions." + a.name;
  if (a.soft && a.type != ActionType::destroy)
    out.push_back({where, "soft_not_allowed", "only destroy actions can be soft"});
  if (a.upsert) check_upsert(r, upsert_fields, a, where, out);
  else if (!a.upsert_identity.empty() || upsert_fields.given() || a.upsert_condition)
    out.push_back({where, "upsert_options_without_upsert", "has upsert options but is not an upsert"});
  if (a.type == ActionType::generic && !a.run)
    out.push_back({where, "missing_run", "a generic action needs a run function"});
}

std::vector<CodeInterface> check_interfaces(const Resource& r, const std::vector<CodeInterface>& declared,
                                            Problems& out) {
  std::vector<CodeInterface> kept;
  std::set<std::string> names;
  for (const auto& i : declared) {
    std::string where = r.name() + ".interfaces." + i.name;
    std::size_t before = out.size();
    if (!names.insert(i.name).second) out.push_back({where, "duplicate_interface", "is declared more than once"});
    const Action* a = r.action(i.action);
    if (!a) {
      out.push_back({where, "unknown_action", fmt::format("calls {}, which is not an action of {}", i.action, r.name())});
      continue;
    }
    if (!i.get_by.empty() && a->type != ActionType::read)
      out.push_back({where, "get_by_not_allowed",
                     fmt::format("get_by is for read actions; {}.{} is {}", r.name(), a->name, an_action(a->type))});
    std::set<std::string> positional;
    for (const auto& name : i.get_by) {
      if (!positional.insert(name).second) out.push_back({where, "duplicate_arg", fmt::format("names \"{}\" twice", name)});
      if (!r.attribute(name))
        out.push_back({where, "unknown_attribute", fmt::format("get_by names \"{}\", which is not an attribute of {}", name, r.name())});
    }
    for (const auto& name : i.args) {
      if (!positional.insert(name).second) out.push_back({where, "duplicate_arg", fmt::format("names \"{}\" twice", name)});
      if (!a->argument(name) && !a->accepts(name))
        out.push_back({where, "unknown_arg", fmt::format("args names \"{}\", which is not an argument or accepted attribute of {}.{}",
                                                         name, r.name(), a->name)});
    }
    if (out.size() == before) kept.push_back(i);
  }
  return kept;
}

}  // namespace ashlar
