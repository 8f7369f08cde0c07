#include <ashlar/eventlog/event_json.hpp>

#include <ashlar/model/json.hpp>

namespace ashlar {
namespace {

using nlohmann::ordered_json;

bool is_sensitive(const Resource* resource, std::string_view attribute) {
  if (!resource) return false;  // an event the stored model does not describe: nothing known to hide
  const Attribute* a = resource->attribute(attribute);
  return a && a->sensitive;
}

ordered_json field_json(const Resource* resource, std::string_view name, const Value& value) {
  if (is_sensitive(resource, name)) return std::string(kRedacted);
  return ordered_json(value_to_json(value));
}

ordered_json fields_json(const Resource* resource, const Fields& fields) {
  ordered_json out = ordered_json::object();
  for (const auto& [name, value] : fields) out[name] = field_json(resource, name, value);
  return out;
}

ordered_json id_json(const Resource* resource, const Fields& key) {
  if (key.size() == 1) return field_json(resource, key.front().first, key.front().second);
  return fields_json(resource, key);
}

}  // namespace

ordered_json event_to_json(const Event& e, const Domain& domain) {
  const Resource* resource = domain.resource(e.resource);
  ordered_json out = ordered_json::object();
  out["position"] = e.position;
  out["sequence"] = e.sequence;
  out["tx"] = e.tx;
  out["time"] = DateTime{e.time_micros}.str();
  out["resource"] = e.resource;
  out["action"] = e.action;
  out["type"] = to_string(e.type);
  out["id"] = id_json(resource, e.key);
  out["version"] = e.version;
  out["changes"] = fields_json(resource, e.changes);
  out["inputs"] = fields_json(resource, e.inputs);
  out["actor"] = ordered_json(value_to_json(e.actor));
  out["correlation_id"] = e.correlation_id;
  if (!e.tenant.empty()) out["tenant"] = e.tenant;  // only in a tenant: lines of other events unchanged
  if (!e.idempotency_key.empty()) out["idempotency_key"] = e.idempotency_key;  // only when given: older lines unchanged
  return out;
}

ordered_json event_to_json(const StoredEvent& stored, const Domain& domain) {
  ordered_json out = event_to_json(stored.event, domain);
  out["hash"] = to_hex(stored.hash);
  return out;
}

std::string json_line(const ordered_json& json) {
  return json.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace ashlar
