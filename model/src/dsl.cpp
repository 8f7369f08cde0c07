#include <ashlar/model/dsl.hpp>

#include "topics.hpp"

#include "access.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <set>

namespace ashlar {
namespace {

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

bool key_type(const Type& t) {
  return t.kind != TypeKind::map && t.kind != TypeKind::array;
}

using Problems = std::vector<FieldError>;

void check_attribute(const std::string& res, Attribute& a, Problems& out) {
  std::string where = res + "." + a.name;
  if (!is_identifier(a.name))
    out.push_back({where, "invalid_name", "attribute names are identifiers: letters, digits and _"});
  if (a.primary_key) {
    a.allow_nil = false;
    if (!key_type(a.type))
      out.push_back({where, "invalid_primary_key",
                     fmt::format("a primary key cannot be of type {}", a.type.name())});
  }
  if (!a.default_value.is_null()) {
    auto cast = cast_value(a.type, a.default_value);
    if (!cast.value)
      out.push_back({where, "invalid_default", "default does not fit the type: " + cast.error});
    else
      a.default_value = *cast.value;
  }
  const Constraints& c = a.constraints;
  if (c.match) {
    try {
      std::regex re(*c.match, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      out.push_back({where, "invalid_constraint", fmt::format("match pattern {} does not compile", *c.match)});
    }
  }
  TypeKind base = a.type.kind == TypeKind::array ? a.type.element : a.type.kind;
  bool text = base == TypeKind::string;
  bool number = base == TypeKind::integer || base == TypeKind::floating;
  if ((c.min_length || c.max_length || c.match) && !text)
    out.push_back({where, "invalid_constraint", "min_length, max_length and match apply to strings only"});
  if ((c.min || c.max) && !number)
    out.push_back({where, "invalid_constraint", "min and max apply to integers and floats only"});
  if (!c.one_of.empty() && base != TypeKind::atom)
    out.push_back({where, "invalid_constraint", "one_of applies to atoms only"});
  if (a.allow_empty && a.type.kind != TypeKind::string)
    out.push_back({where, "invalid_option", "allow_empty applies to strings only"});
}

}  // namespace

Argument argument(std::string name, Type type, ArgumentDecl o) {
  return Argument{std::move(name), type, o.allow_nil, o.allow_empty, std::move(o.default_value),
                  std::move(o.constraints), o.sensitive, o.is_public};
}

ResourceBuilder::ResourceBuilder(std::string name) : name_(std::move(name)) {}

ResourceBuilder& ResourceBuilder::attribute(std::string name, Type type, AttributeOptions o) {
  Attribute a;
  a.name = std::move(name);
  a.type = type;
  a.allow_nil = o.allow_nil;
  a.allow_empty = o.allow_empty;
  a.default_value = std::move(o.default_value);
  a.default_fn = std::move(o.default_fn);
  a.update_default_fn = std::move(o.update_default_fn);
  a.is_public = o.is_public;
  a.writable = o.writable;
  a.sensitive = o.sensitive;
  a.primary_key = o.primary_key;
  a.constraints = std::move(o.constraints);
  attributes_.push_back(std::move(a));
  return *this;
}

ResourceBuilder& ResourceBuilder::uuid_primary_key(std::string name) {
  return attribute(std::move(name), type::uuid,
                   {.allow_nil = false, .default_fn = [] { return Value(Uuid::v4()); },
                    .writable = false, .primary_key = true});
}

ResourceBuilder& ResourceBuilder::uuid_v7_primary_key(std::string name) {
  return attribute(std::move(name), type::uuid,
                   {.allow_nil = false, .default_fn = [] { return Value(Uuid::v7()); },
                    .writable = false, .primary_key = true});
}

// The runtime replaces these defaults with the action's own time, so that the event's
// time and the timestamps agree; the functions serve callers that use the model alone.
ResourceBuilder& ResourceBuilder::create_timestamp(std::string name) {
  attribute(std::move(name), type::utc_datetime,
                   {.allow_nil = false, .default_fn = [] { return Value(DateTime::now()); },
                    .writable = false});
  attributes_.back().timestamp = Timestamp::create;
  return *this;
}

ResourceBuilder& ResourceBuilder::update_timestamp(std::string name) {
  attribute(std::move(name), type::utc_datetime,
                   {.allow_nil = false, .default_fn = [] { return Value(DateTime::now()); },
                    .update_default_fn = [] { return Value(DateTime::now()); },
                    .writable = false});
  attributes_.back().timestamp = Timestamp::update;
  return *this;
}

ResourceBuilder& ResourceBuilder::add_action(std::string name, ActionType type, ActionDecl o) {
  actions_.push_back({std::move(name), type, std::move(o)});
  return *this;
}

ResourceBuilder& ResourceBuilder::create(std::string name, ActionDecl o) {
  return add_action(std::move(name), ActionType::create, std::move(o));
}
ResourceBuilder& ResourceBuilder::read(std::string name, ActionDecl o) {
  return add_action(std::move(name), ActionType::read, std::move(o));
}
ResourceBuilder& ResourceBuilder::update(std::string name, ActionDecl o) {
  return add_action(std::move(name), ActionType::update, std::move(o));
}
ResourceBuilder& ResourceBuilder::destroy(std::string name, ActionDecl o) {
  return add_action(std::move(name), ActionType::destroy, std::move(o));
}

ResourceBuilder& ResourceBuilder::action(std::string name, GenericActionDecl o) {
  ActionDecl decl{.arguments = std::move(o.arguments)};
  o.arguments.clear();
  actions_.push_back({std::move(name), ActionType::generic, std::move(decl), std::move(o)});
  return *this;
}

ResourceBuilder& ResourceBuilder::define(std::string name, DefineDecl o) {
  std::string action = o.action.empty() ? name : std::move(o.action);
  bool get = o.get || !o.get_by.empty();
  interfaces_.push_back({std::move(name), std::move(action), std::move(o.args), std::move(o.get_by), get});
  return *this;
}

ResourceBuilder& ResourceBuilder::publish(std::string action, std::vector<std::string> topic) {
  topics_.push_back({std::move(action), std::move(topic)});
  return *this;
}

ResourceBuilder& ResourceBuilder::add_relationship(std::string name, RelationshipKind kind,
                                                   std::string destination, RelationshipDecl o) {
  if (kind == RelationshipKind::belongs_to && o.define_attribute && !o.no_attributes && !o.manual) {
    if (o.source_attribute.empty()) o.source_attribute = name + "_id";
    attribute(o.source_attribute, o.attribute_type, {.allow_nil = o.allow_nil, .primary_key = o.primary_key});
  }
  Relationship r;
  r.name = std::move(name);
  r.kind = kind;
  r.destination = std::move(destination);
  r.source_attribute = std::move(o.source_attribute);
  r.destination_attribute = std::move(o.destination_attribute);
  r.through = std::move(o.through);
  r.source_attribute_on_join_resource = std::move(o.source_attribute_on_join_resource);
  r.destination_attribute_on_join_resource = std::move(o.destination_attribute_on_join_resource);
  r.no_attributes = o.no_attributes;
  r.manual = std::move(o.manual);
  r.filter = std::move(o.filter);
  r.read_action = std::move(o.read_action);
  if (!o.sort.empty()) {
    auto sort = parse_sort(o.sort);
    if (sort) r.sort = std::move(*sort);
    else problems_.push_back({name_ + "." + r.name, "invalid_sort", sort.error().message});
  }
  relationships_.push_back(std::move(r));
  return *this;
}

ResourceBuilder& ResourceBuilder::belongs_to(std::string name, std::string destination, RelationshipDecl o) {
  return add_relationship(std::move(name), RelationshipKind::belongs_to, std::move(destination), std::move(o));
}
ResourceBuilder& ResourceBuilder::has_one(std::string name, std::string destination, RelationshipDecl o) {
  return add_relationship(std::move(name), RelationshipKind::has_one, std::move(destination), std::move(o));
}
ResourceBuilder& ResourceBuilder::has_many(std::string name, std::string destination, RelationshipDecl o) {
  return add_relationship(std::move(name), RelationshipKind::has_many, std::move(destination), std::move(o));
}
ResourceBuilder& ResourceBuilder::many_to_many(std::string name, std::string destination, RelationshipDecl o) {
  return add_relationship(std::move(name), RelationshipKind::many_to_many, std::move(destination), std::move(o));
}

ResourceBuilder& ResourceBuilder::aggregate(std::string name, AggregateKind kind, std::string relationship_path,
                                            std::string field) {
  Aggregate a;
  a.kind = kind;
  for (std::size_t pos = 0; pos <= relationship_path.size();) {
    auto dot = std::min(relationship_path.find('.', pos), relationship_path.size());
    a.path.push_back(relationship_path.substr(pos, dot - pos));
    pos = dot + 1;
  }
  a.field = std::move(field);
  aggregates_.emplace_back(std::move(name), std::move(a));
  return *this;
}

ResourceBuilder& ResourceBuilder::policy(PolicyCondition condition, std::vector<PolicyStep> steps,
                                         std::string description) {
  policies_.push_back({std::move(description), false, std::move(condition.checks), std::move(steps)});
  return *this;
}

ResourceBuilder& ResourceBuilder::bypass(PolicyCondition condition, std::vector<PolicyStep> steps,
                                         std::string description) {
  policies_.push_back({std::move(description), true, std::move(condition.checks), std::move(steps)});
  return *this;
}

ResourceBuilder& ResourceBuilder::field_policy(std::vector<std::string> fields, PolicyCondition condition,
                                               std::vector<PolicyStep> steps, std::string description) {
  field_policies_.push_back(
      {std::move(fields), {std::move(description), false, std::move(condition.checks), std::move(steps)}});
  return *this;
}

ResourceBuilder& ResourceBuilder::field_policy_bypass(std::vector<std::string> fields, PolicyCondition condition,
                                                      std::vector<PolicyStep> steps, std::string description) {
  field_policies_.push_back(
      {std::move(fields), {std::move(description), true, std::move(condition.checks), std::move(steps)}});
  return *this;
}

ResourceBuilder& ResourceBuilder::calculate(std::string name, Type type, Expr expr, std::vector<Argument> arguments) {
  calculations_.push_back({std::move(name), type, std::move(expr), nullptr, std::move(arguments)});
  return *this;
}

ResourceBuilder& ResourceBuilder::calculate(std::string name, Type type, std::shared_ptr<const Calculation> code,
                                            std::vector<Argument> arguments) {
  calculations_.push_back({std::move(name), type, std::nullopt, std::move(code), std::move(arguments)});
  return *this;
}

ResourceBuilder& ResourceBuilder::change(ActionStep step) {
  global_steps_.push_back(std::move(step));
  return *this;
}

ResourceBuilder& ResourceBuilder::validate(ActionStep step) {
  global_steps_.push_back(std::move(step));
  return *this;
}

ResourceBuilder& ResourceBuilder::prepare(ActionStep step) {
  step.on = {ActionType::read};
  global_steps_.push_back(std::move(step));
  return *this;
}

ResourceBuilder& ResourceBuilder::identity(std::string name, std::vector<std::string> attributes,
                                           IdentityDecl options) {
  identities_.push_back({std::move(name), std::move(attributes), options.all_tenants});
  return *this;
}

ResourceBuilder& ResourceBuilder::multitenancy(MultitenancyDecl decl) {
  multitenancy_ = std::move(decl);
  return *this;
}

ResourceBuilder& ResourceBuilder::default_accept(std::vector<std::string> names) {
  default_accept_ = std::move(names);
  return *this;
}

ResourceBuilder& ResourceBuilder::defaults(std::vector<std::string> specs) {
  for (const auto& spec : specs) {
    auto colon = spec.find(':');
    std::string kind = spec.substr(0, colon);
    auto type = parse_action_type(kind);
    if (!type || *type == ActionType::generic) {
      problems_.push_back({name_ + ".actions", "invalid_default_action",
                           fmt::format("unknown default action \"{}\"; expected read, create, update "
                                       "or destroy, optionally with :* or :attr,attr",
                                       spec)});
      continue;
    }
    ActionDecl o{.primary = true};
    if (colon != std::string::npos) {
      std::vector<std::string> names;
      std::string rest = spec.substr(colon + 1);
      for (std::size_t pos = 0; pos <= rest.size();) {
        auto comma = rest.find(',', pos);
        if (comma == std::string::npos) comma = rest.size();
        if (comma > pos) names.push_back(rest.substr(pos, comma - pos));
        pos = comma + 1;
      }
      o.accept = AcceptList(std::move(names));
    }
    add_action(kind, *type, std::move(o));
  }
  return *this;
}

DomainBuilder::DomainBuilder(std::string name) : name_(std::move(name)) {}

DomainBuilder& DomainBuilder::resource(ResourceBuilder resource) {
  resources_.push_back(std::move(resource));
  return *this;
}

namespace {

// An argument may have the name of an attribute the action does not accept (Ash's guide
// takes `argument :parent_id` to manage_relationship(:parent_id, :parent)): an input of
// that name is the argument. One the action accepts would be two inputs of one name.
void check_arguments(const std::string& where, std::vector<Argument>& args, const Resource& r,
                     const std::vector<std::string>& accept, Problems& out) {
  std::set<std::string> names;
  for (auto& a : args) {
    std::string field = where + ".arguments." + a.name;
    if (!is_identifier(a.name)) out.push_back({field, "invalid_name", "argument names are identifiers"});
    if (!names.insert(a.name).second) out.push_back({field, "duplicate_argument", "is declared more than once"});
    if (r.attribute(a.name) && std::find(accept.begin(), accept.end(), a.name) != accept.end())
      out.push_back({field, "duplicate_name", "has the name of an attribute the action accepts"});
    if (!a.default_value.is_null()) {
      auto cast = cast_value(a.type, a.default_value);
      if (!cast.value) out.push_back({field, "invalid_default", "default does not fit the type: " + cast.error});
      else a.default_value = *cast.value;
    }
    if (a.allow_empty && a.type.kind != TypeKind::string)
      out.push_back({field, "invalid_option", "allow_empty applies to strings only"});
  }
}

// Resolves an accept list ("*" expanded) against the resource; records problems.
std::vector<std::string> resolve_accept(const Resource& r, const std::vector<Attribute>& attrs,
                                        const std::string& action, ActionType type,
                                        const std::vector<std::string>& names, Problems& out) {
  std::vector<std::string> resolved;
  auto add = [&](const std::string& n) {
    if (std::find(resolved.begin(), resolved.end(), n) == resolved.end()) resolved.push_back(n);
  };
  std::string where = r.name() + ".actions." + action;
  for (const auto& n : names) {
    if (n == "*") {
      for (const auto& a : attrs)
        if (a.is_public && a.writable && !(type == ActionType::update && a.primary_key)) add(a.name);
      continue;
    }
    auto it = std::find_if(attrs.begin(), attrs.end(), [&](const Attribute& a) { return a.name == n; });
    if (it == attrs.end()) {
      out.push_back({where, "unknown_attribute",
                     fmt::format("accepts \"{}\", which is not an attribute of {}", n, r.name())});
    } else if (!it->writable) {
      out.push_back({where, "not_writable", fmt::format("accepts \"{}\", which is not writable", n)});
    } else if (type == ActionType::update && it->primary_key) {
      out.push_back({where, "primary_key_not_updatable",
                     fmt::format("accepts \"{}\", a primary key attribute; records are identified "
                                 "by their key, which an update cannot change",
                                 n)});
    } else {
      add(n);
    }
  }
  return resolved;
}

}  // namespace

Result<Domain> DomainBuilder::build() const {
  Problems problems;
  auto data = std::make_shared<DomainData>();
  data->name = name_;
  if (!is_identifier(name_))
    problems.push_back({name_, "invalid_name", "domain names are identifiers: letters, digits and _"});
  std::set<std::string> resource_names;
  for (const auto& b : resources_) {
    Resource r;
    r.name_ = b.name_;
    problems.insert(problems.end(), b.problems_.begin(), b.problems_.end());
    if (!is_identifier(r.name_))
      problems.push_back({r.name_, "invalid_name", "resource names are identifiers: letters, digits and _"});
    if (!resource_names.insert(r.name_).second)
      problems.push_back({r.name_, "duplicate_resource", "is declared more than once"});

    std::set<std::string> attribute_names;
    for (Attribute a : b.attributes_) {
      if (!attribute_names.insert(a.name).second)
        problems.push_back({r.name_ + "." + a.name, "duplicate_attribute", "is declared more than once"});
      check_attribute(r.name_, a, problems);
      if (a.primary_key) r.primary_key_.push_back(r.attributes_.size());
      r.attributes_.push_back(std::move(a));
    }
    if (r.primary_key_.empty())
      problems.push_back({r.name_, "no_primary_key",
                          "has no primary key; declare uuid_primary_key(...) or mark attributes "
                          "primary_key"});

    std::set<std::string> action_names;
    std::set<ActionType> primaries;
    std::vector<std::string> default_accept = b.default_accept_.value_or(std::vector<std::string>{});
    for (const auto& p : b.actions_) {
      std::string where = r.name_ + ".actions." + p.name;
      if (!is_identifier(p.name))
        problems.push_back({where, "invalid_name", "action names are identifiers: letters, digits and _"});
      if (!action_names.insert(p.name).second)
        problems.push_back({where, "duplicate_action", "is declared more than once"});
      for (const auto& step : p.options.steps) {
        if (step.preparation && p.type != ActionType::read)
          problems.push_back({where, "misplaced_preparation",
                              "is not a read action; preparations prepare reads (changes and validations "
                              "belong to the others)"});
        if ((step.change || step.validation) && p.type == ActionType::read)
          problems.push_back({where, "misplaced_change",
                              "is a read action; it takes preparations, not changes or validations"});
      }
      if (p.options.primary && !primaries.insert(p.type).second)
        problems.push_back({where, "multiple_primary_actions",
                            fmt::format("is a second primary {} action; a resource has at most one",
                                        to_string(p.type))});
      Action action{p.name, p.type, p.options.primary, {}, p.options.arguments, p.options.filter, {},
                    p.options.limit, p.options.steps};
      action.soft = p.options.soft;
      action.upsert = p.options.upsert;
      action.upsert_identity = p.options.upsert_identity;
      action.upsert_condition = p.options.upsert_condition;
      action.returns = p.generic.returns;
      action.transaction = p.generic.transaction;
      action.run = p.generic.run;
      if (!p.options.sort.empty()) {
        auto sort = parse_sort(p.options.sort);
        if (sort) action.sort = std::move(*sort);
        else problems.push_back({where, "invalid_sort", sort.error().message});
      }
      bool changes = p.type == ActionType::create || p.type == ActionType::update;
      if (!changes && p.options.accept.given() && !p.options.accept.names().empty()) {
        problems.push_back({where, "accept_not_allowed",
                            fmt::format("{} actions accept no attributes", to_string(p.type))});
      } else if (changes) {
        if (p.options.accept.given()) {
          action.accept = resolve_accept(r, r.attributes_, p.name, p.type, p.options.accept.names(), problems);
        } else {
          Problems reported_once_below;  // default_accept's mistakes are reported once, after the loop
          action.accept = resolve_accept(r, r.attributes_, p.name, p.type, default_accept, reported_once_below);
        }
      }
      check_arguments(where, action.arguments, r, action.accept, problems);
      r.actions_.push_back(std::move(action));
    }
    if (b.default_accept_)
      resolve_accept(r, r.attributes_, "default_accept", ActionType::create, *b.default_accept_, problems);
    r.topics_ = check_topics(r, b.topics_, problems);
    check_identities(r, b.identities_, problems);
    std::vector<Identity> identities = b.identities_;
    check_multitenancy(r, b.multitenancy_, identities, problems);
    ModelAccess::multitenancy(r) = b.multitenancy_;
    ModelAccess::identities(r) = std::move(identities);
    ModelAccess::aggregates(r) = b.aggregates_;
    ModelAccess::calculations(r) = b.calculations_;
    for (std::size_t k = 0; k < r.actions_.size(); ++k)  // upserts need the identities
      check_action_kind(r, b.actions_[k].options.upsert_fields, r.actions_[k], problems);
    ModelAccess::global_steps(r) = b.global_steps_;
    ModelAccess::interfaces(r) = check_interfaces(r, b.interfaces_, problems);
    ModelAccess::policies(r) = b.policies_;
    ModelAccess::field_policies(r) = b.field_policies_;
    data->resources.push_back(std::move(r));
  }
  std::vector<std::vector<Relationship>> declared;
  for (const auto& b : resources_) declared.push_back(b.relationships_);
  resolve_relationships(*data, declared, problems);
  check_relationship_filters(*data, problems);
  check_calculations(*data, problems);
  check_policies(*data, problems);
  if (!problems.empty()) {
    Error e{ErrorClass::framework, {}, {},
            fmt::format("domain {} has {} mistake{}", name_, problems.size(), problems.size() == 1 ? "" : "s"),
            std::move(problems)};
    return fail(std::move(e));
  }
  return ModelAccess::make(std::move(data));
}

}  // namespace ashlar
