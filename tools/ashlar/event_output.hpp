#pragma once
// An event as the command line prints it: one readable line, or one JSON object (the
// shape of ashlar/eventlog/event_json.hpp, shared by log, history and subscribe). Values
// of attributes the model marks sensitive print as kRedacted in both.

#include <ashlar/eventlog/event_json.hpp>
#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/resource.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace ashlar::cli {

using ashlar::event_to_json;
using ashlar::json_line;
using ashlar::kRedacted;

// A value as the text output shows it: Value::str(), with strings quoted and escaped so
// that a newline in a value never splits a line.
std::string value_to_text(const Value& value);

// "3 2026-11-21T23:28:16.123456Z User.update (update) id=<uuid> v2
//  changes={age: 31, password: **redacted**} actor=nil": strings quoted and escaped, so
// one event is always one line.
std::string event_to_text(const Event& event, const Domain& domain);

}  // namespace ashlar::cli
