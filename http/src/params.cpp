#include "params.hpp"

#include <ashlar/model/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>
#include <vector>

namespace ashlar::http {

using nlohmann::json;

namespace {

Failure bad_parameter(std::string_view parameter, std::string_view detail) {
  return failure(400, codes::kInvalidInput, detail, {.parameter = std::string(parameter)});
}

// A parser's error as the detail: its field messages ("at column 11: ...").
std::string parse_detail(const Error& error) {
  std::string detail;
  for (const auto& f : error.fields) detail += (detail.empty() ? "" : "; ") + f.message;
  return detail.empty() ? error.message : detail;
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos <= text.size();) {
    std::size_t end = std::min(text.find(sep, pos), text.size());
    out.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

const Resource* resource_of_type(const Api& api, const Domain& domain, std::string_view type) {
  if (const ResourceRoutes* routes = api.by_type(type)) return domain.resource(routes->resource());
  for (const auto& r : domain.resources())
    if (snake_case(r.name()) == type) return &r;
  return nullptr;
}

// fields[TYPE]=a,b: each name an attribute, aggregate or calculation of TYPE's resource.
std::optional<Failure> parse_fields(const std::string& key, const std::string& value, const Api& api,
                                    const Domain& domain, ReadParams& out) {
  std::string type = key.substr(7, key.size() - 8);
  const Resource* r = resource_of_type(api, domain, type);
  if (!r) return bad_parameter(key, "no resource has the type \"" + type + "\"");
  auto& names = out.shape.fields[type];
  for (const auto& name : split(value, ',')) {
    if (name.empty()) continue;
    const Attribute* a = r->attribute(name);
    bool shown = a ? a->primary_key || (a->is_public && !a->sensitive) : r->aggregate(name) || r->calculation(name);
    if (!shown)  // an attribute the documents never show is as unknown here as in a filter
      return bad_parameter(key, r->name() + " has no attribute, aggregate or calculation \"" + name + "\"");
    names.insert(name);
  }
  return std::nullopt;
}

std::optional<Failure> parse_include(const std::string& value, ReadParams& out) {
  for (const auto& path : split(value, ','))
    for (const auto& segment : split(path, '.'))
      if (segment.empty() && !path.empty())
        return bad_parameter("include", "\"" + path + "\" has an empty relationship name");
  out.query.load = parse_load_paths(value);
  return std::nullopt;
}

std::optional<std::size_t> parse_count(std::string_view text) {
  std::size_t value = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<Failure> parse_index_param(const std::string& key, const std::string& value,
                                         const ServerOptions& options, ReadParams& out) {
  if (key == "filter") {
    auto filter = parse_expr(value);
    if (!filter) return bad_parameter(key, parse_detail(filter.error()));
    out.query.filter = std::move(*filter);
  } else if (key == "sort") {
    auto sort = parse_sort(value);
    if (!sort) return bad_parameter(key, parse_detail(sort.error()));
    out.query.sort = std::move(*sort);
  } else if (key == "page[limit]") {
    auto limit = parse_count(value);
    if (!limit || *limit == 0 || *limit > options.max_page)
      return bad_parameter(key, "must be a count from 1 to " + std::to_string(options.max_page));
    out.query.limit = *limit;
  } else if (key == "page[offset]") {
    auto offset = parse_count(value);
    if (!offset) return bad_parameter(key, "must be a count of records to skip");
    out.query.offset = *offset;
  } else if (key == "page[after]") {
    out.query.after = value;
  } else if (key == "page[before]") {
    out.query.before = value;
  } else {
    return bad_parameter(key, "is not a parameter of this route");
  }
  return std::nullopt;
}

// Aggregates and calculations a fieldset of the resource's own type names are loaded.
void load_fields(const Api& api, const Resource& resource, ReadParams& out) {
  auto it = out.shape.fields.find(type_of(api, resource));
  if (it == out.shape.fields.end()) return;
  for (const auto& name : it->second)
    if (!resource.attribute(name)) out.query.load.emplace_back(name);
}

}  // namespace

std::optional<Failure> parse_read_params(const Params& params, const Api& api, const Domain& domain,
                                         const Resource& resource, bool index, const ServerOptions& options,
                                         ReadParams& out) {
  out.query.public_only = true;  // a client names what the documents show it, nothing else
  for (const auto& [key, value] : params) {
    if (params.count(key) > 1) return bad_parameter(key, "is given more than once");
    std::optional<Failure> failed;
    if (key == "include") failed = parse_include(value, out);
    else if (key.starts_with("fields[") && key.ends_with("]")) failed = parse_fields(key, value, api, domain, out);
    else if (index) failed = parse_index_param(key, value, options, out);
    else failed = bad_parameter(key, "is not a parameter of this route");
    if (failed) return failed;
  }
  if (index && !out.query.limit) out.query.limit = options.default_page;
  load_fields(api, resource, out);
  return std::nullopt;
}

}  // namespace ashlar::http

namespace ashlar::http {
namespace {

Failure malformed(std::string_view pointer, std::string_view detail) {
  return failure(400, "malformed", detail, {.pointer = std::string(pointer)});
}

// The first key an object of the body repeats, and where: JSON leaves a repeated key's
// meaning open and the parser would keep its last value, where the engine refuses an input
// given twice.
struct RepeatedKey {
  std::string key;
  std::vector<std::string> path;  // the keys of the objects around it, when only objects are
};

// `inputs`: the keys of "data" itself are inputs (a generic action's arguments).
std::optional<Failure> parse_document(std::string_view body, json& data, bool inputs = false) {
  std::vector<std::set<std::string>> keys;  // of each object open, innermost last
  std::vector<std::string> path;            // the key each open object is under ("" in an array)
  std::vector<bool> in_array;               // whether each open container is an array
  std::optional<RepeatedKey> repeated;
  json::parser_callback_t check = [&](int, json::parse_event_t event, json& parsed) {
    using Event = json::parse_event_t;
    switch (event) {
      case Event::object_start:
        keys.emplace_back();
        in_array.push_back(false);
        path.emplace_back();
        break;
      case Event::array_start:
        in_array.push_back(true);
        path.emplace_back();
        break;
      case Event::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second && !repeated) {
          repeated = RepeatedKey{parsed.get<std::string>(), {}};
          if (std::find(in_array.begin(), in_array.end(), true) == in_array.end())
            repeated->path.assign(path.begin(), path.end() - 1);
        }
        if (!path.empty()) path.back() = parsed.get<std::string>();
        break;
      case Event::object_end:
        if (!keys.empty()) keys.pop_back();
        [[fallthrough]];
      case Event::array_end:
        if (!in_array.empty()) in_array.pop_back();
        if (!path.empty()) path.pop_back();
        break;
      case Event::value: break;
    }
    return true;
  };
  json doc = json::parse(body, check, false);
  if (doc.is_discarded()) return failure(400, "malformed", "the body is not JSON");
  if (repeated) {
    // An input given twice, as the engine refuses one; any other repeat, a malformed body.
    const auto& at = repeated->path;
    if ((inputs && at == std::vector<std::string>{"data"}) || at == std::vector<std::string>{"data", "attributes"} ||
        at == std::vector<std::string>{"data", "relationships"}) {
      std::string pointer;
      for (const auto& name : at) pointer += "/" + name;
      return failure(422, "duplicate_input", "is given more than once", {.pointer = pointer + "/" + repeated->key});
    }
    return failure(400, "malformed", "an object in the body repeats the key \"" + repeated->key + "\"");
  }
  if (!doc.is_object() || !doc.contains("data")) return malformed("", "the body must be an object with \"data\"");
  data = std::move(doc["data"]);
  if (!data.is_object()) return malformed("/data", "must be an object");
  return std::nullopt;
}

// A resource identifier object's id, or nullopt when it is not {"type": ..., "id": "..."}.
std::optional<Value> identifier_id(const json& identifier) {
  if (!identifier.is_object() || !identifier.contains("id") || !identifier["id"].is_string()) return std::nullopt;
  return Value(identifier["id"].get<std::string>());
}

std::optional<Failure> relationship_input(const Resource& resource, const Action& action, const std::string& name,
                                          const json& entry, Fields& inputs,
                                          std::map<std::string, std::string>& renamed) {
  std::string pointer = "/data/relationships/" + name;
  if (!entry.is_object() || !entry.contains("data"))
    return malformed(pointer, "must be an object with \"data\"");
  const json& data = entry["data"];
  Value value;
  if (data.is_array()) {
    Array ids;
    for (const auto& item : data) {
      auto id = identifier_id(item);
      if (!id) return malformed(pointer + "/data", "must hold resource identifiers: {\"type\", \"id\"}");
      ids.push_back(std::move(*id));
    }
    value = Value(std::move(ids));
  } else if (!data.is_null()) {
    auto id = identifier_id(data);
    if (!id) return malformed(pointer + "/data", "must be a resource identifier: {\"type\", \"id\"}, or null");
    value = std::move(*id);
  }
  const Relationship* rel = resource.relationship(name);
  bool via_attribute = !action.argument(name) && rel && rel->kind == RelationshipKind::belongs_to;
  // An error about it points where it was sent.
  renamed[via_attribute ? rel->source_attribute : name] = name;
  inputs.emplace_back(via_attribute ? rel->source_attribute : name, std::move(value));
  return std::nullopt;
}

std::optional<Failure> check_identity(const json& data, const ResourceRoutes& routes, const std::string* id) {
  if (!data.contains("type") || !data["type"].is_string()) return malformed("/data/type", "must be a string");
  if (data["type"] != routes.type())
    return failure(409, "type_mismatch", "is not \"" + routes.type() + "\", the type of this route",
                   {.pointer = "/data/type"});
  if (id && data.contains("id") && data["id"] != *id)
    return failure(409, "id_mismatch", "is not the id in the URL", {.pointer = "/data/id"});
  return std::nullopt;
}

}  // namespace

std::optional<Failure> parse_record_body(std::string_view body, const ResourceRoutes& routes,
                                         const Resource& resource, const Action& action,
                                         const std::string* id, Fields& inputs,
                                         std::map<std::string, std::string>& renamed) {
  json data;
  if (auto failed = parse_document(body, data)) return failed;
  if (auto failed = check_identity(data, routes, id)) return failed;
  if (data.contains("attributes")) {
    const json& attributes = data["attributes"];
    if (!attributes.is_object()) return malformed("/data/attributes", "must be an object");
    for (const auto& [name, value] : attributes.items()) inputs.emplace_back(name, value_from_json(value));
  }
  if (data.contains("relationships")) {
    const json& relationships = data["relationships"];
    if (!relationships.is_object()) return malformed("/data/relationships", "must be an object");
    for (const auto& [name, entry] : relationships.items())
      if (auto failed = relationship_input(resource, action, name, entry, inputs, renamed)) return failed;
  }
  return std::nullopt;
}

std::optional<Failure> parse_arguments_body(std::string_view body, Fields& args) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  json data;
  if (auto failed = parse_document(body, data, true)) return failed;
  for (const auto& [name, value] : data.items()) args.emplace_back(name, value_from_json(value));
  return std::nullopt;
}

std::optional<Value> parse_id(const Resource& resource, const std::string& text) {
  if (resource.primary_key().size() != 1) return std::nullopt;
  const Attribute& key = resource.attributes()[resource.primary_key().front()];
  json given = text;
  if (key.type.kind == TypeKind::integer) {
    auto n = parse_count(text);
    if (!n) return std::nullopt;
    given = *n;
  }
  auto cast = cast_json(key.type, given);
  return cast.value;
}

std::optional<Failure> parse_if_match(const std::string& header, std::optional<std::uint64_t>& version) {
  version.reset();
  if (header.empty() || header == "*") return std::nullopt;
  std::optional<std::size_t> n;
  if (header.size() > 2 && header.front() == '"' && header.back() == '"')
    n = parse_count(std::string_view(header).substr(1, header.size() - 2));
  if (!n) return failure(400, codes::kInvalidInput, "must be a record's version in quotes, as its ETag: \"3\"",
                         {.header = "If-Match"});
  version = *n;
  return std::nullopt;
}

std::string url_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace ashlar::http
