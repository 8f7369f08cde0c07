#pragma once
// JSON:API error objects and the HTTP status of each of ashlar's errors.

#include <ashlar/model/error.hpp>
#include <ashlar/model/resource.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace ashlar::http {

// A response that is an error document: {"errors": [...]}.
struct Failure {
  int status = 500;
  nlohmann::ordered_json errors = nlohmann::ordered_json::array();
};

// Where in the request an error points.
struct Source {
  std::string pointer{};    // JSON pointer into the body, e.g. "/data/attributes/subject"
  std::string parameter{};  // a query parameter, e.g. "filter"
  std::string header{};     // a header, e.g. "If-Match"
};

// One error object: status, code, title (the status's reason), detail, source.
nlohmann::ordered_json error_object(int status, std::string_view code, std::string_view detail,
                                    const Source& source = {});
Failure failure(int status, std::string_view code, std::string_view detail, const Source& source = {});

// What a call's error answers. A write's Invalid is 422 with one object per bad field,
// each pointing at `fields_pointer` + field (or /data/relationships/<name> when the field
// names a relationship of `resource`), as a Conflict's fields do (identity_taken); a
// read's Invalid (a bad filter, sort, include or cursor) is 400, pointing at the
// parameter. Forbidden 403, NotFound 404, Conflict 409; store_full and store_grew
// 503; Framework and Unknown 500 with a fixed detail: their messages stay in the server.
// `renamed` maps an input the body gave as a relationship (a belongs_to's attribute) to
// that relationship, so that its errors point at /data/relationships/<name>. An error of
// an option the request gives in a header (the tenant, the idempotency key) is a 400
// pointing at that header — unless the resource has an attribute, or `action` an argument,
// of that name.
Failure from_error(const Error& error, bool write, const Resource* resource = nullptr,
                   std::string_view fields_pointer = "/data/attributes/",
                   const std::map<std::string, std::string>& renamed = {}, const Action* action = nullptr);

// "Bad Request", "Not Found", ... for the statuses used here.
const char* reason(int status);

}  // namespace ashlar::http
