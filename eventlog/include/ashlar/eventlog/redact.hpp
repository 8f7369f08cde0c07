#pragma once
// An event's bytes for a reader that may not see some of its values: the same event
// with those attributes' values null and their names in the event's `redacted` list
// (eventlog/schema/event.capnp). The stored bytes, and so the hash chain, are untouched.

#include <ashlar/model/export.hpp>
#include <ashlar/model/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ashlar {

// `bytes` (an event as stored) re-encoded with the values of `attributes` in its key,
// changes and inputs set to null, and `redacted` naming those of them it carried. The
// result holds nothing of a withheld value, not even its length. decode_error ("event
// does not decode: ...") for bytes that are not an event.
ASHLAR_API Result<std::string> redact_event(std::string_view bytes, const std::vector<std::string>& attributes);

}  // namespace ashlar
