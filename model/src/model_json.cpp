// The stored model: the domain as JSON, and which changes a stored log can take.
#include <ashlar/model/expr.hpp>
#include <ashlar/model/json.hpp>
#include <ashlar/model/resource.hpp>

#include "access.hpp"

#include <fmt/format.h>

namespace ashlar {

using nlohmann::json;

namespace {

constexpr int kModelFormat = 1;

json constraints_to_json(const Constraints& c) {
  json out = json::object();
  if (c.min_length) out["min_length"] = *c.min_length;
  if (c.max_length) out["max_length"] = *c.max_length;
  if (c.match) out["match"] = *c.match;
  if (c.min) out["min"] = *c.min;
  if (c.max) out["max"] = *c.max;
  if (!c.one_of.empty()) out["one_of"] = c.one_of;
  return out;
}

// A count (a length, a limit) under `key`: a non-negative integer. Anything else is the
// type error a wrong type gets, never converted (a float past size_t's range is undefined).
std::size_t count_at(const json& j, const char* key) {
  const json& v = j.at(key);
  if (!v.is_number_unsigned())
    throw json::type_error::create(302, fmt::format("{} must be a non-negative integer, not {}", key, v.dump()), &v);
  return v.get<std::size_t>();
}

Constraints constraints_from_json(const json& j) {
  Constraints c;
  if (j.contains("min_length")) c.min_length = count_at(j, "min_length");
  if (j.contains("max_length")) c.max_length = count_at(j, "max_length");
  if (j.contains("match")) c.match = j["match"].get<std::string>();
  if (j.contains("min")) c.min = j["min"].get<double>();
  if (j.contains("max")) c.max = j["max"].get<double>();
  if (j.contains("one_of")) c.one_of = j["one_of"].get<std::vector<std::string>>();
  return c;
}

json argument_to_json(const Argument& a) {
  json out = {{"name", a.name}, {"type", a.type.name()}, {"allow_nil", a.allow_nil}, {"sensitive", a.sensitive},
              {"public", a.is_public}, {"constraints", constraints_to_json(a.constraints)}};
  if (!a.default_value.is_null()) out["default"] = value_to_json(a.default_value);
  if (a.allow_empty) out["allow_empty"] = true;  // written only when set: older models read as before
  return out;
}

Result<Argument> argument_from_json(const json& j) {
  Argument a;
  a.name = j.at("name").get<std::string>();
  auto t = Type::parse(j.at("type").get<std::string>());
  if (!t) return fail(Error::framework(fmt::format("argument {} has unknown type {}", a.name, j.at("type").dump())));
  a.type = *t;
  a.allow_nil = j.at("allow_nil").get<bool>();
  a.allow_empty = j.value("allow_empty", false);
  a.sensitive = j.at("sensitive").get<bool>();
  a.is_public = j.at("public").get<bool>();
  a.constraints = constraints_from_json(j.at("constraints"));
  if (j.contains("default")) {
    auto cast = cast_json(a.type, j["default"]);
    if (!cast.value) return fail(Error::framework(fmt::format("argument {} default: {}", a.name, cast.error)));
    a.default_value = *cast.value;
  }
  return a;
}

json action_to_json(const Action& a) {
  json args = json::array();
  for (const auto& arg : a.arguments) args.push_back(argument_to_json(arg));
  json out = {{"name", a.name}, {"type", to_string(a.type)}, {"primary", a.primary}, {"accept", a.accept},
              {"arguments", args}};
  if (a.filter) out["filter"] = to_string(*a.filter);
  if (!a.sort.empty()) out["sort"] = to_string(a.sort);
  if (a.limit) out["limit"] = *a.limit;
  // Written only when set, so models without these kinds keep their stored form.
  if (a.soft) out["soft"] = true;
  if (a.upsert) {
    out["upsert"] = {{"identity", a.upsert_identity}, {"fields", a.upsert_fields}};
    if (a.upsert_condition) out["upsert"]["condition"] = to_string(*a.upsert_condition);
  }
  if (a.type == ActionType::generic) {
    out["transaction"] = a.transaction;
    if (a.returns) out["returns"] = a.returns->name();
  }
  return out;
}

Result<Action> action_from_json(const json& j) {
  Action a;  // changes and validations are code: not stored
  a.name = j.at("name").get<std::string>();
  auto type = parse_action_type(j.at("type").get<std::string>());
  if (!type) return fail(Error::framework("unknown action type " + j.at("type").dump()));
  a.type = *type;
  a.primary = j.at("primary").get<bool>();
  a.accept = j.at("accept").get<std::vector<std::string>>();
  for (const auto& ja : j.value("arguments", json::array())) {
    ASHLAR_TRY(arg, argument_from_json(ja));
    a.arguments.push_back(std::move(*arg));
  }
  if (j.contains("filter")) {
    ASHLAR_TRY(filter, parse_expr(j["filter"].get<std::string>()));
    a.filter = std::move(*filter);
  }
  if (j.contains("sort")) {
    ASHLAR_TRY(sort, parse_sort(j["sort"].get<std::string>()));
    a.sort = std::move(*sort);
  }
  if (j.contains("limit")) a.limit = count_at(j, "limit");
  a.soft = j.value("soft", false);
  if (j.contains("upsert")) {
    const json& u = j["upsert"];
    a.upsert = true;
    a.upsert_identity = u.at("identity").get<std::string>();
    a.upsert_fields = u.at("fields").get<std::vector<std::string>>();
    if (u.contains("condition")) {
      ASHLAR_TRY(condition, parse_expr(u["condition"].get<std::string>()));
      a.upsert_condition = std::move(*condition);
    }
  }
  a.transaction = j.value("transaction", false);
  if (j.contains("returns")) {
    auto returns = Type::parse(j["returns"].get<std::string>());
    if (!returns) return fail(Error::framework("unknown return type " + j["returns"].dump()));
    a.returns = *returns;
  }
  return a;
}

// An expression calculation keeps its text; one in code keeps only that it was code.
json calculation_to_json(const CalculationDef& c) {
  json args = json::array();
  for (const auto& arg : c.arguments) args.push_back(argument_to_json(arg));
  json out = {{"name", c.name}, {"type", c.type.name()}, {"arguments", args}};
  if (c.expr) out["expr"] = to_string(*c.expr);
  else out["code"] = true;
  return out;
}

Result<CalculationDef> calculation_from_json(const json& j) {
  CalculationDef c;
  c.name = j.at("name").get<std::string>();
  auto t = Type::parse(j.at("type").get<std::string>());
  if (!t) return fail(Error::framework(fmt::format("calculation {} has unknown type {}", c.name, j.at("type").dump())));
  c.type = *t;
  for (const auto& ja : j.at("arguments")) {
    ASHLAR_TRY(arg, argument_from_json(ja));
    c.arguments.push_back(std::move(*arg));
  }
  if (j.contains("expr")) {
    ASHLAR_TRY(expr, parse_expr(j["expr"].get<std::string>()));
    c.expr = std::move(*expr);
  }
  return c;
}

json relationship_to_json(const Relationship& r) {
  json out = {{"name", r.name},
              {"kind", to_string(r.kind)},
              {"destination", r.destination},
              {"source_attribute", r.source_attribute},
              {"destination_attribute", r.destination_attribute},
              {"no_attributes", r.no_attributes},
              {"manual", r.manual != nullptr}};
  if (r.kind == RelationshipKind::many_to_many) {
    out["through"] = r.through;
    out["source_attribute_on_join_resource"] = r.source_attribute_on_join_resource;
    out["destination_attribute_on_join_resource"] = r.destination_attribute_on_join_resource;
  }
  if (r.filter) out["filter"] = to_string(*r.filter);
  if (!r.sort.empty()) out["sort"] = to_string(r.sort);
  if (!r.read_action.empty()) out["read_action"] = r.read_action;
  return out;
}

// A manual relationship's code is not stored: read back, it relates nothing.
Result<Relationship> relationship_from_json(const json& j) {
  Relationship r;
  r.name = j.at("name").get<std::string>();
  auto kind = parse_relationship_kind(j.at("kind").get<std::string>());
  if (!kind) return fail(Error::framework("unknown relationship kind " + j.at("kind").dump()));
  r.kind = *kind;
  r.destination = j.at("destination").get<std::string>();
  r.source_attribute = j.at("source_attribute").get<std::string>();
  r.destination_attribute = j.at("destination_attribute").get<std::string>();
  r.no_attributes = j.at("no_attributes").get<bool>() || j.value("manual", false);
  r.through = j.value("through", "");
  r.source_attribute_on_join_resource = j.value("source_attribute_on_join_resource", "");
  r.destination_attribute_on_join_resource = j.value("destination_attribute_on_join_resource", "");
  if (j.value("manual", false)) r.filter = Expr(Value(false));
  if (j.contains("filter") && !j.value("manual", false)) {
    ASHLAR_TRY(filter, parse_expr(j["filter"].get<std::string>()));
    r.filter = std::move(*filter);
  }
  if (j.contains("sort")) {
    ASHLAR_TRY(sort, parse_sort(j["sort"].get<std::string>()));
    r.sort = std::move(*sort);
  }
  r.read_action = j.value("read_action", "");
  return r;
}

}  // namespace

std::string domain_to_json(const Domain& domain) {
  json resources = json::array();
  for (const auto& r : domain.resources()) {
    json attrs = json::array();
    for (const auto& a : r.attributes()) {
      json ja = {{"name", a.name},          {"type", a.type.name()},   {"allow_nil", a.allow_nil},
                 {"public", a.is_public},   {"writable", a.writable},  {"sensitive", a.sensitive},
                 {"primary_key", a.primary_key}, {"generated_default", static_cast<bool>(a.default_fn)},
                 {"constraints", constraints_to_json(a.constraints)}};
      if (!a.default_value.is_null()) ja["default"] = value_to_json(a.default_value);
      if (a.allow_empty) ja["allow_empty"] = true;  // written only when set, as the other optional keys
      if (a.timestamp != Timestamp::none) ja["timestamp"] = a.timestamp == Timestamp::create ? "create" : "update";
      attrs.push_back(std::move(ja));
    }
    json actions = json::array();
    for (const auto& a : r.actions()) actions.push_back(action_to_json(a));
    json relationships = json::array();
    for (const auto& rel : r.relationships()) relationships.push_back(relationship_to_json(rel));
    json identities = json::array();
    for (const auto& id : r.identities()) {
      identities.push_back({{"name", id.name}, {"attributes", id.attributes}});
      if (id.all_tenants) identities.back()["all_tenants"] = true;  // only when set: older models keep their bytes
    }
    json aggregates = json::array();
    for (const auto& [name, a] : r.aggregates())
      aggregates.push_back({{"name", name}, {"kind", to_string(a.kind)}, {"path", a.path}, {"field", a.field}});
    resources.push_back({{"name", r.name()},
                         {"aggregates", aggregates},
                         {"attributes", attrs},
                         {"actions", actions},
                         {"relationships", relationships},
                         {"identities", identities},
                         {"indexed", r.indexed_attributes()}});
    if (!r.calculations().empty()) {  // only when there are some: older models keep their bytes
      json calculations = json::array();
      for (const auto& c : r.calculations()) calculations.push_back(calculation_to_json(c));
      resources.back()["calculations"] = std::move(calculations);
    }
    if (const MultitenancyDecl& m = r.multitenancy(); m.strategy == Multitenancy::attribute)
      resources.back()["multitenancy"] = {{"strategy", "attribute"}, {"attribute", m.attribute}, {"global", m.global}};
    else if (m.strategy == Multitenancy::context)
      resources.back()["multitenancy"] = {{"strategy", "context"}};
  }
  json doc = {{"format", kModelFormat}, {"domain", domain.name()}, {"resources", resources}};
  return doc.dump();
}

Result<Domain> domain_from_json(std::string_view text) {
  auto bad = [](std::string why) { return fail(Error::framework("the stored model does not decode: " + why)); };
  try {
    json doc = json::parse(text);
    const json* format = doc.is_object() && doc.contains("format") ? &doc["format"] : nullptr;
    if (!format || !format->is_number_integer() || format->get<std::int64_t>() != kModelFormat)
      return bad(fmt::format("model format {} is not {}", format ? format->dump() : "0", kModelFormat));
    auto data = std::make_shared<DomainData>();
    data->name = doc.at("domain").get<std::string>();
    std::vector<std::vector<Relationship>> declared;  // resolved once every resource is read
    for (const auto& jr : doc.at("resources")) {
      Resource r;
      r.name_ = jr.at("name").get<std::string>();
      for (const auto& ja : jr.at("attributes")) {
        Attribute a;
        a.name = ja.at("name").get<std::string>();
        auto t = Type::parse(ja.at("type").get<std::string>());
        if (!t) return bad(fmt::format("{}.{} has unknown type {}", r.name_, a.name, ja.at("type").dump()));
        a.type = *t;
        a.allow_nil = ja.at("allow_nil").get<bool>();
        a.allow_empty = ja.value("allow_empty", false);
        a.is_public = ja.at("public").get<bool>();
        a.writable = ja.at("writable").get<bool>();
        a.sensitive = ja.at("sensitive").get<bool>();
        a.primary_key = ja.at("primary_key").get<bool>();
        a.constraints = constraints_from_json(ja.at("constraints"));
        if (ja.contains("default")) {
          auto cast = cast_json(a.type, ja["default"]);
          if (!cast.value) return bad(fmt::format("{}.{} default: {}", r.name_, a.name, cast.error));
          a.default_value = *cast.value;
        }
        std::string ts = ja.value("timestamp", "");
        a.timestamp = ts == "create" ? Timestamp::create : ts == "update" ? Timestamp::update : Timestamp::none;
        if (a.primary_key) r.primary_key_.push_back(r.attributes_.size());
        r.attributes_.push_back(std::move(a));
      }
      for (const auto& jc : jr.at("actions")) {
        auto action = action_from_json(jc);
        if (!action) return bad(fmt::format("{}: {}", r.name_, action.error().describe()));
        r.actions_.push_back(std::move(*action));
      }
      declared.emplace_back();
      for (const auto& jrel : jr.value("relationships", json::array())) {
        auto rel = relationship_from_json(jrel);
        if (!rel) return bad(fmt::format("{}: {}", r.name_, rel.error().describe()));
        declared.back().push_back(std::move(*rel));
      }
      for (const auto& jid : jr.value("identities", json::array()))
        ModelAccess::identities(r).push_back({jid.at("name").get<std::string>(),
                                              jid.at("attributes").get<std::vector<std::string>>(),
                                              jid.value("all_tenants", false)});
      if (jr.contains("multitenancy")) {
        const json& jm = jr.at("multitenancy");
        std::string strategy = jm.at("strategy").get<std::string>();
        MultitenancyDecl& m = ModelAccess::multitenancy(r);
        if (strategy == "context") {
          m.strategy = Multitenancy::context;
        } else if (strategy == "attribute") {
          m.strategy = Multitenancy::attribute;
          m.attribute = jm.at("attribute").get<std::string>();
          m.global = jm.at("global").get<bool>();
          if (!r.attribute(m.attribute))
            return bad(fmt::format("{} is multitenant by {}, which is not one of its attributes", r.name_, m.attribute));
        } else {
          return bad(fmt::format("{} has unknown multitenancy strategy {}", r.name_, jm.at("strategy").dump()));
        }
      }
      ModelAccess::indexed(r) = jr.value("indexed", std::vector<std::string>{});
      for (const auto& jagg : jr.value("aggregates", json::array())) {
        Aggregate a;
        std::string kind = jagg.at("kind").get<std::string>();
        bool known = false;
        for (auto k : {AggregateKind::count, AggregateKind::exists, AggregateKind::sum, AggregateKind::min,
                       AggregateKind::max, AggregateKind::first, AggregateKind::list})
          if (kind == to_string(k)) a.kind = k, known = true;
        if (!known) return bad("unknown aggregate kind " + kind);
        a.path = jagg.at("path").get<std::vector<std::string>>();
        a.field = jagg.at("field").get<std::string>();
        ModelAccess::aggregates(r).emplace_back(jagg.at("name").get<std::string>(), std::move(a));
      }
      for (const auto& jc : jr.value("calculations", json::array())) {
        auto c = calculation_from_json(jc);
        if (!c) return bad(fmt::format("{}: {}", r.name_, c.error().describe()));
        ModelAccess::calculations(r).push_back(std::move(*c));
      }
      data->resources.push_back(std::move(r));
    }
    // A stored model is checked as a declared one is: a damaged or forged model whose names
    // repeat or whose references lead nowhere is refused here, not met by every reader.
    std::vector<FieldError> problems = stored_model_problems(*data);
    resolve_relationships(*data, declared, problems);
    check_relationship_filters(*data, problems);
    check_calculations(*data, problems, /*stored=*/true);
    if (!problems.empty())
      return bad(fmt::format("{}: {}", problems.front().field, problems.front().message));
    return ModelAccess::make(std::move(data));
  } catch (const json::exception& e) {
    return bad(e.what());
  }
}

std::vector<Incompatibility> model_incompatibilities(const Domain& stored, const Domain& next) {
  std::vector<Incompatibility> out;
  if (stored.name() != next.name())
    out.push_back({"", fmt::format("the store holds domain {}, not {}", stored.name(), next.name())});
  for (const auto& old_r : stored.resources()) {
    const Resource* new_r = next.resource(old_r.name());
    auto add = [&](std::string message) { out.push_back({old_r.name(), std::move(message)}); };
    if (!new_r) {
      add(fmt::format("{}: resource removed, but the log has its events", old_r.name()));
      continue;
    }
    for (const auto& old_a : old_r.attributes()) {
      const Attribute* new_a = new_r->attribute(old_a.name);
      std::string where = old_r.name() + "." + old_a.name;
      if (!new_a) {
        add(where + ": attribute removed, but the log has its values");
      } else if (new_a->type != old_a.type) {
        add(fmt::format("{}: type changed from {} to {}", where, old_a.type.name(), new_a->type.name()));
      } else if (new_a->primary_key != old_a.primary_key) {
        add(where + ": primary key changed");
      }
    }
    for (const auto& new_a : new_r->attributes()) {
      if (old_r.attribute(new_a.name)) continue;
      if (new_a.primary_key)
        add(fmt::format("{}.{}: new primary key attribute", old_r.name(), new_a.name));
      else if (!new_a.allow_nil && !new_a.has_default())
        add(fmt::format("{}.{}: new attribute that may not be nil has no default for the "
                        "records already stored",
                        old_r.name(), new_a.name));
    }
  }
  return out;
}

std::vector<std::string> incompatibilities(const Domain& stored, const Domain& next) {
  std::vector<std::string> out;
  for (auto& i : model_incompatibilities(stored, next)) out.push_back(std::move(i.message));
  return out;
}

}  // namespace ashlar
