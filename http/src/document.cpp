#include "document.hpp"

#include <ashlar/model/json.hpp>

namespace ashlar::http {

using nlohmann::ordered_json;

std::string type_of(const Api& api, const Resource& resource) {
  const ResourceRoutes* routes = api.by_resource(resource.name());
  return routes ? routes->type() : snake_case(resource.name());
}

std::string id_text(const Value& id) {
  if (const auto* s = id.as_string()) return *s;
  if (const auto* u = id.as_uuid()) return u->str();
  if (const auto* i = id.as_int()) return std::to_string(*i);
  return value_to_json(id).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

const std::set<std::string>* sparse(const DocumentShape& shape, const std::string& type) {
  auto it = shape.fields.find(type);
  return it == shape.fields.end() ? nullptr : &it->second;
}

ordered_json linkage(const DocumentShape& shape, const Record& record) {
  return {{"type", type_of(*shape.api, record.resource())}, {"id", id_text(record.id())}};
}

ordered_json attributes(const DocumentShape& shape, const Record& record, const std::string& type) {
  const auto* only = sparse(shape, type);
  ordered_json out = ordered_json::object();
  for (const auto& attribute : record.resource().attributes()) {
    if (attribute.primary_key || attribute.sensitive || !attribute.is_public) continue;
    if (only && !only->count(attribute.name)) continue;
    out[attribute.name] = value_to_json(record[attribute.name]);
  }
  if (only)  // aggregates and calculations, loaded because the fieldset names them
    for (const auto& name : *only)
      if (!record.resource().attribute(name))
        if (auto value = record.get(name)) out[name] = value_to_json(*value);
  return out;
}

// The relationship's resource linkage when the record knows it, or null.
std::optional<ordered_json> relationship_data(const DocumentShape& shape, const Record& record,
                                              const Relationship& rel) {
  if (record.loaded(rel.name)) {
    const auto& related = record.related(rel.name);
    if (rel.to_one()) return related.empty() ? ordered_json(nullptr) : linkage(shape, related.front());
    ordered_json list = ordered_json::array();
    for (const auto& r : related) list.push_back(linkage(shape, r));
    return list;
  }
  if (rel.kind != RelationshipKind::belongs_to || rel.manual || rel.no_attributes) return std::nullopt;
  auto value = record.get(rel.source_attribute);
  if (!value) return std::nullopt;
  if (value->is_null()) return ordered_json(nullptr);
  const ResourceRoutes* routes = shape.api->by_resource(rel.destination);
  return ordered_json{{"type", routes ? routes->type() : snake_case(rel.destination)}, {"id", id_text(*value)}};
}

ordered_json relationships(const DocumentShape& shape, const Record& record, const ResourceRoutes* routes,
                           const std::string& self) {
  ordered_json out = ordered_json::object();
  for (const auto& rel : record.resource().relationships()) {
    ordered_json entry = ordered_json::object();
    if (auto data = relationship_data(shape, record, rel)) entry["data"] = std::move(*data);
    if (routes && routes->find(RouteKind::related, rel.name)) entry["links"] = {{"related", self + "/" + rel.name}};
    if (!entry.empty()) out[rel.name] = std::move(entry);
  }
  return out;
}

void collect(const DocumentShape& shape, const Record& record, const std::vector<Load>& loads,
             std::set<std::pair<std::string, std::string>>& seen, ordered_json& out) {
  for (const auto& load : loads) {
    if (!record.resource().relationship(load.name)) continue;
    for (const auto& related : record.related(load.name)) {
      auto key = std::make_pair(type_of(*shape.api, related.resource()), id_text(related.id()));
      if (seen.insert(key).second) out.push_back(resource_object(shape, related));
      collect(shape, related, load.query.load, seen, out);
    }
  }
}

}  // namespace

ordered_json resource_object(const DocumentShape& shape, const Record& record) {
  const ResourceRoutes* routes = shape.api->by_resource(record.resource().name());
  std::string type = type_of(*shape.api, record.resource());
  std::string id = id_text(record.id());
  ordered_json out = {{"type", type}, {"id", id}, {"attributes", attributes(shape, record, type)}};
  std::string self = routes ? routes->base() + "/" + id : std::string();
  auto rels = relationships(shape, record, routes, self);
  if (!rels.empty()) out["relationships"] = std::move(rels);
  if (routes && routes->find(RouteKind::get)) out["links"] = {{"self", self}};
  out["meta"] = {{"version", record.version()}};
  return out;
}

ordered_json included(const DocumentShape& shape, const std::vector<Record>& records, const std::vector<Load>& loads) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& r : records) seen.insert({type_of(*shape.api, r.resource()), id_text(r.id())});
  ordered_json out = ordered_json::array();
  for (const auto& r : records) collect(shape, r, loads, seen, out);
  return out;
}

}  // namespace ashlar::http
