// The stored model: the domain as JSON, and which changes a stored log can take.
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

Constraints constraints_from_json(const json& j) {
  Constraints c;
  if (j.contains("min_length")) c.min_length = j["min_length"].get<std::size_t>();
  if (j.contains("max_length")) c.max_length = j["max_length"].get<std::size_t>();
  if (j.contains("match")) c.match = j["match"].get<std::string>();
  if (j.contains("min")) c.min = j["min"].get<double>();
  if (j.contains("max")) c.max = j["max"].get<double>();
  if (j.contains("one_of")) c.one_of = j["one_of"].get<std::vector<std::string>>();
  return c;
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
      if (a.timestamp != Timestamp::none) ja["timestamp"] = a.timestamp == Timestamp::create ? "create" : "update";
      attrs.push_back(std::move(ja));
    }
    json actions = json::array();
    for (const auto& a : r.actions())
      actions.push_back({{"name", a.name}, {"type", to_string(a.type)}, {"primary", a.primary}, {"accept", a.accept}});
    resources.push_back({{"name", r.name()}, {"attributes", attrs}, {"actions", actions}});
  }
  json doc = {{"format", kModelFormat}, {"domain", domain.name()}, {"resources", resources}};
  return doc.dump();
}

Result<Domain> domain_from_json(std::string_view text) {
  auto bad = [](std::string why) { return fail(Error::framework("the stored model does not decode: " + why)); };
  try {
    json doc = json::parse(text);
    if (doc.value("format", 0) != kModelFormat)
      return bad(fmt::format("model format {} is not {}", doc.value("format", 0), kModelFormat));
    auto data = std::make_shared<DomainData>();
    data->name = doc.at("domain").get<std::string>();
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
        auto type = parse_action_type(jc.at("type").get<std::string>());
        if (!type) return bad("unknown action type " + jc.at("type").dump());
        r.actions_.push_back({jc.at("name").get<std::string>(), *type, jc.at("primary").get<bool>(),
                              jc.at("accept").get<std::vector<std::string>>()});
      }
      data->resources.push_back(std::move(r));
    }
    return ModelAccess::make(std::move(data));
  } catch (const json::exception& e) {
    return bad(e.what());
  }
}

std::vector<std::string> incompatibilities(const Domain& stored, const Domain& next) {
  std::vector<std::string> out;
  if (stored.name() != next.name())
    out.push_back(fmt::format("the store holds domain {}, not {}", stored.name(), next.name()));
  for (const auto& old_r : stored.resources()) {
    const Resource* new_r = next.resource(old_r.name());
    if (!new_r) {
      out.push_back(fmt::format("{}: resource removed, but the log has its events", old_r.name()));
      continue;
    }
    for (const auto& old_a : old_r.attributes()) {
      const Attribute* new_a = new_r->attribute(old_a.name);
      std::string where = old_r.name() + "." + old_a.name;
      if (!new_a) {
        out.push_back(where + ": attribute removed, but the log has its values");
      } else if (new_a->type != old_a.type) {
        out.push_back(fmt::format("{}: type changed from {} to {}", where, old_a.type.name(), new_a->type.name()));
      } else if (new_a->primary_key != old_a.primary_key) {
        out.push_back(where + ": primary key changed");
      }
    }
    for (const auto& new_a : new_r->attributes()) {
      if (old_r.attribute(new_a.name)) continue;
      if (new_a.primary_key)
        out.push_back(fmt::format("{}.{}: new primary key attribute", old_r.name(), new_a.name));
      else if (!new_a.allow_nil && !new_a.has_default())
        out.push_back(fmt::format("{}.{}: new attribute that may not be nil has no default for the "
                                  "records already stored",
                                  old_r.name(), new_a.name));
    }
  }
  return out;
}

}  // namespace ashlar
