#include "handlers.hpp"

#include <ashlar/model/json.hpp>

namespace ashlar::http {

using nlohmann::ordered_json;

Reply reply(const Failure& failure) {
  return {failure.status, ordered_json{{"errors", failure.errors}}.dump(-1, ' ', false, ordered_json::error_handler_t::replace)};
}

namespace {

// Text that is not UTF-8 (an id from the URL, a string stored before the engine refused
// such text) is written with U+FFFD in its place rather than failing the reply.
Reply document(int status, const ordered_json& doc) {
  return {status, doc.dump(-1, ' ', false, ordered_json::error_handler_t::replace)};
}

Reply record_reply(int status, const DocumentShape& shape, const Record& record, const std::vector<Load>& loads) {
  ordered_json doc = {{"data", resource_object(shape, record)}};
  if (!loads.empty()) doc["included"] = included(shape, {record}, loads);
  Reply out = document(status, doc);
  out.headers["ETag"] = "\"" + std::to_string(record.version()) + "\"";
  return out;
}

Failure no_record(const Call& call) {
  return failure(404, codes::kNotFound, "no " + call.resource.name() + " has the id \"" + call.id + "\"");
}

// The request's query string with page[after], page[before] and page[offset] replaced by
// `key` set to `value` (a cursor, or an offset), for links.next and links.prev.
std::string page_link(const Call& call, const char* key, const std::string& value) {
  std::string query;
  for (const auto& [name, given] : call.params)
    if (name != "page[after]" && name != "page[before]" && name != "page[offset]")
      query += (query.empty() ? "" : "&") + url_encode(name) + "=" + url_encode(given);
  query += (query.empty() ? "" : "&") + url_encode(key) + "=" + url_encode(value);
  return call.routes.base() + "?" + query;
}

std::string self_link(const Call& call) {
  std::string query;
  for (const auto& [key, value] : call.params)
    query += (query.empty() ? "" : "&") + url_encode(key) + "=" + url_encode(value);
  return call.info.path + (query.empty() ? "" : "?" + query);
}

Reply get(const Context& c, const Call& call) {
  ReadParams rp{.shape = {.api = &c.api}};
  if (auto failed = parse_read_params(call.params, c.api, c.engine.domain(), call.resource, false, c.options, rp))
    return reply(*failed);
  auto id = parse_id(call.resource, call.id);
  if (!id) return reply(no_record(call));
  rp.query.action = call.route.action;
  rp.query.actor = call.actor;
  rp.query.tenant = call.tenant;
  auto record = c.engine.get(call.resource.name(), *id, rp.query);
  if (!record) return reply(from_error(record.error(), false));
  return record_reply(200, rp.shape, *record, rp.query.load);
}

Reply index(const Context& c, const Call& call) {
  ReadParams rp{.shape = {.api = &c.api}};
  if (auto failed = parse_read_params(call.params, c.api, c.engine.domain(), call.resource, true, c.options, rp))
    return reply(*failed);
  rp.query.action = call.route.action;
  rp.query.actor = call.actor;
  rp.query.tenant = call.tenant;
  // One record past the page tells whether another page follows it (precedes it, backwards).
  std::size_t limit = *rp.query.limit;
  bool backwards = !rp.query.before.empty();
  rp.query.limit = limit + 1;
  auto records = c.engine.read(call.resource.name(), rp.query);
  if (!records) return reply(from_error(records.error(), false));
  bool more = records->size() > limit;
  if (more) records->erase(backwards ? records->begin() : records->end() - 1);
  ordered_json data = ordered_json::array();
  for (const auto& r : *records) data.push_back(resource_object(rp.shape, r));
  ordered_json doc = {{"data", std::move(data)}};
  if (!rp.query.load.empty()) doc["included"] = included(rp.shape, *records, rp.query.load);
  ordered_json links = {{"self", self_link(call)}};
  if (!records->empty() && !records->front().cursor().empty()) {
    // Backwards, the page's cursor itself follows it; forwards, page[after]'s precedes it.
    if (backwards || more) links["next"] = page_link(call, "page[after]", records->back().cursor());
    if (backwards ? more : !rp.query.after.empty() || rp.query.offset > 0)
      links["prev"] = page_link(call, "page[before]", records->front().cursor());
  } else if (!records->empty()) {  // no cursors (the read's sort has a hidden attribute): offsets
    std::size_t offset = rp.query.offset;
    if (more) links["next"] = page_link(call, "page[offset]", std::to_string(offset + limit));
    if (offset > 0) links["prev"] = page_link(call, "page[offset]", std::to_string(offset - std::min(offset, limit)));
  }
  doc["links"] = std::move(links);
  return document(200, doc);
}

// The call options of a write: the action, the actor, the Idempotency-Key header.
CallOptions write_options(const Call& call) {
  return {.action = call.route.action,
          .actor = call.actor,
          .tenant = call.tenant,
          .idempotency_key = call.info.header("Idempotency-Key")};
}

Reply post(const Context& c, const Call& call) {
  const Action& action = *call.resource.action(call.route.action);
  Fields inputs;
  std::map<std::string, std::string> renamed;
  if (auto failed = parse_record_body(call.body, call.routes, call.resource, action, nullptr, inputs, renamed))
    return reply(*failed);
  auto record = c.engine.create(call.resource.name(), inputs, write_options(call));
  if (!record) return reply(from_error(record.error(), true, &call.resource, "/data/attributes/", renamed, &action));
  Reply out = record_reply(201, {.api = &c.api}, *record, {});
  out.headers["Location"] = call.routes.base() + "/" + id_text(record->id());
  return out;
}

Reply patch(const Context& c, const Call& call) {
  const Action& action = *call.resource.action(call.route.action);
  CallOptions options = write_options(call);
  if (auto failed = parse_if_match(call.info.header("If-Match"), options.expected_version)) return reply(*failed);
  Fields inputs;
  std::map<std::string, std::string> renamed;
  if (auto failed = parse_record_body(call.body, call.routes, call.resource, action, &call.id, inputs, renamed))
    return reply(*failed);
  auto id = parse_id(call.resource, call.id);
  if (!id) return reply(no_record(call));
  auto record = c.engine.update(call.resource.name(), *id, inputs, options);
  if (!record) return reply(from_error(record.error(), true, &call.resource, "/data/attributes/", renamed, &action));
  return record_reply(200, {.api = &c.api}, *record, {});
}

// A body is optional: the destroy action's arguments, as a patch gives its attributes.
Reply destroy(const Context& c, const Call& call) {
  const Action& action = *call.resource.action(call.route.action);
  CallOptions options = write_options(call);
  if (auto failed = parse_if_match(call.info.header("If-Match"), options.expected_version)) return reply(*failed);
  Fields inputs;
  std::map<std::string, std::string> renamed;
  if (call.body.find_first_not_of(" \t\r\n") != std::string::npos)
    if (auto failed = parse_record_body(call.body, call.routes, call.resource, action, &call.id, inputs, renamed))
      return reply(*failed);
  auto id = parse_id(call.resource, call.id);
  if (!id) return reply(no_record(call));
  auto record = c.engine.destroy(call.resource.name(), *id, inputs, options);
  if (!record) return reply(from_error(record.error(), true, &call.resource, "/data/attributes/", renamed, &action));
  return record_reply(200, {.api = &c.api}, *record, {});
}

Reply related(const Context& c, const Call& call) {
  const Relationship& rel = *call.resource.relationship(call.route.relationship);
  const Resource& destination = *c.engine.domain().resource(rel.destination);
  ReadParams rp{.shape = {.api = &c.api}};
  if (auto failed = parse_read_params(call.params, c.api, c.engine.domain(), destination, false, c.options, rp))
    return reply(*failed);
  auto id = parse_id(call.resource, call.id);
  if (!id) return reply(no_record(call));
  Query query{.action = call.route.action,
              .load = {Load(rel.name, {.load = rp.query.load})},
              .actor = call.actor,
              .tenant = call.tenant};
  auto record = c.engine.get(call.resource.name(), *id, query);
  if (!record) return reply(from_error(record.error(), false));
  const auto& records = record->related(rel.name);
  ordered_json data = ordered_json::array();
  for (const auto& r : records) data.push_back(resource_object(rp.shape, r));
  if (rel.to_one()) data = records.empty() ? ordered_json(nullptr) : ordered_json(data.front());
  ordered_json doc = {{"data", std::move(data)}};
  if (!rp.query.load.empty()) doc["included"] = included(rp.shape, records, rp.query.load);
  doc["links"] = {{"self", self_link(call)}};
  return document(200, doc);
}

Reply generic(const Context& c, const Call& call) {
  Fields args;
  if (auto failed = parse_arguments_body(call.body, args)) return reply(*failed);
  auto result = c.engine.run_action(call.resource.name(), call.route.action, args, write_options(call));
  if (!result) return reply(from_error(result.error(), true, nullptr, "/data/", {}, call.resource.action(call.route.action)));
  return document(200, ordered_json{{"data", value_to_json(*result)}});
}

}  // namespace

Reply handle(const Context& context, const Call& call) {
  switch (call.route.kind) {
    case RouteKind::get: return get(context, call);
    case RouteKind::index: return index(context, call);
    case RouteKind::post: return post(context, call);
    case RouteKind::patch: return patch(context, call);
    case RouteKind::destroy: return destroy(context, call);
    case RouteKind::related: return related(context, call);
    case RouteKind::route: return generic(context, call);
  }
  return reply(failure(500, codes::kUnknown, "the server could not complete the request"));
}

}  // namespace ashlar::http
