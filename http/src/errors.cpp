#include "errors.hpp"

#include <algorithm>

namespace ashlar::http {

using nlohmann::ordered_json;

const char* reason(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
  }
}

ordered_json error_object(int status, std::string_view code, std::string_view detail, const Source& source) {
  ordered_json out = {{"status", std::to_string(status)}, {"code", code}, {"title", reason(status)}};
  if (!detail.empty()) out["detail"] = detail;
  if (!source.pointer.empty()) out["source"] = {{"pointer", source.pointer}};
  if (!source.parameter.empty()) out["source"] = {{"parameter", source.parameter}};
  if (!source.header.empty()) out["source"] = {{"header", source.header}};
  return out;
}

Failure failure(int status, std::string_view code, std::string_view detail, const Source& source) {
  Failure out{status};
  out.errors.push_back(error_object(status, code, detail, source));
  return out;
}

namespace {

std::string field_pointer(const Resource* resource, std::string_view base, const std::map<std::string, std::string>& renamed,
                          const std::string& field) {
  if (auto it = renamed.find(field); it != renamed.end()) return "/data/relationships/" + it->second;
  if (resource && resource->relationship(field)) return "/data/relationships/" + field;
  return std::string(base) + field;
}

// The query parameter a read's field error is about (the engine names the Query member).
std::string parameter_of(const std::string& field) {
  if (field == "filter" || field == "sort") return field;
  if (field == "after") return "page[after]";
  if (field == "before") return "page[before]";
  if (field == "load") return "include";
  return {};
}

// The request header a field error is about: the call options HTTP takes from headers
// (unless the resource has an attribute, or the action an argument, of that name).
std::string header_of(const Resource* resource, const Action* action, const FieldError& f) {
  if (f.code == codes::kTenantRequired) return "X-Tenant";
  if ((resource && resource->attribute(f.field)) || (action && action->argument(f.field))) return {};
  if (f.field == "tenant") return "X-Tenant";
  if (f.field == "idempotency_key") return "Idempotency-Key";
  return {};
}

int status_of(const Error& error, bool write) {
  if (error.code == codes::kStoreFull || error.code == codes::kStoreGrew) return 503;
  switch (error.cls) {
    case ErrorClass::invalid:
      if (error.code == codes::kTenantRequired) return 400;
      return write ? 422 : 400;
    case ErrorClass::forbidden: return 403;
    case ErrorClass::not_found: return 404;
    case ErrorClass::conflict: return 409;
    default: return 500;
  }
}

}  // namespace

Failure from_error(const Error& error, bool write, const Resource* resource, std::string_view fields_pointer,
                   const std::map<std::string, std::string>& renamed, const Action* action) {
  int status = status_of(error, write);
  if (status >= 500) {
    // The message may name files, internals or a user's code; the status says enough.
    const char* detail = status == 503 ? "the store cannot take the write now; try again"
                                       : "the server could not complete the request";
    return failure(status, status == 503 ? error.code : std::string(codes::kUnknown), detail);
  }
  // What came in a header (the tenant, the idempotency key) is a malformed header when
  // it is refused, as an If-Match is: 400, pointing at the header.
  bool from_headers = !error.fields.empty() && error.cls == ErrorClass::invalid &&
                      std::all_of(error.fields.begin(), error.fields.end(),
                                  [&](const FieldError& f) { return !header_of(resource, action, f).empty(); });
  if (from_headers) status = 400;
  Failure out{status};
  for (const auto& field : error.fields) {
    Source source;
    source.header = header_of(resource, action, field);
    if (write && source.header.empty() && !field.field.empty())
      source.pointer = field_pointer(resource, fields_pointer, renamed, field.field);
    if (!write && source.header.empty()) source.parameter = parameter_of(field.field);
    std::string detail = field.field.empty() ? field.message : field.field + ": " + field.message;
    out.errors.push_back(error_object(status, field.code, detail, source));
  }
  if (out.errors.empty()) out.errors.push_back(error_object(status, error.code, error.message));
  return out;
}

}  // namespace ashlar::http
