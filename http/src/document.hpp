#pragma once
// Records as JSON:API resource objects, and the `included` records of a document.

#include <ashlar/http/server.hpp>
#include <ashlar/query.hpp>
#include <ashlar/record.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ashlar::http {

// How records are written: the routes (types and links) and the sparse fieldsets
// (type → the attributes, aggregates and calculations to write; a type absent: all its
// public attributes).
struct DocumentShape {
  const Api* api = nullptr;
  std::map<std::string, std::set<std::string>> fields{};
};

// The JSON:API type of a resource's records: its routes' type, or its snake_case name.
std::string type_of(const Api& api, const Resource& resource);
// A primary key as the resource object's id: strings as they are, uuids canonical,
// numbers in decimal.
std::string id_text(const Value& id);

// {"type", "id", "attributes", "relationships", "links"}. Sensitive and private attributes
// and the primary key are never attributes. A relationship's `data` (resource linkage)
// is written when it was loaded, and for a belongs_to from its attribute; its
// `links.related` when the resource has a related route for it. `meta.version` is the
// record's version, as its ETag.
nlohmann::ordered_json resource_object(const DocumentShape& shape, const Record& record);

// Every record the loads reached, each once, in the order first reached.
nlohmann::ordered_json included(const DocumentShape& shape, const std::vector<Record>& records,
                                const std::vector<Load>& loads);

}  // namespace ashlar::http
