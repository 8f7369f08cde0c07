// Policies: the check builders, how breakdowns name checks and policies, and the checks
// DomainBuilder::build makes of them.
#include "access.hpp"

#include <ashlar/model/dsl.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {

const char* to_string(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::authorize_if: return "authorize_if";
    case CheckOutcome::forbid_if: return "forbid_if";
    case CheckOutcome::authorize_unless: return "authorize_unless";
    case CheckOutcome::forbid_unless: return "forbid_unless";
  }
  return "authorize_if";
}

std::string describe_policy(const Policy& policy, std::size_t index) {
  std::string out = fmt::format("{} {}", policy.bypass ? "bypass" : "policy", index + 1);
  if (!policy.description.empty()) out += fmt::format(" \"{}\"", policy.description);
  return out;
}

bool FieldPolicy::covers(std::string_view field) const {
  return std::any_of(fields.begin(), fields.end(), [&](const std::string& f) { return f == "*" || f == field; });
}

std::string describe_field_policy(const FieldPolicy& policy, std::size_t index) {
  std::string out = fmt::format("{} {}", policy.policy.bypass ? "field_policy_bypass" : "field_policy", index + 1);
  if (!policy.policy.description.empty()) out += fmt::format(" \"{}\"", policy.policy.description);
  return out;
}

namespace checks {
namespace {

Check make(CheckKind kind, std::string description) {
  Check c;
  c.kind = kind;
  c.description = std::move(description);
  return c;
}

}  // namespace

Check always() { return make(CheckKind::always, "always()"); }
Check never() { return make(CheckKind::never, "never()"); }
Check actor_present() { return make(CheckKind::actor_present, "actor_present()"); }

Check actor_attribute_equals(std::string_view field, Value value) {
  Check c = make(CheckKind::actor_attribute_equals,
                 fmt::format("actor_attribute_equals(:{}, {})", field, to_string(Expr(value))));
  for (std::size_t pos = 0; pos <= field.size();) {
    auto dot = std::min(field.find('.', pos), field.size());
    c.names.emplace_back(field.substr(pos, dot - pos));
    pos = dot + 1;
  }
  c.value = std::move(value);
  return c;
}

Check action_type(ActionType type) {
  Check c = make(CheckKind::action_type, fmt::format("action_type(:{})", to_string(type)));
  c.types = {type};
  return c;
}

Check action(std::string_view name) {
  Check c = make(CheckKind::action, fmt::format("action(:{})", name));
  c.names = {std::string(name)};
  return c;
}

Check changing_attributes(std::vector<std::string> attributes) {
  std::string list;
  for (const auto& a : attributes) list += (list.empty() ? ":" : ", :") + a;
  Check c = make(CheckKind::changing_attributes, fmt::format("changing_attributes([{}])", list));
  c.names = std::move(attributes);
  return c;
}

Check expr(Expr filter) {
  Check c = make(CheckKind::filter, fmt::format("expr({})", to_string(filter)));
  c.filter = std::move(filter);
  return c;
}

Check relates_to_actor_via(const char* path, std::string actor_key) {
  std::vector<std::string> segments;
  std::string_view dotted(path ? path : "");
  for (std::size_t pos = 0; pos <= dotted.size();) {
    auto dot = std::min(dotted.find('.', pos), dotted.size());
    segments.emplace_back(dotted.substr(pos, dot - pos));
    pos = dot + 1;
  }
  return relates_to_actor_via(std::move(segments), std::move(actor_key));
}

Check relates_to_actor_via(std::vector<std::string> path, std::string actor_key) {
  std::string dotted;
  for (const auto& segment : path) dotted += (dotted.empty() ? "" : ".") + segment;
  Check c = make(CheckKind::relates_to_actor_via, fmt::format("relates_to_actor_via({})", dotted));
  c.names = std::move(path);
  c.value = Value(std::move(actor_key));
  return c;
}

Check custom(std::string description, std::function<Result<bool>(const PolicyRequest&)> fn) {
  Check c = make(CheckKind::custom, std::move(description));
  c.simple = std::move(fn);
  return c;
}

Check custom_filter(std::string description, std::function<Result<Expr>(const PolicyRequest&)> fn) {
  Check c = make(CheckKind::custom_filter, std::move(description));
  c.filter_fn = std::move(fn);
  return c;
}

PolicyStep authorize_if(Check check) { return {CheckOutcome::authorize_if, std::move(check)}; }
PolicyStep forbid_if(Check check) { return {CheckOutcome::forbid_if, std::move(check)}; }
PolicyStep authorize_unless(Check check) { return {CheckOutcome::authorize_unless, std::move(check)}; }
PolicyStep forbid_unless(Check check) { return {CheckOutcome::forbid_unless, std::move(check)}; }

}  // namespace checks

namespace {

void check_filter(const std::vector<Resource>& all, const Resource& r, const std::string& where, const Check& c,
                  std::vector<FieldError>& problems) {
  visit_refs(*c.filter, [&](const std::vector<std::string>& path, bool under_parent) {
    if (under_parent)
      problems.push_back({where, "invalid_policy", fmt::format("{}: parent(...) has no parent record in a policy", c.description)});
    else if (auto p = path_problem_in(all, r, path))
      problems.push_back({where, "unknown_attribute", fmt::format("{}: {}", c.description, *p)});
  });
  visit_aggregates(*c.filter, [&](const Aggregate& a, bool under_parent) {
    if (under_parent) {
      problems.push_back({where, "invalid_policy", fmt::format("{}: parent(...) has no parent record in a policy", c.description)});
      return;
    }
    auto dest = aggregate_destination(all, r, a);
    if (!dest) problems.push_back({where, "unknown_attribute", fmt::format("{}: {}", c.description, dest.error().message)});
  });
}

void check_one(const std::vector<Resource>& all, const Resource& r, const std::string& where, const Check& c,
               bool in_condition, std::vector<FieldError>& problems) {
  if (in_condition && c.is_filter()) {
    problems.push_back({where, "invalid_policy",
                        fmt::format("{} is a filter check; a condition must be decided without the record",
                                    c.description)});
    return;
  }
  switch (c.kind) {
    case CheckKind::action:
      for (const auto& name : c.names)
        if (!r.action(name))
          problems.push_back({where, "unknown_action", fmt::format("{}: {} has no action {}", c.description, r.name(), name)});
      break;
    case CheckKind::changing_attributes:
      for (const auto& name : c.names)
        if (!r.attribute(name))
          problems.push_back(
              {where, "unknown_attribute", fmt::format("{}: {} has no attribute {}", c.description, r.name(), name)});
      break;
    case CheckKind::relates_to_actor_via:  // a path that does not resolve was reported by resolve_relates
      if (c.filter) check_filter(all, r, where, c, problems);
      break;
    case CheckKind::filter:
      if (c.filter) check_filter(all, r, where, c, problems);
      else problems.push_back({where, "invalid_policy", fmt::format("{} has no expression", c.description)});
      break;
    case CheckKind::custom:
    case CheckKind::custom_filter:
      if (!c.simple && !c.filter_fn)
        problems.push_back({where, "invalid_policy", fmt::format("custom check {} has no function", c.description)});
      break;
    default: break;
  }
}

// relates_to_actor_via's expression, once relationships are resolved; nullopt (and a
// problem) when its path does not lead to a resource with a one-attribute primary key.
void resolve_relates(const std::vector<Resource>& all, const Resource& r, const std::string& where, Check& c,
                     std::vector<FieldError>& problems) {
  if (c.kind != CheckKind::relates_to_actor_via || c.filter) return;
  std::string dotted;
  for (const auto& segment : c.names) dotted += (dotted.empty() ? "" : ".") + segment;
  Aggregate walk{AggregateKind::exists, c.names, {}, std::nullopt};
  auto dest = aggregate_destination(all, r, walk);
  if (c.names.empty() || !dest) {
    std::string why = dest ? "it has no relationship path" : dest.error().message;
    problems.push_back({where, "unknown_attribute", fmt::format("{}: {}", c.description, why)});
    return;
  }
  const Resource& to = **dest;
  if (to.primary_key().size() != 1) {
    problems.push_back({where, "invalid_policy",
                        fmt::format("{}: {} has no one-attribute primary key to compare with the actor",
                                    c.description, to.name())});
    return;
  }
  const std::string& key = to.attributes()[to.primary_key()[0]].name;
  const std::string* actor_key = c.value.as_string();
  c.filter = dsl::exists(dotted, dsl::ref(key) == dsl::actor(actor_key ? *actor_key : std::string("id")));
}

// The fields a field policy names exist and are not the primary key.
void check_fields(const Resource& r, const std::string& where, const FieldPolicy& p, std::vector<FieldError>& problems) {
  if (p.fields.empty()) problems.push_back({where, "invalid_policy", "names no field (\"*\" names every field)"});
  for (const auto& f : p.fields) {
    if (f == "*") continue;
    auto i = r.attribute_index(f);
    if (!i && !r.aggregate(f) && !r.calculation(f))
      problems.push_back({where, "unknown_field", fmt::format("{} has no attribute, aggregate or calculation {}", r.name(), f)});
    else if (i && std::find(r.primary_key().begin(), r.primary_key().end(), *i) != r.primary_key().end())
      problems.push_back({where, "invalid_policy", fmt::format("{}.{} is in the primary key, which is always readable", r.name(), f)});
  }
}

void check_field_policies(DomainData& data, std::vector<FieldError>& problems) {
  for (auto& r : data.resources)
    for (std::size_t i = 0; i < r.field_policies().size(); ++i) {
      FieldPolicy& p = ModelAccess::field_policies(r)[i];
      std::string where = r.name() + "." + describe_field_policy(p, i);
      for (auto& step : p.policy.steps) resolve_relates(data.resources, r, where, step.check, problems);
    }
  for (const auto& r : data.resources)
    for (std::size_t i = 0; i < r.field_policies().size(); ++i) {
      const FieldPolicy& p = r.field_policies()[i];
      std::string where = r.name() + "." + describe_field_policy(p, i);
      check_fields(r, where, p, problems);
      for (const auto& c : p.policy.condition) check_one(data.resources, r, where, c, true, problems);
      for (const auto& step : p.policy.steps) check_one(data.resources, r, where, step.check, false, problems);
    }
}

}  // namespace

void check_policies(DomainData& data, std::vector<FieldError>& problems) {
  for (auto& r : data.resources) {
    for (std::size_t i = 0; i < r.policies().size(); ++i) {
      Policy& p = ModelAccess::policies(r)[i];
      std::string where = r.name() + "." + describe_policy(p, i);
      for (auto& step : p.steps) resolve_relates(data.resources, r, where, step.check, problems);
    }
  }
  for (const auto& r : data.resources) {
    for (std::size_t i = 0; i < r.policies().size(); ++i) {
      const Policy& p = r.policies()[i];
      std::string where = r.name() + "." + describe_policy(p, i);
      for (const auto& c : p.condition) check_one(data.resources, r, where, c, true, problems);
      for (const auto& step : p.steps) check_one(data.resources, r, where, step.check, false, problems);
    }
  }
  check_field_policies(data, problems);
}

}  // namespace ashlar
