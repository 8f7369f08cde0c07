#include "changeset.hpp"
#include "impl.hpp"
#include "tenancy.hpp"
#include "user_code.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace ashlar {
namespace {

void check_value(const Attribute& a, const Value& v, std::vector<FieldError>& errors) {
  if (v.is_null()) return;  // nil is checked once every change has run
  if (auto broken = check_constraints(a.type, a.constraints, v)) errors.push_back({a.name, broken->first, broken->second});
}

// Ash casts an empty string to nil (so a required one is missing) unless the attribute or
// argument sets allow_empty.
void empty_to_nil(const Type& type, bool allow_empty, Value& v) {
  if (allow_empty || type.kind != TypeKind::string) return;
  if (const std::string* s = v.as_string(); s && s->empty()) v = Value();
}

// A primary key is an identity: -0.0 is 0.0 there as it is to identities, so that the two
// name one record (an attribute that is not a key keeps the value's bits).
void key_zero(const Attribute& a, Value& v) {
  if (const double* d = v.as_float(); a.primary_key && d && *d == 0.0) v = Value(0.0);
}

// One input: an accepted attribute or an argument the caller may set.
void take_input(Changeset& cs, std::vector<FieldError>& errors, Fields& arguments, const std::string& name,
                const Value& raw) {
  const Resource& r = cs.resource();
  const Action& a = cs.action();
  auto index = r.attribute_index(name);
  if (index && (a.accepts(name) || !a.argument(name))) {  // else: the argument of that name
    if (!a.accepts(name)) {
      errors.push_back({name, "not_accepted", fmt::format("is not accepted by {}.{}", r.name(), a.name)});
      return;
    }
    const Attribute& attr = r.attributes()[*index];
    auto cast = cast_value(attr.type, raw);
    if (!cast.value) return errors.push_back({name, runtime::cast_code(cast.error), cast.error});
    empty_to_nil(attr.type, attr.allow_empty, *cast.value);
    key_zero(attr, *cast.value);
    check_value(attr, *cast.value, errors);
    ChangesetAccess::assigned(cs)[*index] = *cast.value;
    ChangesetAccess::inputs(cs).emplace_back(name, std::move(*cast.value));
    return;
  }
  const Argument* arg = a.argument(name);
  if (!arg) {
    errors.push_back({name, "unknown_input",
                      name.empty() ? fmt::format("an input with an empty name names no attribute or argument of {}.{}",
                                                 r.name(), a.name)
                                   : fmt::format("is not an attribute or argument of {}.{}", r.name(), a.name)});
  } else if (!arg->is_public) {
    errors.push_back({name, "not_accepted", fmt::format("is a private argument of {}.{}; only private_arguments set it",
                                                        r.name(), a.name)});
  } else {
    arguments.emplace_back(name, raw);
    // Sensitive arguments never reach the event's inputs.
    if (!arg->sensitive) ChangesetAccess::inputs(cs).emplace_back(name, raw);
  }
}

void apply_defaults(Changeset& cs) {
  const auto& attrs = cs.resource().attributes();
  auto& assigned = ChangesetAccess::assigned(cs);
  bool creating = cs.action().type == ActionType::create;
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    const Attribute& a = attrs[i];
    if (assigned[i]) continue;
    std::optional<Value> v;
    if (creating) {
      if (a.timestamp != Timestamp::none) v = Value(cs.now());
      else if (a.default_fn) v = a.default_fn();
      else v = a.default_value;
    } else if (a.timestamp == Timestamp::update) {
      v = Value(cs.now());
    } else if (a.update_default_fn && cs.action().event_type() == ActionType::update) {
      v = a.update_default_fn();
    }
    if (v) {
      cs.force_change(a.name, std::move(*v));
      ChangesetAccess::mark_defaulted(cs, i);
    }
  }
}

// Attribute multitenancy: the call must give a tenant (unless the resource is global); a
// create's tenant attribute is the tenant's, as Ash forces it; an input naming another
// tenant, on a create or an update, is refused rather than overwritten.
void apply_tenant(Changeset& cs, const std::string& tenant) {
  const Resource& r = cs.resource();
  const Attribute* attr = r.tenant_attribute();
  if (!attr) return;
  auto value = runtime::tenant_value(r, cs.action().name, tenant);
  if (!value) {
    for (const auto& f : value.error().fields) cs.add_error(f);
    return;
  }
  if (auto problem = runtime::tenant_input_problem(r, *value, cs.attribute(attr->name))) {
    if (cs.changing(attr->name)) return cs.add_error(std::move(*problem));
  }
  if (*value && cs.action().type == ActionType::create && !cs.data()) cs.force_change(attr->name, **value);
}

bool applies(const ActionStep& step, ActionType type) {
  if (step.on.empty()) return type == ActionType::create || type == ActionType::update;
  return std::find(step.on.begin(), step.on.end(), type) != step.on.end();
}

// A validation's verdict; what it throws is an error of the changeset, not an unwinding.
std::optional<FieldError> validate(const Changeset& cs, const Validation& validation, std::string_view step) {
  try {
    return validation.validate(cs);
  } catch (...) {
    Error e = runtime::caught_error(cs.resource().name(), cs.action().name, step);
    return FieldError{"", e.code, e.message};
  }
}

void run_step(Changeset& cs, const ActionStep& step) {
  if (step.only_when_valid && !cs.valid()) return;
  for (const auto& condition : step.where)
    if (auto unmet = validate(cs, *condition, "a where condition")) {
      if (unmet->code == codes::kUserCode) cs.add_error(std::move(*unmet));  // it threw: not a "no"
      return;
    }
  if (step.change) {
    auto r = runtime::guarded(cs.resource().name(), cs.action().name, "a change",
                              [&] { return step.change->change(cs); });
    if (!r) {
      const Error& e = r.error();
      for (const auto& f : e.fields) cs.add_error(f);
      // Another action's error (one the change ran) keeps the name of that action.
      bool other = e.resource != cs.resource().name() || e.action != cs.action().name;
      std::string message = other && !e.resource.empty() ? fmt::format("{}.{}: {}", e.resource, e.action, e.message)
                                                         : e.message;
      if (e.fields.empty())
        cs.add_error({"", e.code == codes::kUserCode ? codes::kUserCode : "change_failed", std::move(message)});
    }
  }
  if (step.validation) {
    if (auto error = validate(cs, *step.validation, "a validation")) {
      if (!step.message.empty() && error->code != codes::kUserCode) error->message = step.message;
      cs.add_error(std::move(*error));
    }
  }
}

}  // namespace

Value Changeset::attribute(std::string_view name) const {
  auto i = resource_->attribute_index(name);
  if (!i) return Value();
  if (assigned_[*i]) return *assigned_[*i];
  return data_ ? (*data_)[name] : Value();
}

bool Changeset::changing(std::string_view name) const {
  auto i = resource_->attribute_index(name);
  return i && assigned_[*i] && (!data_ || *assigned_[*i] != (*data_)[name]);
}

void Changeset::force_change(std::string_view name, Value value) {
  auto i = resource_->attribute_index(name);
  if (!i) return add_error({std::string(name), "unknown_attribute", fmt::format("is not an attribute of {}", resource_->name())});
  const Attribute& a = resource_->attributes()[*i];
  auto cast = cast_value(a.type, value);
  if (!cast.value) return add_error({a.name, runtime::cast_code(cast.error), cast.error});
  empty_to_nil(a.type, a.allow_empty, *cast.value);
  key_zero(a, *cast.value);
  check_value(a, *cast.value, errors_);
  assigned_[*i] = std::move(*cast.value);
  defaulted_[*i] = false;
}

const Value& Changeset::argument(std::string_view name) const {
  static const Value kNil;
  const Value* v = find_field(arguments_, name);
  return v ? *v : kNil;
}

void Changeset::set_context(const Map& more) {
  runtime::deep_merge(context_, more);
  context_ = runtime::with_shared(context_);  // `shared` is also written to the outer context
}

CallOptions Changeset::to_opts() const {
  CallOptions opts;
  opts.actor = actor_;
  opts.tenant = call_ ? call_->tenant : std::string();
  if (call_) opts.authorize = call_->authorize;
  if (const Value* shared = find_field(context_, "shared")) opts.context = Map{{"shared", *shared}};
  return opts;
}

const CallOptions& ChangesetAccess::call(const Changeset& cs) { return *cs.call_; }

std::optional<Error> ChangesetAccess::late_hook(const Changeset& cs) {
  if (!cs.late_) return std::nullopt;
  static constexpr const char* kNames[] = {"building",     "around_transaction", "before_transaction",
                                           "around_action", "before_action",    "after_action",
                                           "after_action",  "after_transaction", "after_transaction"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(Changeset::Step::finished) + 1);
  Error e = Error::framework(fmt::format("a hook of kind {} was added after those hooks had run: it would never run",
                                         kNames[static_cast<int>(*cs.late_)]));
  e.resource = cs.resource().name();
  e.action = cs.action().name;
  return e;
}

bool ChangesetAccess::given(const Changeset& cs, std::string_view name) {
  return std::find(cs.given_.begin(), cs.given_.end(), name) != cs.given_.end();
}

void ChangesetAccess::check_required(Changeset& cs, bool building) {
  const auto& attrs = cs.resource().attributes();
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    // As Ash's: while the changeset is built, only what the caller could give is required
    // of it; what a manage_relationship or a before_action hook may still set (an
    // attribute the action does not accept) is required once they ran.
    if (building && (!cs.action().accepts(attrs[i].name) ||
                     std::find(cs.managed_.begin(), cs.managed_.end(), i) != cs.managed_.end()))
      continue;
    bool checked = cs.action().type == ActionType::create || cs.assigned_[i].has_value();
    // A value that did not cast has its error already: it is not also missing.
    bool refused = std::any_of(cs.errors_.begin(), cs.errors_.end(),
                               [&](const FieldError& e) { return e.field == attrs[i].name; });
    if (checked && !refused && !attrs[i].allow_nil && cs.attribute(attrs[i].name).is_null())
      cs.add_error({attrs[i].name, "required", "is required"});
  }
}

Changeset ChangesetAccess::build(Engine& engine, const Resource& r, const Action& a, const Fields& inputs,
                                 const CallOptions& call, std::optional<Record> data, const Fields& forced) {
  Changeset cs;
  cs.engine_ = EngineAccess::slot(engine);
  cs.resource_ = &r;
  cs.action_ = &a;
  cs.data_ = std::move(data);
  cs.actor_ = call.actor;
  cs.now_ = DateTime::now();
  cs.call_ = std::make_shared<CallOptions>(call);
  cs.assigned_.resize(r.attributes().size());
  cs.defaulted_.resize(r.attributes().size());
  cs.set_context(call.context);
  std::set<std::string_view> seen;
  Fields given;
  for (const auto& [name, raw] : inputs) {
    if (!seen.insert(name).second) cs.errors_.push_back({name, "duplicate_input", "is given more than once"});
    else take_input(cs, cs.errors_, given, name, raw);
  }
  for (const auto& [name, value] : call.private_arguments) {
    if (!a.argument(name)) cs.errors_.push_back({name, "unknown_input", fmt::format("is not an argument of {}.{}", r.name(), a.name)});
    else given.emplace_back(name, value);
  }
  for (const auto& [name, value] : forced) cs.force_change(name, value);
  apply_tenant(cs, call.tenant);
  for (const auto& [name, value] : given) cs.given_.push_back(name);
  // Arguments that cast are kept beside the errors, so changes can still read them.
  cs.arguments_ = runtime::cast_arguments_partly(r, a, given, cs.errors_);
  apply_defaults(cs);
  for (const auto& step : a.steps) run_step(cs, step);
  for (const auto& step : r.global_steps())
    if (applies(step, a.type)) run_step(cs, step);
  if (a.event_type() != ActionType::destroy) check_required(cs, true);
  return cs;
}

namespace runtime {

void deep_merge(Map& into, const Map& more) {
  for (const auto& entry : more) {
    const auto& [key, value] = entry;
    auto it = std::find_if(into.begin(), into.end(), [&](const auto& kv) { return kv.first == entry.first; });
    if (it == into.end()) {
      into.emplace_back(key, value);
    } else if (it->second.as_map() && value.as_map()) {
      Map merged = *it->second.as_map();
      deep_merge(merged, *value.as_map());
      it->second = Value(std::move(merged));
    } else {
      it->second = value;
    }
  }
  // Keep keys sorted, as a Map value does; they are unique already (a key found is merged).
  std::stable_sort(into.begin(), into.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

Map with_shared(const Map& given) {
  Map out = given;
  if (const Value* shared = find_field(given, "shared"); shared && shared->as_map()) deep_merge(out, *shared->as_map());
  return *Value(std::move(out)).as_map();  // sorted, as a Map value is
}

Result<Fields> cast_arguments(const Resource& resource, const Action& action, const Fields& given) {
  std::vector<FieldError> errors;
  Fields out = cast_arguments_partly(resource, action, given, errors);
  if (!errors.empty()) return fail(Error::invalid(resource.name(), action.name, std::move(errors)));
  return out;
}

Fields cast_arguments_partly(const Resource& resource, const Action& action, const Fields& given,
                             std::vector<FieldError>& errors) {
  Fields out;
  for (const auto& [name, raw] : given)
    if (!action.argument(name))
      errors.push_back({name, "unknown_input", fmt::format("is not an argument of {}.{}", resource.name(), action.name)});
  for (const auto& arg : action.arguments) {
    const Value* raw = find_field(given, arg.name);
    Value v = raw ? *raw : arg.default_value;
    auto cast = cast_value(arg.type, v);
    if (!cast.value) {
      errors.push_back({arg.name, cast_code(cast.error), cast.error});
      continue;
    }
    empty_to_nil(arg.type, arg.allow_empty, *cast.value);
    if (cast.value->is_null()) {
      if (!arg.allow_nil) errors.push_back({arg.name, "required", "is required"});
    } else if (auto broken = check_constraints(arg.type, arg.constraints, *cast.value)) {
      errors.push_back({arg.name, broken->first, broken->second});
    }
    out.emplace_back(arg.name, std::move(*cast.value));
  }
  return out;
}

std::optional<std::vector<Value>> negative_zero_key(const std::vector<Value>& key) {
  std::vector<Value> negative = key;
  bool zero = false;
  for (auto& v : negative)
    if (const double* d = v.as_float(); d && *d == 0.0 && !std::signbit(*d)) {
      v = Value(-0.0);
      zero = true;
    }
  if (!zero) return std::nullopt;
  return negative;
}

Result<std::vector<Value>> cast_id(const Resource& resource, std::string_view action, const Value& id) {
  const auto& pk = resource.primary_key();
  std::vector<Value> out;
  std::vector<FieldError> errors;
  auto cast_one = [&](const Attribute& a, const Value& raw) {
    auto cast = cast_value(a.type, raw);
    if (!cast.value) errors.push_back({a.name, cast_code(cast.error), cast.error});
    else if (cast.value->is_null()) errors.push_back({a.name, "required", "is required to find the record"});
    else {
      key_zero(a, *cast.value);
      out.push_back(std::move(*cast.value));
    }
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
                      fmt::format("{} has a composite primary key; give the id as a map of its attributes", resource.name())});
  }
  if (!errors.empty()) return fail(Error::invalid(resource.name(), std::string(action), std::move(errors)));
  return out;
}

}  // namespace runtime

Error runtime::changeset_error(const Changeset& cs) {
  for (const auto& f : cs.errors()) {
    if (f.code != codes::kUserCode) continue;
    Error e = Error::unknown(f.message).with_code(codes::kUserCode);  // "a change threw: ..."
    e.resource = cs.resource().name();
    e.action = cs.action().name;
    return e;
  }
  return Error::invalid(cs.resource().name(), cs.action().name, cs.errors());
}

}  // namespace ashlar
