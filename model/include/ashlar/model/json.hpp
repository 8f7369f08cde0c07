#pragma once
// Values as JSON, the encoding the command line and the stored model use:
// uuid as its canonical string, utc_datetime as ISO 8601 (UTC, microseconds), date as
// YYYY-MM-DD, atom as its name, binary as base64, integers and floats as numbers, maps as
// objects, arrays as arrays, a field the actor may not read (Value::forbidden()) as
// {"$forbidden": true}.

#include <ashlar/model/export.hpp>
#include <ashlar/model/type.hpp>

#include <nlohmann/json.hpp>

namespace ashlar {

ASHLAR_API nlohmann::json value_to_json(const Value& value);

// Plain JSON to a Value, with no type to guide it: numbers, strings, booleans, objects
// (maps), arrays. Use cast_json to land on an attribute's type. An integer past int64's
// range is a float (as one past 2^64 is in JSON). Maps and arrays nested deeper than 64
// levels are cut there (empty): no stored value nests that deep (the log refuses more
// than 16 levels), so such a value is refused either way, without recursing through it.
ASHLAR_API Value value_from_json(const nlohmann::json& json);

// JSON to a value of `type` (binary from base64, uuids and times from strings).
ASHLAR_API CastResult cast_json(const Type& type, const nlohmann::json& json);

ASHLAR_API std::string base64_encode(std::string_view bytes);
ASHLAR_API std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ashlar
