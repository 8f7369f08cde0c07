#include <ashlar/changes.hpp>
#include <ashlar/engine.hpp>

#include <fmt/format.h>

#include <regex>

namespace ashlar {
namespace {

// The value of a field: an attribute after the changes so far, or an argument.
Value field_value(const Changeset& cs, std::string_view name) {
  if (cs.resource().attribute(name)) return cs.attribute(name);
  return cs.argument(name);
}

EvalContext context_of(const Changeset& cs) {
  EvalContext c;
  c.ref = [&cs](const std::vector<std::string>& path) -> Result<Value> {
    if (path.size() != 1) return fail(Error::framework("changes may refer to the changeset's own attributes only"));
    return field_value(cs, path[0]);
  };
  c.args = &cs.arguments();
  c.actor = cs.actor();
  c.now = cs.now();
  return c;
}

class FnChange final : public Change {
 public:
  explicit FnChange(std::function<Result<void>(Changeset&)> fn) : fn_(std::move(fn)) {}
  Result<void> change(Changeset& cs) const override { return fn_(cs); }

 private:
  std::function<Result<void>(Changeset&)> fn_;
};

class FnValidation final : public Validation {
 public:
  explicit FnValidation(std::function<std::optional<FieldError>(const Changeset&)> fn) : fn_(std::move(fn)) {}
  std::optional<FieldError> validate(const Changeset& cs) const override { return fn_(cs); }

 private:
  std::function<std::optional<FieldError>(const Changeset&)> fn_;
};

ActionStep change_step(std::function<Result<void>(Changeset&)> fn) {
  ActionStep s;
  s.change = std::make_shared<FnChange>(std::move(fn));
  return s;
}

ActionStep validation_step(std::function<std::optional<FieldError>(const Changeset&)> fn) {
  ActionStep s;
  s.validation = std::make_shared<FnValidation>(std::move(fn));
  return s;
}

}  // namespace

namespace changes {

ActionStep set_attribute(std::string attribute, Expr value) {
  return change_step([attribute, value](Changeset& cs) -> Result<void> {
    ASHLAR_TRY(v, evaluate(value, context_of(cs)));
    cs.force_change(attribute, std::move(*v));
    return {};
  });
}

ActionStep increment(std::string attribute, std::int64_t by) {
  return change_step([attribute, by](Changeset& cs) -> Result<void> {
    cs.before_action([attribute, by](Changeset& c) -> Result<void> {
      // An unknown name is nil here and reported by force_change below.
      Value stored = c.data() ? c.data()->get(attribute).value_or(Value()) : Value();
      ASHLAR_TRY(sum, evaluate(Expr(stored.is_null() ? Value(0) : stored) + Expr(Value(by)), EvalContext{}));
      c.force_change(attribute, std::move(*sum));
      return {};
    });
    return {};
  });
}

ActionStep change(std::function<Result<void>(Changeset&)> fn) { return change_step(std::move(fn)); }

ActionStep custom(std::shared_ptr<const Change> change) {
  ActionStep s;
  s.change = std::move(change);
  return s;
}

ActionStep optimistic_lock(std::string attribute) {
  return change_step([attribute](Changeset& cs) -> Result<void> {
    // An unknown name is nil here and reported by force_change below.
    Value read = cs.data() ? cs.data()->get(attribute).value_or(Value()) : Value();
    ASHLAR_TRY(next, evaluate(Expr(read.is_null() ? Value(0) : read) + Expr(Value(1)), EvalContext{}));
    cs.force_change(attribute, *next);
    cs.before_action([attribute, read](Changeset& c) -> Result<void> {
      Value stored = c.data() ? c.data()->get(attribute).value_or(Value()) : Value();
      if (stored == read) return {};
      Error e = Error::conflict(c.resource().name(),
                                fmt::format("{} is stale: {} is {} in the store, not {}", c.resource().name(), attribute,
                                            stored.str(), read.str()));
      e.action = c.action().name;
      e.fields.push_back({attribute, "stale_record", "has changed since the record was read"});
      return fail(std::move(e));
    });
    return {};
  });
}

}  // namespace changes

namespace validations {

ActionStep present(std::vector<std::string> attributes) {
  return validation_step([attributes](const Changeset& cs) -> std::optional<FieldError> {
    for (const auto& a : attributes)
      if (field_value(cs, a).is_null()) return FieldError{a, "present", "must be present"};
    return std::nullopt;
  });
}

ActionStep absent(std::vector<std::string> attributes) {
  return validation_step([attributes](const Changeset& cs) -> std::optional<FieldError> {
    for (const auto& a : attributes)
      if (!field_value(cs, a).is_null()) return FieldError{a, "absent", "must be absent"};
    return std::nullopt;
  });
}

ActionStep string_length(std::string field, std::optional<std::size_t> min, std::optional<std::size_t> max) {
  return validation_step([field, min, max](const Changeset& cs) -> std::optional<FieldError> {
    Value v = field_value(cs, field);
    if (v.is_null()) return std::nullopt;
    if (!v.as_string()) return FieldError{field, "invalid_type", "must be a string"};
    Constraints c{.min_length = min, .max_length = max};
    if (auto broken = check_constraints(type::string, c, v)) return FieldError{field, broken->first, broken->second};
    return std::nullopt;
  });
}

ActionStep match(std::string field, std::string pattern) {
  auto re = std::make_shared<std::regex>(pattern, std::regex::ECMAScript);
  return validation_step([field, pattern, re](const Changeset& cs) -> std::optional<FieldError> {
    Value v = field_value(cs, field);
    if (v.is_null()) return std::nullopt;
    if (!v.as_string() || !std::regex_match(*v.as_string(), *re))
      return FieldError{field, "match", fmt::format("must match the pattern {}", pattern)};
    return std::nullopt;
  });
}

ActionStep compare(std::string field, CompareOp op, Expr other) {
  return validation_step([field, op, other](const Changeset& cs) -> std::optional<FieldError> {
    auto held = evaluate(dsl::compare(op, Expr(field_value(cs, field)), other), context_of(cs));
    if (!held) return FieldError{field, "compare", held.error().fields.empty() ? held.error().message : held.error().fields[0].message};
    if (held->is_null() || *held == Value(true)) return std::nullopt;
    return FieldError{field, "compare", fmt::format("must be {} {}", to_string(op), to_string(other))};
  });
}

ActionStep one_of(std::string field, std::vector<Value> values) {
  return validation_step([field, values](const Changeset& cs) -> std::optional<FieldError> {
    Value v = field_value(cs, field);
    if (v.is_null()) return std::nullopt;
    for (const auto& allowed : values) {
      auto order = compare_values(v, allowed);
      if (order && *order == 0) return std::nullopt;
    }
    std::string list;
    for (const auto& allowed : values) list += (list.empty() ? "" : ", ") + allowed.str();
    return FieldError{field, "one_of", fmt::format("must be one of {}", list)};
  });
}

ActionStep attribute_equals(std::string attribute, Value value) {
  return validation_step([attribute, value](const Changeset& cs) -> std::optional<FieldError> {
    if (cs.attribute(attribute) == value) return std::nullopt;
    return FieldError{attribute, "equals", fmt::format("must equal {}", value.str())};
  });
}

ActionStep attribute_does_not_equal(std::string attribute, Value value) {
  return validation_step([attribute, value](const Changeset& cs) -> std::optional<FieldError> {
    if (cs.attribute(attribute) != value) return std::nullopt;
    return FieldError{attribute, "does_not_equal", fmt::format("must not equal {}", value.str())};
  });
}

ActionStep confirm(std::string field, std::string confirmation) {
  return validation_step([field, confirmation](const Changeset& cs) -> std::optional<FieldError> {
    if (field_value(cs, field) == field_value(cs, confirmation)) return std::nullopt;
    return FieldError{confirmation, "confirmation", fmt::format("must match {}", field)};
  });
}

ActionStep validate(std::function<std::optional<FieldError>(const Changeset&)> fn) { return validation_step(std::move(fn)); }

ActionStep custom(std::shared_ptr<const Validation> validation) {
  ActionStep s;
  s.validation = std::move(validation);
  return s;
}

std::shared_ptr<const Validation> condition(ActionStep step) { return step.validation; }

}  // namespace validations
}  // namespace ashlar
