#include "changeset.hpp"

#include <fmt/format.h>

#include <set>

namespace ashlar::runtime {
namespace {

void check_value(const Attribute& a, const Value& v, std::vector<FieldError>& errors) {
  if (v.is_null()) {
    if (!a.allow_nil) errors.push_back({a.name, "required", "is required"});
    return;
  }
  if (auto broken = check_constraints(a.type, a.constraints, v))
    errors.push_back({a.name, broken->first, broken->second});
}

}  // namespace

Changeset build_changeset(const Resource& resource, const Action& action, const Fields& inputs) {
  Changeset cs;
  cs.resource = &resource;
  cs.action = &action;
  cs.assigned.resize(resource.attributes().size());
  cs.now = DateTime::now();
  std::set<std::string_view> seen;
  for (const auto& [name, raw] : inputs) {
    if (!seen.insert(name).second) {
      cs.errors.push_back({name, "duplicate_input", "is given more than once"});
      continue;
    }
    auto index = resource.attribute_index(name);
    if (!index) {
      cs.errors.push_back({name, "unknown_input", fmt::format("is not an attribute of {}", resource.name())});
      continue;
    }
    if (!action.accepts(name)) {
      cs.errors.push_back({name, "not_accepted",
                           fmt::format("is not accepted by {}.{}", resource.name(), action.name)});
      continue;
    }
    const Attribute& a = resource.attributes()[*index];
    auto cast = cast_value(a.type, raw);
    if (!cast.value) {
      cs.errors.push_back({name, "invalid_type", cast.error});
      continue;
    }
    check_value(a, *cast.value, cs.errors);
    cs.assigned[*index] = *cast.value;
    cs.inputs.emplace_back(name, std::move(*cast.value));
  }
  return cs;
}

void apply_defaults(Changeset& cs) {
  const auto& attrs = cs.resource->attributes();
  bool creating = cs.action->type == ActionType::create;
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    const Attribute& a = attrs[i];
    if (cs.assigned[i]) continue;
    std::optional<Value> v;
    if (creating) {
      if (a.timestamp != Timestamp::none) v = Value(cs.now);
      else if (a.default_fn) v = a.default_fn();
      else v = a.default_value;
    } else if (a.timestamp == Timestamp::update) {
      v = Value(cs.now);
    } else if (a.update_default_fn) {
      v = a.update_default_fn();
    }
    if (v) {
      // A default function may return a value to be cast (a string for a uuid, say).
      if (auto cast = cast_value(a.type, *v); cast.value) {
        v = std::move(cast.value);
        check_value(a, *v, cs.errors);
      } else {
        cs.errors.push_back({a.name, "invalid_default", "default does not fit the type: " + cast.error});
      }
      cs.assigned[i] = std::move(v);
    }
  }
}

Result<Fields> cast_arguments(const Resource& resource, const Action& action, const Fields& given) {
  std::vector<FieldError> errors;
  Fields out;
  for (const auto& [name, raw] : given)
    if (!action.argument(name))
      errors.push_back({name, "unknown_input", fmt::format("is not an argument of {}.{}", resource.name(), action.name)});
  for (const auto& arg : action.arguments) {
    const Value* raw = find_field(given, arg.name);
    Value v = raw ? *raw : arg.default_value;
    auto cast = cast_value(arg.type, v);
    if (!cast.value) {
      errors.push_back({arg.name, "invalid_type", cast.error});
      continue;
    }
    if (cast.value->is_null()) {
      if (!arg.allow_nil) errors.push_back({arg.name, "required", "is required"});
    } else if (auto broken = check_constraints(arg.type, arg.constraints, *cast.value)) {
      errors.push_back({arg.name, broken->first, broken->second});
    }
    out.emplace_back(arg.name, std::move(*cast.value));
  }
  if (!errors.empty()) return fail(Error::invalid(resource.name(), action.name, std::move(errors)));
  return out;
}

Result<std::vector<Value>> cast_id(const Resource& resource, std::string_view action, const Value& id) {
  const auto& pk = resource.primary_key();
  std::vector<Value> out;
  std::vector<FieldError> errors;
  auto cast_one = [&](const Attribute& a, const Value& raw) {
    auto cast = cast_value(a.type, raw);
    if (!cast.value) errors.push_back({a.name, "invalid_type", cast.error});
    else if (cast.value->is_null()) errors.push_back({a.name, "required", "is required to find the record"});
    else out.push_back(std::move(*cast.value));
  };
  if (pk.size() == 1) {
    cast_one(resource.attributes()[pk[0]], id);
  } else if (const Map* m = id.as_map()) {
    for (auto i : pk) {
      const Attribute& a = resource.attributes()[i];
      auto it = std::find_if(m->begin(), m->end(), [&](const auto& kv) { return kv.first == a.name; });
      cast_one(a, it == m->end() ? Value() : it->second);
    }
  } else {
    errors.push_back({"", "invalid_type",
                      fmt::format("{} has a composite primary key; give the id as a map of its attributes",
                                  resource.name())});
  }
  if (!errors.empty()) return fail(Error::invalid(resource.name(), std::string(action), std::move(errors)));
  return out;
}

}  // namespace ashlar::runtime
