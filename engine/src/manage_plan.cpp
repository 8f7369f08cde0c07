// Building a manage_relationship's plan: options checked against the resources and
// completed with the type's defaults, the input cast into items with their keys. The
// change (changes::manage_relationship) and Changeset::manage_relationship.
#include "manage_plan.hpp"

#include <ashlar/changes.hpp>
#include <ashlar/model/key.hpp>

#include "changeset.hpp"
#include "impl.hpp"
#include "tenancy.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {

namespace manage {
const char* to_string(Type type) {
  switch (type) {
    case Type::append: return "append";
    case Type::append_and_remove: return "append_and_remove";
    case Type::remove: return "remove";
    case Type::direct_control: return "direct_control";
    case Type::create: return "create";
  }
  return "?";
}
}  // namespace manage

namespace runtime {

bool ManageKey::matches(const Record& r) const {
  for (std::size_t k = 0; k < values.size(); ++k)
    if (r[resource->attributes()[definition->attributes[k]].name] != values[k]) return false;
  return true;
}

bool ManageKey::names(std::string_view attribute) const {
  for (auto i : definition->attributes)
    if (resource->attributes()[i].name == attribute) return true;
  return false;
}

std::string ManageKey::describe() const {
  std::string out;
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k) out += ", ";
    std::vector<Value> one{values[k]};
    out += fmt::format("{} {}", resource->attributes()[definition->attributes[k]].name, describe_values(one));
  }
  return out;
}

namespace {

Error misfit(const Changeset& cs, std::string_view relationship, const std::string& why) {
  return Error::framework(fmt::format("manage_relationship({}) on {}.{}: {}", relationship, cs.resource().name(),
                                      cs.action().name, why));
}

// The type's defaults under the options given (Ash's table, manage.hpp).
void apply_defaults(ManagePlan& plan, const manage::Options& o) {
  if (o.type) {
    switch (*o.type) {
      case manage::Type::append:
        plan.on_lookup = manage::Lookup::relate, plan.on_no_match = manage::NoMatch::error;
        break;
      case manage::Type::append_and_remove:
        plan.on_lookup = manage::Lookup::relate, plan.on_no_match = manage::NoMatch::error, plan.on_missing = manage::Missing::unrelate;
        break;
      case manage::Type::remove:
        plan.on_no_match = manage::NoMatch::error, plan.on_match = manage::Match::unrelate;
        break;
      case manage::Type::direct_control:
        plan.on_no_match = manage::NoMatch::create, plan.on_match = manage::Match::update, plan.on_missing = manage::Missing::destroy;
        break;
      case manage::Type::create:
        plan.on_no_match = manage::NoMatch::create;
        break;
    }
  }
  if (o.on_lookup) plan.on_lookup = *o.on_lookup;
  if (o.on_no_match) plan.on_no_match = *o.on_no_match;
  if (o.on_match) plan.on_match = *o.on_match;
  if (o.on_missing) plan.on_missing = *o.on_missing;
}

// The keys items are matched and looked up by, in the order they are tried.
Result<void> plan_keys(const Changeset& cs, ManagePlan& plan, const manage::Options& o, std::string_view relationship) {
  const Resource& dest = *plan.dest;
  std::vector<std::string> names = o.use_identities.empty() ? std::vector<std::string>{"_primary_key"} : o.use_identities;
  if (!o.value_is_key.empty()) {
    const Attribute* a = dest.attribute(o.value_is_key);
    if (!a) return fail(misfit(cs, relationship, fmt::format("value_is_key names {}, which {} does not have",
                                                              o.value_is_key, dest.name())));
    bool is_pk = dest.primary_key().size() == 1 && dest.attributes()[dest.primary_key()[0]].name == o.value_is_key;
    const Identity* own = nullptr;  // an identity of that attribute alone (and the tenant)
    for (const auto& id : dest.identities()) {
      std::vector<std::string> declared;
      for (const auto& name : id.attributes)
        if (!tenant_part(dest, id, name)) declared.push_back(name);
      if (declared.size() == 1 && declared[0] == o.value_is_key) own = &id;
    }
    // A key (the primary key, a single-attribute identity) matches and looks records up;
    // any other attribute only fills the input of the actions that create them.
    if (is_pk || own) {
      std::string wanted = is_pk ? "_primary_key" : own->name;
      if (std::find(names.begin(), names.end(), wanted) == names.end()) names.push_back(wanted);
    }
    plan.value_is_key = o.value_is_key;
  } else if (dest.primary_key().size() == 1) {
    plan.value_is_key = dest.attributes()[dest.primary_key()[0]].name;
  }
  plan.primary_key = ManageKeyDef{"_primary_key", dest.primary_key()};
  for (const auto& name : names) {
    ManageKeyDef def{name, {}};
    if (name == "_primary_key") {
      def.attributes = dest.primary_key();
    } else if (const Identity* id = dest.identity(name)) {
      for (const auto& a : id->attributes) def.attributes.push_back(*dest.attribute_index(a));
    } else {
      return fail(misfit(cs, relationship, fmt::format("use_identities names {}, which is not an identity of {}",
                                                        name, dest.name())));
    }
    plan.keys.push_back(std::move(def));
  }
  return {};
}

}  // namespace

Result<std::shared_ptr<ManagePlan>> plan_manage(const Changeset& cs, std::string_view relationship,
                                                const manage::Options& options, std::string path) {
  const Domain& domain = EngineAccess::impl(cs.engine()).domain;
  auto plan = std::make_shared<ManagePlan>();
  plan->source = &cs.resource();
  plan->rel = cs.resource().relationship(relationship);
  plan->path = std::move(path);
  if (!plan->rel) return fail(misfit(cs, relationship, fmt::format("{} has no relationship named {}", cs.resource().name(), relationship)));
  if (plan->rel->manual) return fail(misfit(cs, relationship, "a manual relationship is loaded by code and cannot be managed"));
  plan->dest = domain.resource(plan->rel->destination);
  if (!plan->rel->through.empty()) plan->join = domain.resource(plan->rel->through);
  if (!options.join_keys.empty()) {
    if (!plan->join) return fail(misfit(cs, relationship, "join_keys are for many_to_many relationships"));
    for (const auto& k : options.join_keys) {
      if (!plan->join->attribute(k))
        return fail(misfit(cs, relationship, fmt::format("join key {} is not an attribute of {}", k, plan->join->name())));
      if (k == plan->rel->source_attribute_on_join_resource || k == plan->rel->destination_attribute_on_join_resource)
        return fail(misfit(cs, relationship, fmt::format("join key {} is what relates {} records: relating sets it",
                                                          k, plan->join->name())));
    }
  }
  plan->join_keys = options.join_keys;
  apply_defaults(*plan, options);
  ASHLAR_TRY_VOID(plan_keys(cs, *plan, options, relationship));
  if (const Attribute* tenant = plan->dest->tenant_attribute()) {
    auto value = tenant_value(*plan->dest, cs.action().name, ChangesetAccess::call(cs).tenant);
    if (value && *value) {  // no tenant: the actions on the destination say so
      plan->tenant_index = plan->dest->attribute_index(tenant->name);
      plan->tenant = **value;
    }
  }
  return plan;
}

namespace {

// The first key whose attributes the fields all carry, its values cast; an error on the
// item's path for a value that does not cast.
std::optional<ManageKey> key_of(const ManagePlan& plan, const ManageItem& item, std::vector<FieldError>& errors) {
  for (const auto& def : plan.keys) {
    ManageKey key{&def, plan.dest, {}};
    for (auto i : def.attributes) {
      const Attribute& a = plan.dest->attributes()[i];
      const Value* v = find_field(item.fields, a.name);
      if ((!v || v->is_null()) && plan.tenant_index == i) v = &plan.tenant;
      if (!v || v->is_null()) break;
      auto cast = cast_value(a.type, *v);
      if (!cast.value) {
        errors.push_back({item.path + "." + a.name, "invalid_type", cast.error});
        return std::nullopt;
      }
      key.values.push_back(std::move(*cast.value));
    }
    if (key.values.size() == def.attributes.size()) return key;
  }
  return std::nullopt;
}

void add_item(ManagePlan& plan, const Value& v, std::string path, std::vector<FieldError>& errors) {
  ManageItem item;
  item.path = std::move(path);
  if (const Map* m = v.as_map()) {
    item.fields.assign(m->begin(), m->end());
  } else if (v.is_null()) {
    errors.push_back({item.path, "invalid_type", "is nil; give a map or a simple value"});
    return;
  } else if (v.kind() == ValueKind::array) {
    errors.push_back({item.path, "invalid_type", "is a list inside the list; give a map or a simple value"});
    return;
  } else if (plan.value_is_key.empty()) {
    errors.push_back({item.path, "invalid_type",
                      fmt::format("is a simple value, but {} has a composite primary key: give a map, or set value_is_key",
                                  plan.dest->name())});
    return;
  } else {
    item.fields.emplace_back(plan.value_is_key, v);
  }
  std::size_t before = errors.size();
  item.key = key_of(plan, item, errors);
  if (errors.size() == before) plan.items.push_back(std::move(item));
}

}  // namespace

void add_items(ManagePlan& plan, const Value& input, std::vector<FieldError>& errors) {
  if (input.is_null()) return;  // none: the records related now are all missing
  if (const Array* list = input.as_array()) {
    if (plan.rel->to_one() && list->size() > 1) {
      errors.push_back({plan.path, "invalid_type",
                        fmt::format("{} relates one {}; got {}", plan.rel->name, plan.dest->name(), list->size())});
      return;
    }
    for (std::size_t i = 0; i < list->size(); ++i)
      add_item(plan, (*list)[i], fmt::format("{}[{}]", plan.path, i), errors);
    return;
  }
  add_item(plan, input, plan.path, errors);
}

void add_records(ManagePlan& plan, std::vector<Record> records, std::vector<FieldError>& errors) {
  if (plan.rel->to_one() && records.size() > 1) {
    errors.push_back({plan.path, "invalid_type",
                      fmt::format("{} relates one {}; got {}", plan.rel->name, plan.dest->name(), records.size())});
    return;
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    ManageItem item;
    item.path = fmt::format("{}[{}]", plan.path, i);
    if (records[i].resource().name() != plan.dest->name()) {
      errors.push_back({item.path, "invalid_type",
                        fmt::format("is a {}; {} relates {}", records[i].resource().name(), plan.rel->name, plan.dest->name())});
      continue;
    }
    ManageKey key{&plan.primary_key, plan.dest, {}};
    for (auto a : plan.primary_key.attributes) key.values.push_back(records[i][plan.dest->attributes()[a].name]);
    item.key = std::move(key);
    item.record = std::move(records[i]);
    plan.has_records = true;
    plan.items.push_back(std::move(item));
  }
}

namespace {

class ManageChange final : public Change {
 public:
  ManageChange(std::string argument, std::string relationship, manage::Options options)
      : argument_(std::move(argument)), relationship_(std::move(relationship)), options_(std::move(options)) {}

  Result<void> change(Changeset& cs) const override {
    if (!cs.action().argument(argument_))
      return fail(misfit(cs, relationship_, fmt::format("{}.{} has no argument named {}", cs.resource().name(),
                                                        cs.action().name, argument_)));
    // Options that do not fit are an error whenever the action is built.
    ASHLAR_TRY(plan, plan_manage(cs, relationship_, options_, argument_));
    // An argument the call did not give manages nothing (nil given: the records related
    // now are all missing).
    if (!ChangesetAccess::given(cs, argument_)) return {};
    std::vector<FieldError> errors;
    add_items(**plan, cs.argument(argument_), errors);
    for (auto& e : errors) cs.add_error(std::move(e));
    if (!errors.empty()) return {};
    return schedule_manage(cs, std::move(*plan));
  }

 private:
  std::string argument_;
  std::string relationship_;
  manage::Options options_;
};

}  // namespace
}  // namespace runtime

Result<void> Changeset::manage_relationship(std::string_view relationship, Value input, const manage::Options& options) {
  ASHLAR_TRY(plan, runtime::plan_manage(*this, relationship, options, std::string(relationship)));
  std::vector<FieldError> errors;
  runtime::add_items(**plan, input, errors);
  for (auto& e : errors) add_error(std::move(e));
  if (!errors.empty()) return {};
  return runtime::schedule_manage(*this, std::move(*plan));
}

Result<void> Changeset::manage_relationship(std::string_view relationship, std::vector<Record> records,
                                            const manage::Options& options) {
  ASHLAR_TRY(plan, runtime::plan_manage(*this, relationship, options, std::string(relationship)));
  std::vector<FieldError> errors;
  runtime::add_records(**plan, std::move(records), errors);
  for (auto& e : errors) add_error(std::move(e));
  if (!errors.empty()) return {};
  return runtime::schedule_manage(*this, std::move(*plan));
}

namespace changes {

ActionStep manage_relationship(std::string argument, std::string relationship, manage::Options options) {
  return custom(std::make_shared<runtime::ManageChange>(std::move(argument), std::move(relationship), std::move(options)));
}

ActionStep manage_relationship(std::string relationship, manage::Options options) {
  std::string argument = relationship;
  return manage_relationship(std::move(argument), std::move(relationship), std::move(options));
}

}  // namespace changes
}  // namespace ashlar
