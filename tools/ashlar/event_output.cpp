#include "event_output.hpp"

#include <fmt/format.h>

namespace ashlar::cli {
namespace {

bool is_sensitive(const Resource* resource, std::string_view attribute) {
  if (!resource) return false;  // an event the stored model does not describe: nothing known to hide
  const Attribute* a = resource->attribute(attribute);
  return a && a->sensitive;
}

std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Value::str(), except that strings are escaped: a newline in a value must not split
// the event's line.
std::string value_text(const Value& value) {
  if (const auto* s = value.as_string()) return quoted(*s);
  if (const auto* m = value.as_map()) {
    std::string out;
    for (const auto& [k, v] : *m) out += fmt::format("{}{}: {}", out.empty() ? "" : ", ", k, value_text(v));
    return "{" + out + "}";
  }
  if (const auto* a = value.as_array()) {
    std::string out;
    for (const auto& v : *a) out += (out.empty() ? "" : ", ") + value_text(v);
    return "[" + out + "]";
  }
  return value.str();
}

std::string field_text(const Resource* resource, std::string_view name, const Value& value) {
  return is_sensitive(resource, name) ? std::string(kRedacted) : value_text(value);
}

std::string fields_text(const Resource* resource, const Fields& fields) {
  std::string out;
  for (const auto& [name, value] : fields)
    out += fmt::format("{}{}: {}", out.empty() ? "" : ", ", name, field_text(resource, name, value));
  return "{" + out + "}";
}

}  // namespace

std::string value_to_text(const Value& value) { return value_text(value); }

std::string event_to_text(const Event& e, const Domain& domain) {
  const Resource* resource = domain.resource(e.resource);
  std::string id = e.key.size() == 1 ? field_text(resource, e.key.front().first, e.key.front().second)
                                     : fields_text(resource, e.key);
  return fmt::format("{} {} {}.{} ({}) id={} v{} changes={} actor={}", e.position, DateTime{e.time_micros}.str(),
                     e.resource, e.action, to_string(e.type), id, e.version, fields_text(resource, e.changes),
                     value_text(e.actor));
}

}  // namespace ashlar::cli
