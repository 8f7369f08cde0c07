#pragma once
// Order-preserving, self-delimiting byte encoding of key values, for LMDB keys:
// comparing encodings with memcmp orders like comparing the values, and a sequence of
// encoded values can be split without knowing the types.

#include <ashlar/model/export.hpp>
#include <ashlar/model/value.hpp>

#include <span>
#include <string>

namespace ashlar {

// Appends the encoding of `value` to `out`. Maps and arrays are not key values: the
// model's build() refuses them as primary keys; here they encode by their text form.
ASHLAR_API void append_key(std::string& out, const Value& value);
ASHLAR_API std::string encode_key(std::span<const Value> values);

// A record's key as messages show it: "8ba0ab56-…", "acme, HD-1" (strings bare, other
// values in their text form, comma-separated). A value longer than 120 bytes shows its
// first 100 and its length: "aaaa... (10013 bytes)".
ASHLAR_API std::string describe_key(std::span<const Value> key);
// Values as the filter language writes them: "\"HD-1\", 3" (identity values in messages).
ASHLAR_API std::string describe_values(std::span<const Value> values);

}  // namespace ashlar
