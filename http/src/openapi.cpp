#include "openapi.hpp"

#include "document.hpp"
#include "errors.hpp"

#include <algorithm>

namespace ashlar::http {

using nlohmann::ordered_json;

namespace {

const char* kJsonApi = "application/vnd.api+json";

ordered_json ref(const std::string& section, const std::string& name) {
  return {{"$ref", "#/components/" + section + "/" + name}};
}
ordered_json schema_ref(const std::string& name) { return ref("schemas", name); }

// A value of `kind` as value_to_json writes it (model/json.hpp).
ordered_json kind_schema(TypeKind kind) {
  switch (kind) {
    case TypeKind::string: return {{"type", "string"}};
    case TypeKind::integer: return {{"type", "integer"}, {"format", "int64"}};
    case TypeKind::floating: return {{"type", "number"}, {"format", "double"}};
    case TypeKind::boolean: return {{"type", "boolean"}};
    case TypeKind::uuid: return {{"type", "string"}, {"format", "uuid"}};
    case TypeKind::utc_datetime: return {{"type", "string"}, {"format", "date-time"}};
    case TypeKind::date: return {{"type", "string"}, {"format", "date"}};
    case TypeKind::atom: return {{"type", "string"}};
    case TypeKind::binary: return {{"type", "string"}, {"format", "byte"}};
    case TypeKind::map: return {{"type", "object"}, {"additionalProperties", true}};
    case TypeKind::array: return {{"type", "array"}, {"items", ordered_json::object()}};
  }
  return ordered_json::object();
}

// The constraints of a scalar (an array's apply to each element, as the engine checks them).
void constrain(ordered_json& schema, TypeKind kind, const Constraints& c) {
  if (c.min_length) schema["minLength"] = *c.min_length;
  if (c.max_length) schema["maxLength"] = *c.max_length;
  if (c.match) schema["pattern"] = "^(?:" + *c.match + ")$";  // the whole value matches
  auto bound = [kind](double v) {
    return kind == TypeKind::integer ? ordered_json(static_cast<std::int64_t>(v)) : ordered_json(v);
  };
  if (c.min) schema["minimum"] = bound(*c.min);
  if (c.max) schema["maximum"] = bound(*c.max);
  if (!c.one_of.empty()) schema["enum"] = c.one_of;
}

ordered_json type_schema(const Type& type, const Constraints& constraints = {}, bool nullable = true) {
  ordered_json schema;
  if (type.kind == TypeKind::array) {
    ordered_json item = kind_schema(type.element);
    constrain(item, type.element, constraints);
    schema = {{"type", "array"}, {"items", std::move(item)}};
  } else {
    schema = kind_schema(type.kind);
    constrain(schema, type.kind, constraints);
  }
  if (nullable) schema["nullable"] = true;
  return schema;
}

// An aggregate's value: count an integer, exists a boolean, list an array, the others the
// type of the field they take (nil when there is nothing to take it from).
ordered_json aggregate_schema(const Domain& domain, const Resource& resource, const Aggregate& aggregate) {
  if (aggregate.kind == AggregateKind::count) return {{"type", "integer"}, {"format", "int64"}};
  if (aggregate.kind == AggregateKind::exists) return {{"type", "boolean"}};
  const Resource* at = &resource;
  for (const auto& name : aggregate.path) {
    const Relationship* rel = at ? at->relationship(name) : nullptr;
    at = rel ? domain.resource(rel->destination) : nullptr;
  }
  const Attribute* field = at ? at->attribute(aggregate.field) : nullptr;
  ordered_json item = field ? type_schema(field->type) : ordered_json::object();
  if (aggregate.kind == AggregateKind::list) return {{"type", "array"}, {"items", std::move(item)}};
  if (field) return item;
  return ordered_json::object();  // any value
}

// What a record's `attributes` may hold: its public attributes, aggregates and calculations.
ordered_json attributes_schema(const Domain& domain, const Resource& resource) {
  ordered_json properties = ordered_json::object();
  for (const auto& a : resource.attributes()) {
    if (a.primary_key || a.sensitive || !a.is_public) continue;
    properties[a.name] = type_schema(a.type, a.constraints, a.allow_nil);
  }
  for (const auto& [name, aggregate] : resource.aggregates()) {
    ordered_json schema = aggregate_schema(domain, resource, aggregate);
    schema["readOnly"] = true;
    schema["description"] = "an aggregate: only when fields[TYPE] names it";
    properties[name] = std::move(schema);
  }
  for (const auto& c : resource.calculations()) {
    ordered_json schema = type_schema(c.type);
    schema["readOnly"] = true;
    schema["description"] = "a calculation: only when fields[TYPE] names it";
    properties[c.name] = std::move(schema);
  }
  return {{"type", "object"}, {"properties", std::move(properties)}};
}

// null alone, as OpenAPI 3.0 spells it.
ordered_json null_schema() { return {{"type", "object"}, {"nullable", true}, {"enum", ordered_json::array({nullptr})}}; }

ordered_json identifier_schema(const std::string& type, bool nullable) {
  ordered_json out = {{"type", "object"},
                      {"required", {"type", "id"}},
                      {"properties", {{"type", {{"type", "string"}, {"enum", {type}}}}, {"id", {{"type", "string"}}}}}};
  if (nullable) out["nullable"] = true;
  return out;
}

ordered_json linkage_schema(const Api& api, const Domain& domain, const Relationship& rel) {
  std::string type = type_of(api, *domain.resource(rel.destination));
  if (rel.to_one()) return identifier_schema(type, true);
  return {{"type", "array"}, {"items", identifier_schema(type, false)}};
}

ordered_json resource_object_schema(const Api& api, const Domain& domain, const Resource& resource) {
  std::string type = type_of(api, resource);
  ordered_json relationships = ordered_json::object();
  for (const auto& rel : resource.relationships())
    relationships[rel.name] = {{"type", "object"},
                               {"properties",
                                {{"data", linkage_schema(api, domain, rel)},
                                 {"links", {{"type", "object"}, {"properties", {{"related", {{"type", "string"}}}}}}}}}};
  ordered_json properties = {
      {"type", {{"type", "string"}, {"enum", {type}}}},
      {"id", {{"type", "string"}}},
      {"attributes", schema_ref(type + "_attributes")},
      {"relationships", {{"type", "object"}, {"properties", std::move(relationships)}}},
      {"links", {{"type", "object"}, {"properties", {{"self", {{"type", "string"}}}}}}},
      {"meta", {{"type", "object"}, {"properties", {{"version", {{"type", "integer"}, {"format", "int64"}}}}}}}};
  return {{"type", "object"}, {"required", {"type", "id", "attributes"}}, {"properties", std::move(properties)}};
}

ordered_json error_document_schema() {
  ordered_json source = {{"type", "object"},
                         {"properties",
                          {{"pointer", {{"type", "string"}, {"description", "a JSON pointer into the body"}}},
                           {"parameter", {{"type", "string"}, {"description", "the query parameter"}}},
                           {"header", {{"type", "string"}, {"description", "the request header"}}}}}};
  ordered_json error = {{"type", "object"},
                        {"required", {"status", "code", "title"}},
                        {"properties",
                         {{"status", {{"type", "string"}}},
                          {"code", {{"type", "string"}}},
                          {"title", {{"type", "string"}}},
                          {"detail", {{"type", "string"}}},
                          {"source", std::move(source)}}}};
  return {{"type", "object"},
          {"required", {"errors"}},
          {"properties", {{"errors", {{"type", "array"}, {"minItems", 1}, {"items", std::move(error)}}}}}};
}

ordered_json included_schema(const Api& api, const Domain& domain) {
  ordered_json any = ordered_json::array();
  for (const auto& r : domain.resources()) any.push_back(schema_ref(type_of(api, r)));
  return {{"type", "array"}, {"items", {{"oneOf", std::move(any)}}}};
}

ordered_json links_schema(bool pages) {
  ordered_json properties = {{"self", {{"type", "string"}}}};
  if (pages) {
    properties["next"] = {{"type", "string"}, {"description", "the page after this one (page[after])"}};
    properties["prev"] = {{"type", "string"}, {"description", "the page before this one (page[before])"}};
  }
  return {{"type", "object"}, {"properties", std::move(properties)}};
}

// The body of a post or patch with `action`: its accepted attributes and public arguments
// in `attributes` (a create's required ones required), a belongs_to whose attribute it
// accepts (or an argument named as a relationship) in `relationships`.
ordered_json record_body_schema(const Api& api, const Domain& domain, const Resource& resource,
                                const Action& action) {
  bool create = action.type == ActionType::create;
  ordered_json properties = ordered_json::object(), relationships = ordered_json::object();
  std::vector<std::string> required;
  for (const auto& name : action.accept) {
    const Attribute& a = *resource.attribute(name);
    properties[name] = type_schema(a.type, a.constraints, a.allow_nil);
    if (create && !a.allow_nil && !a.has_default() && a.timestamp == Timestamp::none) required.push_back(name);
  }
  for (const auto& arg : action.arguments) {
    if (!arg.is_public) continue;
    ordered_json schema = type_schema(arg.type, arg.constraints, arg.allow_nil);
    if (arg.sensitive) schema["writeOnly"] = true;
    properties[arg.name] = std::move(schema);
    if (!arg.allow_nil && arg.default_value.is_null()) required.push_back(arg.name);
  }
  for (const auto& rel : resource.relationships()) {
    bool via_attribute = rel.kind == RelationshipKind::belongs_to && !rel.manual && !rel.no_attributes &&
                         action.accepts(rel.source_attribute);
    if (via_attribute || action.argument(rel.name))
      relationships[rel.name] = {{"type", "object"}, {"required", {"data"}},
                                 {"properties", {{"data", linkage_schema(api, domain, rel)}}}};
  }
  ordered_json attributes = {{"type", "object"}, {"additionalProperties", false}, {"properties", std::move(properties)}};
  if (!required.empty()) attributes["required"] = required;
  std::string type = type_of(api, resource);
  ordered_json data = {{"type", "object"},
                       {"required", {"type"}},
                       {"properties",
                        {{"type", {{"type", "string"}, {"enum", {type}}}},
                         {"id", {{"type", "string"}, {"description", "for a patch, the id in the URL"}}},
                         {"attributes", std::move(attributes)},
                         {"relationships", {{"type", "object"}, {"additionalProperties", false},
                                            {"properties", std::move(relationships)}}}}}};
  return {{"type", "object"}, {"required", {"data"}}, {"properties", {{"data", std::move(data)}}}};
}

// A generic action's body: its public arguments as the members of `data`.
ordered_json arguments_body_schema(const Action& action) {
  ordered_json properties = ordered_json::object();
  std::vector<std::string> required;
  for (const auto& arg : action.arguments) {
    if (!arg.is_public) continue;
    properties[arg.name] = type_schema(arg.type, arg.constraints, arg.allow_nil);
    if (!arg.allow_nil && arg.default_value.is_null()) required.push_back(arg.name);
  }
  ordered_json data = {{"type", "object"}, {"additionalProperties", false}, {"properties", std::move(properties)}};
  if (!required.empty()) data["required"] = required;
  return {{"type", "object"}, {"required", {"data"}}, {"properties", {{"data", std::move(data)}}}};
}

ordered_json content(const ordered_json& schema, const char* media = kJsonApi) {
  return {{media, {{"schema", schema}}}};
}

ordered_json document_schema(ordered_json data, ordered_json links = nullptr, ordered_json included = nullptr) {
  ordered_json properties = {{"data", std::move(data)}};
  if (!included.is_null()) properties["included"] = std::move(included);
  if (!links.is_null()) properties["links"] = std::move(links);
  return {{"type", "object"}, {"required", {"data"}}, {"properties", std::move(properties)}};
}

ordered_json success(const std::string& description, const ordered_json& schema, bool etag = false) {
  ordered_json out = {{"description", description}, {"content", content(schema)}};
  if (etag)
    out["headers"] = {{"ETag", {{"description", "the record's version in quotes, for If-Match"},
                                {"schema", {{"type", "string"}}}}}};
  return out;
}

// The error statuses a route kind answers, each the JSON:API error document.
std::vector<int> error_statuses(RouteKind kind) {
  switch (kind) {
    case RouteKind::get:
    case RouteKind::related: return {400, 401, 403, 404};
    case RouteKind::index: return {400, 401, 403};
    case RouteKind::post: return {400, 401, 403, 409, 413, 415, 422, 503};
    case RouteKind::patch:
    case RouteKind::destroy: return {400, 401, 403, 404, 409, 413, 415, 422, 503};
    case RouteKind::route: return {400, 401, 403, 404, 409, 413, 415, 422, 503};
  }
  return {};
}

ordered_json parameter(const char* in, const std::string& name, const std::string& description, ordered_json schema,
                       bool required = false) {
  ordered_json out = {{"name", name}, {"in", in}, {"description", description}, {"schema", std::move(schema)}};
  if (required) out["required"] = true;
  return out;
}

ordered_json parameters(const Api& api, const Domain& domain, const ServerOptions& options) {
  ordered_json string = {{"type", "string"}};
  ordered_json out = {
      {"id", parameter("path", "id", "the record's primary key", string, true)},
      {"include", parameter("query", "include", "relationship paths to include, comma-separated: representative.tickets", string)},
      {"filter", parameter("query", "filter", "a filter expression over the public attributes, as the command line takes: severity >= 3 and status == :open", string)},
      {"sort", parameter("query", "sort", "comma-separated public fields, - for descending: -opened_at,priority", string)},
      {"page_limit", parameter("query", "page[limit]", "records per page",
                               {{"type", "integer"}, {"minimum", 1}, {"maximum", options.max_page},
                                {"default", options.default_page}})},
      {"page_offset", parameter("query", "page[offset]", "records to skip (after page[after], when given)",
                                {{"type", "integer"}, {"minimum", 0}, {"default", 0}})},
      {"page_after", parameter("query", "page[after]", "the page after this cursor (a links.next)", string)},
      {"page_before", parameter("query", "page[before]", "the page before this cursor (a links.prev)", string)},
      {"if_match", parameter("header", "If-Match", "the record's version as its ETag (\"3\"): 409 when it is no longer", string)},
      {"idempotency_key", parameter("header", "Idempotency-Key", "a retry with the same key returns the first call's result", string)},
      {"x_tenant", parameter("header", "X-Tenant", "the tenant of a multitenant resource's records", string)},
      {"from", parameter("query", "from", "the first log position to send", {{"type", "integer"}, {"minimum", 1}})},
      {"events_resource", parameter("query", "resource", "only this resource's events", string)},
      {"events_tenant", parameter("query", "tenant", "only this tenant's events", string)},
      {"last_event_id", parameter("header", "Last-Event-ID", "resume after this position", string)}};
  for (const auto& r : domain.resources()) {
    std::string type = type_of(api, r);
    out["fields_" + type] = parameter("query", "fields[" + type + "]",
                                      "the attributes, aggregates and calculations of " + type + " records to return",
                                      string);
  }
  return out;
}

ordered_json responses() {
  ordered_json out = ordered_json::object();
  for (int status : {400, 401, 403, 404, 409, 413, 415, 422, 503})
    out["error_" + std::to_string(status)] = {{"description", reason(status)},
                                              {"content", content(schema_ref("errors"))}};
  return out;
}

struct Builder {
  const Domain& domain;
  const Api& api;
  bool tenants = false;  // the domain has a multitenant resource: X-Tenant is a parameter

  ordered_json read_parameters(RouteKind kind) const {
    ordered_json out = ordered_json::array();
    if (kind != RouteKind::index) out.push_back(ref("parameters", "id"));
    out.push_back(ref("parameters", "include"));
    for (const auto& r : domain.resources()) out.push_back(ref("parameters", "fields_" + type_of(api, r)));
    if (kind == RouteKind::index)
      for (const char* name : {"filter", "sort", "page_limit", "page_offset", "page_after", "page_before"})
        out.push_back(ref("parameters", name));
    return out;
  }

  ordered_json parameters_of(RouteKind kind) const {
    ordered_json out = ordered_json::array();
    if (kind == RouteKind::get || kind == RouteKind::index || kind == RouteKind::related) out = read_parameters(kind);
    if (kind == RouteKind::patch || kind == RouteKind::destroy) {
      out.push_back(ref("parameters", "id"));
      out.push_back(ref("parameters", "if_match"));
    }
    if (kind == RouteKind::post || kind == RouteKind::patch || kind == RouteKind::destroy || kind == RouteKind::route)
      out.push_back(ref("parameters", "idempotency_key"));
    if (tenants) out.push_back(ref("parameters", "x_tenant"));
    return out;
  }

  ordered_json record_document(const std::string& type) const {
    return document_schema(schema_ref(type), links_schema(false), schema_ref("included"));
  }

  ordered_json success_of(const ResourceRoutes& routes, const Resource& resource, const Route& route) const {
    const std::string& type = routes.type();
    switch (route.kind) {
      case RouteKind::get: return success("the record", record_document(type), true);
      case RouteKind::index:
        return success("a page of records",
                       document_schema({{"type", "array"}, {"items", schema_ref(type)}}, links_schema(true),
                                       schema_ref("included")));
      case RouteKind::post: {
        ordered_json out = success("the created record", record_document(type), true);
        out["headers"]["Location"] = {{"description", "the record's URL"}, {"schema", {{"type", "string"}}}};
        return out;
      }
      case RouteKind::patch: return success("the updated record", record_document(type), true);
      case RouteKind::destroy: return success("the record as it was", record_document(type), true);
      case RouteKind::related: {
        const Relationship& rel = *resource.relationship(route.relationship);
        std::string related = type_of(api, *domain.resource(rel.destination));
        ordered_json data = rel.to_one() ? ordered_json{{"anyOf", {schema_ref(related), null_schema()}}}
                                         : ordered_json{{"type", "array"}, {"items", schema_ref(related)}};
        return success("the related records", document_schema(std::move(data), links_schema(false), schema_ref("included")));
      }
      case RouteKind::route: {
        const Action& action = *resource.action(route.action);
        ordered_json data = action.returns ? type_schema(*action.returns) : null_schema();
        return success("the action's result", document_schema(std::move(data)));
      }
    }
    return {};
  }

  std::string operation_id(const ResourceRoutes& routes, const Route& route) const {
    switch (route.kind) {
      case RouteKind::get: return routes.type() + "_get";
      case RouteKind::index: return routes.type() + "_index";
      case RouteKind::post: return routes.type() + "_post";
      case RouteKind::patch: return routes.type() + "_patch";
      case RouteKind::destroy: return routes.type() + "_delete";
      case RouteKind::related: return routes.type() + "_related_" + route.relationship;
      case RouteKind::route: return routes.type() + "_run_" + route.action;
    }
    return {};
  }

  ordered_json operation(const ResourceRoutes& routes, const Resource& resource, const Route& route) const {
    const Action& action = *resource.action(route.action);
    ordered_json op = {{"operationId", operation_id(routes, route)},
                       {"tags", {routes.type()}},
                       {"summary", resource.name() + "." + action.name + " (" + to_string(action.type) + ")"}};
    ordered_json params = parameters_of(route.kind);
    if (!params.empty()) op["parameters"] = std::move(params);
    if (route.kind == RouteKind::post || route.kind == RouteKind::patch)
      op["requestBody"] = {{"required", true}, {"content", content(record_body_schema(api, domain, resource, action))}};
    bool has_arguments = std::any_of(action.arguments.begin(), action.arguments.end(),
                                     [](const Argument& a) { return a.is_public; });
    if (route.kind == RouteKind::destroy && has_arguments)  // its arguments, optional as the body is
      op["requestBody"] = {{"required", false}, {"content", content(record_body_schema(api, domain, resource, action))}};
    if (route.kind == RouteKind::route && route.method != "GET")
      op["requestBody"] = {{"required", false}, {"content", content(arguments_body_schema(action))}};
    ordered_json answers = {{route.kind == RouteKind::post ? "201" : "200", success_of(routes, resource, route)}};
    for (int status : error_statuses(route.kind)) answers[std::to_string(status)] = ref("responses", "error_" + std::to_string(status));
    op["responses"] = std::move(answers);
    return op;
  }

  static std::pair<std::string, std::string> where(const ResourceRoutes& routes, const Route& route) {
    const std::string& base = routes.base();
    switch (route.kind) {
      case RouteKind::get: return {base + "/{id}", "get"};
      case RouteKind::index: return {base, "get"};
      case RouteKind::post: return {base, "post"};
      case RouteKind::patch: return {base + "/{id}", "patch"};
      case RouteKind::destroy: return {base + "/{id}", "delete"};
      case RouteKind::related: return {base + "/{id}/" + route.relationship, "get"};
      case RouteKind::route: {
        std::string method = route.method;
        for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return {base + route.path, method};
      }
    }
    return {};
  }

  ordered_json paths() const {
    ordered_json out = ordered_json::object();
    for (const auto& routes : api.resources()) {
      const Resource& resource = *domain.resource(routes.resource());
      for (const auto& route : routes.routes()) {
        auto [path, method] = where(routes, route);
        out[path][method] = operation(routes, resource, route);
      }
    }
    ordered_json events = {{"operationId", "events"},
                           {"tags", {"events"}},
                           {"summary", "the log as Server-Sent Events: catch up, then follow live"},
                           {"parameters", {ref("parameters", "from"), ref("parameters", "events_resource"),
                                           ref("parameters", "events_tenant"), ref("parameters", "last_event_id")}},
                           {"responses",
                            {{"200", {{"description", "each event as `ashlar log --json` prints it, id: its position"},
                                      {"content", content({{"type", "string"}}, "text/event-stream")}}},
                             {"400", ref("responses", "error_400")},
                             {"401", ref("responses", "error_401")},
                             {"403", ref("responses", "error_403")},
                             {"503", ref("responses", "error_503")}}}};
    if (tenants) events["parameters"].push_back(ref("parameters", "x_tenant"));
    out["/events"]["get"] = std::move(events);
    out["/openapi.json"]["get"] = {
        {"operationId", "openapi"},
        {"tags", {"meta"}},
        {"summary", "this document"},
        {"responses", {{"200", {{"description", "the OpenAPI document"},
                                {"content", content({{"type", "object"}}, "application/json")}}}}}};
    return out;
  }
};

}  // namespace

ordered_json openapi_document(const Domain& domain, const Api& api, const ServerOptions& options,
                              std::uint64_t model_version) {
  Builder builder{domain, api};
  ordered_json schemas = ordered_json::object();
  for (const auto& r : domain.resources()) {
    std::string type = type_of(api, r);
    builder.tenants = builder.tenants || r.multitenancy().strategy != Multitenancy::none;
    schemas[type] = resource_object_schema(api, domain, r);
    schemas[type + "_attributes"] = attributes_schema(domain, r);
  }
  schemas["included"] = included_schema(api, domain);
  schemas["errors"] = error_document_schema();
  ordered_json paths = builder.paths();
  return {{"openapi", "3.0.3"},
          {"info", {{"title", domain.name()},
                    {"description", "The JSON:API of the " + domain.name() + " domain, generated from its resources "
                                    "and routes. Bodies are " + kJsonApi + "; errors are JSON:API error documents."},
                    {"version", std::to_string(model_version)}}},
          {"paths", std::move(paths)},
          {"components", {{"schemas", std::move(schemas)},
                          {"parameters", parameters(api, domain, options)},
                          {"responses", responses()}}}};
}

}  // namespace ashlar::http
