#pragma once
// A record as `ashlar query` prints it, with what its query loaded. The JSON shape is a
// contract scripts rely on:
//
//   {"<attribute>": value, ...,          every attribute, in declaration order
//    "<aggregate>": value, ...,          each loaded aggregate, in load order
//    "<relationship>": {...} | null | [{...}, ...]}   each loaded relationship, nested:
//                                        an object or null when to-one, an array when to-many
//
// Values encode as value_to_json does; sensitive attributes print as kRedacted, at every
// level of nesting.

#include <ashlar/query.hpp>
#include <ashlar/record.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ashlar::cli {

// `loads` is the query's load tree (Query::load): it names the aggregates and
// relationships to print, and the loads nested in each.
nlohmann::ordered_json record_to_json(const Record& record, const std::vector<Load>& loads);

// One line per record: `Ticket {id: ..., subject: "Printer on fire", ...}`, then one line
// per related record, indented two more spaces per level and led by the relationship's
// name: `  representative: Representative {...}`. An empty load prints
// `  tickets: []`, a missing to-one `  representative: nil`.
std::vector<std::string> record_to_text(const Record& record, const std::vector<Load>& loads);

}  // namespace ashlar::cli
