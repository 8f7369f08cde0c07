#pragma once
// A request's query parameters and body, as the engine's query and inputs.

#include "document.hpp"
#include "errors.hpp"

#include <ashlar/http/server.hpp>

#include <map>
#include <optional>
#include <string>

namespace ashlar::http {

using Params = std::multimap<std::string, std::string>;

// What a GET asks for beyond the action: include, fields[TYPE], and for an index filter,
// sort, page[limit], page[after] and page[before].
struct ReadParams {
  Query query{};  // filter, sort, limit, after, load
  DocumentShape shape{};
};

// Reads the parameters of a GET of `resource` (index: the paging and filtering ones too).
// A 400 error pointing at the parameter when one is malformed or names something the
// resource does not have.
std::optional<Failure> parse_read_params(const Params& params, const Api& api, const Domain& domain,
                                         const Resource& resource, bool index, const ServerOptions& options,
                                         ReadParams& out);

// The inputs of a post or patch: `data.attributes` as they are, and each of
// `data.relationships` as the action's argument of that name (an id, or a list of ids),
// or else a belongs_to's attribute (noted in `renamed`: attribute → relationship). 400 for
// a body that is not a JSON:API document with a `data` object, 409 when its type (or a
// patch's id) is not the route's.
std::optional<Failure> parse_record_body(std::string_view body, const ResourceRoutes& routes,
                                         const Resource& resource, const Action& action,
                                         const std::string* id, Fields& inputs,
                                         std::map<std::string, std::string>& renamed);

// A generic action's arguments: the members of the body's `data` object (an empty body:
// none). 400 for anything else.
std::optional<Failure> parse_arguments_body(std::string_view body, Fields& args);

// The primary key `text` names, cast to the resource's key type; nullopt when it cannot be
// one (a 404: no record has it).
std::optional<Value> parse_id(const Resource& resource, const std::string& text);

// An If-Match header: "\"3\"" → 3. Nullopt for an absent header or "*"; a 400 failure for
// anything else.
std::optional<Failure> parse_if_match(const std::string& header, std::optional<std::uint64_t>& version);

// Percent-encodes a query parameter's value.
std::string url_encode(std::string_view text);

}  // namespace ashlar::http
